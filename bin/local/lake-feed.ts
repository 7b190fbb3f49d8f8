import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { movementRecordedDetail, orderLineRecordedDetail } from '../../functions/events/model';
import { errorMessage } from '../../functions/platform/errors';
import { log } from '../../functions/platform/log';
import { entriesOf, lakeFeeds, type LakeFeedName, type LakeTable } from '../../functions/wiring';
import type { BusEvent, EventPattern, LocalBus } from './bus';
import { assertDt, assertTenantId, LocalLake, partitionDir, type CompactionResult, type LakeRecord } from './lake';

/**
 * The local stand-in for the EventBridge rule -> Firehose -> S3 path of the lake
 * (issue 9): per entry of functions/wiring.ts `lakeFeeds`, a bus rule with its
 * pattern hands every matching event's detail (MovementRecorded, OrderLineRecorded:
 * flat rows) to one LocalLake, which writes `<table>/tenant_id=<t>/dt=YYYY-MM-DD/*.parquet`
 * as Firehose would.
 *
 * - Buffering: rows wait in the lake's buffer and are written every
 *   `flushEveryMs` (2 s), one file per tenant-day touched; a row is in the lake
 *   within about 2 s of its event (the stream poller adds a few hundred ms), well
 *   inside the 10 s the reports promise. A failed flush keeps its rows and is tried
 *   again on the next tick.
 * - Compaction, off the hot path: every `compactEveryMs` (60 s) a sweep looks at
 *   the partitions written since the last sweep (the first sweep: every
 *   partition, so a restart picks up what an earlier run left) and compacts those
 *   holding more than `compactAboveFiles` (16) files. 16 keeps a report's file
 *   opens per tenant-day low while a busy day (30 files a minute at one flush
 *   each 2 s) is rewritten at most once a minute: compaction rewrites the whole
 *   day, so doing it more eagerly would multiply the bytes written. The lake runs
 *   flushes and compactions one at a time, so a flush may wait behind a
 *   compaction of one tenant-day (well under a second locally).
 * - Bad rows: a detail that does not parse, or that the lake refuses
 *   (LakeInputError), is logged and kept in `rejected` (Firehose's error output
 *   prefix plays this part in AWS); it never blocks the rows behind it.
 * - Delivery is at least once (EventBridge and the stream processor may repeat an
 *   event). The feed drops repeats of a movement it appended recently: the last
 *   `recentIds` (100,000) movement ids, whether still buffered or already
 *   flushed. What it cannot see is a repeat across a restart (the stream
 *   processor published, then died before writing its marker, and publishes again
 *   on the next start): that row is stored twice, in two files. Readers therefore
 *   dedupe on `movement_id` in SQL, as they must over Firehose's at-least-once
 *   output in AWS anyway (e.g. `QUALIFY row_number() OVER (PARTITION BY
 *   movement_id) = 1`, or a DISTINCT over the row).
 * - The opposite hazard: a process killed hard (SIGKILL, a crash) loses the rows
 *   still buffered (at most `flushEveryMs` of them), whose events the processor
 *   has already marked as published. `npm start` closes the feed on SIGINT/SIGTERM
 *   (a final flush) before DynamoDB Local stops.
 */

export const LAKE_FLUSH_EVERY_MS = 2000;
export const LAKE_COMPACT_EVERY_MS = 60_000;
export const LAKE_COMPACT_ABOVE_FILES = 16;
const RECENT_IDS = 100_000;
const DATA_FILE = /^[0-9A-HJKMNP-TV-Z]{26}\.parquet$/;

export interface LakeFeedOptions {
  /** The lake's root; `.data/lake/` by default (bin/local/lake.ts). */
  root?: string;
  flushEveryMs?: number;
  /** 0 turns the compaction timer off (`compactNow()` still sweeps). */
  compactEveryMs?: number;
  compactAboveFiles?: number;
  /** Narrows the feed's bus rule (e.g. to some tenants in tests), like startLocalConsumers. */
  narrow?: EventPattern;
  recentIds?: number;
}

export interface LakeFeedStats {
  received: number;
  appended: number;
  duplicates: number;
  rejected: number;
  flushFailures: number;
  compactions: number;
}

export interface LocalLakeFeed {
  readonly lake: LocalLake;
  readonly stats: LakeFeedStats;
  readonly rejected: { event_id: string | undefined; error: string }[];
  /** Writes what is buffered now (tests; the timer does it every `flushEveryMs`). */
  flush(): Promise<void>;
  /** One compaction sweep now (never two at once); resolves with what it merged. */
  compactNow(): Promise<CompactionResult[]>;
  /** Stops receiving, waits for a running sweep, writes what is buffered and closes the lake. */
  close(): Promise<void>;
}

/** How each feed's detail is parsed before it is a row: the event schemas of functions/events/model.ts. */
export const LAKE_FEED_DETAILS: { [F in LakeFeedName]: z.ZodType<LakeRecord> } = {
  movements: movementRecordedDetail,
  orders: orderLineRecordedDetail,
};

const listDir = (dir: string): Promise<string[]> => readdir(dir).catch(() => []);

const TABLES: readonly LakeTable[] = entriesOf(lakeFeeds).map(([, feed]) => feed.table);

/** Every tenant-day partition of every table under the root, as `<table>/<tenant>/<dt>` (names that are not partitions are skipped). */
const allPartitions = async (root: string): Promise<string[]> => {
  const out: string[] = [];
  for (const table of TABLES) {
    for (const tenantDir of await listDir(join(root, table))) {
      const tenant = tenantDir.startsWith('tenant_id=') ? tenantDir.slice('tenant_id='.length) : '';
      for (const dayDir of await listDir(join(root, table, tenantDir))) {
        const dt = dayDir.startsWith('dt=') ? dayDir.slice('dt='.length) : '';
        try {
          out.push(`${table}/${assertTenantId(tenant)}/${assertDt(dt)}`);
        } catch {
          // not a partition of ours
        }
      }
    }
  }
  return out;
};

export const startLakeFeed = async (bus: LocalBus, options: LakeFeedOptions = {}): Promise<LocalLakeFeed> => {
  const stats: LakeFeedStats = { received: 0, appended: 0, duplicates: 0, rejected: 0, flushFailures: 0, compactions: 0 };
  const rejected: { event_id: string | undefined; error: string }[] = [];
  const lake = await LocalLake.open({
    ...(options.root === undefined ? {} : { root: options.root }),
    flushEveryMs: options.flushEveryMs ?? LAKE_FLUSH_EVERY_MS,
    onError: (error) => {
      stats.flushFailures += 1;
      log.error('lake flush failed; its rows stay buffered for the next flush', { error: errorMessage(error), pending: lake.pending() });
    },
  });
  const compactAbove = options.compactAboveFiles ?? LAKE_COMPACT_ABOVE_FILES;
  const recentCap = options.recentIds ?? RECENT_IDS;
  /** `<table>/<tenant>/<row id>` of recent appends, oldest first. */
  const recent = new Set<string>();
  /** `<table>/<tenant>/<dt>` written since the last sweep; undefined until the first sweep has looked at every partition. */
  let dirty: Set<string> | undefined;
  const touched = new Set<string>();
  let sweeping: Promise<CompactionResult[]> | undefined;
  let closed = false;

  const reject = (event: BusEvent, error: string): void => {
    const detail = event.detail as { event_id?: unknown } | null;
    const eventId = typeof detail?.event_id === 'string' ? detail.event_id : undefined;
    stats.rejected += 1;
    rejected.push({ event_id: eventId, error });
    log.error('lake feed refused an event; it is not in the lake', { event_id: eventId, detail_type: event['detail-type'], error });
  };

  const receiver = (name: LakeFeedName) => {
    const feed = lakeFeeds[name];
    const schema = LAKE_FEED_DETAILS[name];
    return (event: BusEvent): void => {
      if (closed) return;
      stats.received += 1;
      const parsed = schema.safeParse(event.detail);
      if (!parsed.success) return reject(event, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const detail = parsed.data;
      const key = `${feed.table}/${String(detail.tenant_id)}/${String(detail[feed.rowId])}`;
      if (recent.has(key)) {
        stats.duplicates += 1;
        return;
      }
      try {
        lake.appendRecords(feed.table, [detail]);
      } catch (error) {
        return reject(event, errorMessage(error));
      }
      stats.appended += 1;
      recent.add(key);
      if (recent.size > recentCap) {
        const oldest = recent.values().next();
        if (!oldest.done) recent.delete(oldest.value);
      }
      touched.add(`${feed.table}/${String(detail.tenant_id)}/${String(detail[feed.partitionTime]).slice(0, 10)}`);
    };
  };

  const sweep = async (): Promise<CompactionResult[]> => {
    const candidates = dirty === undefined ? new Set([...(await allPartitions(lake.root)), ...touched]) : new Set([...dirty, ...touched]);
    touched.clear();
    dirty = new Set();
    const results: CompactionResult[] = [];
    for (const partition of candidates) {
      const [tableName = '', tenant = '', dt = ''] = partition.split('/');
      const table = TABLES.find((t) => t === tableName);
      if (!table) continue;
      try {
        const files = (await listDir(partitionDir(lake.root, tenant, dt, table))).filter((name) => DATA_FILE.test(name)).length;
        if (files <= compactAbove) continue;
        const result = await lake.compact(tenant, dt, table);
        stats.compactions += 1;
        results.push(result);
        log.info('lake partition compacted', { table, tenant_id: tenant, dt, files: result.files, rows: result.rows });
      } catch (error) {
        dirty.add(partition);
        log.error('lake compaction failed; tried again next sweep', { table, tenant_id: tenant, dt, error: errorMessage(error) });
      }
    }
    return results;
  };

  const compactNow = (): Promise<CompactionResult[]> => {
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };

  const compactEveryMs = options.compactEveryMs ?? LAKE_COMPACT_EVERY_MS;
  const timer =
    compactEveryMs > 0
      ? setInterval(() => {
          if (!closed && !sweeping) void compactNow();
        }, compactEveryMs)
      : undefined;
  timer?.unref();

  const unsubscribers = entriesOf(lakeFeeds).map(([name, feed]) =>
    bus.addRule({
      name: `lake-feed-${name}`,
      pattern: { ...feed.pattern, ...options.narrow },
      targets: [receiver(name)],
    }),
  );

  return {
    lake,
    stats,
    rejected,
    flush: () => lake.flush(),
    compactNow,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const unsubscribe of unsubscribers) unsubscribe();
      if (timer) clearInterval(timer);
      await sweeping;
      const pending = lake.pending();
      try {
        await lake.close();
      } catch (error) {
        log.error('lake feed: the final flush failed; buffered rows are lost', { pending, error: errorMessage(error) });
        throw error;
      }
      log.info('lake feed closed', { flushed_on_close: pending, ...stats });
    },
  };
};
