import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { findActiveAlert } from '../../functions/alerts/alerts';
import { findAlertState } from '../../functions/alerts/store';
import { putThresholds } from '../../functions/alerts/thresholds';
import { LocalBus, type BusEvent } from '../../bin/local/bus';
import { startLocalConsumers, type LocalConsumers } from '../../bin/local/queues';
import { createStreamPoller, memoryCheckpoints, type StreamPoller } from '../../bin/local/streams';
import { eventsFromRecord } from '../../functions/events/mapper';
import { processStream } from '../../functions/events/processor';
import type { Publisher } from '../../functions/events/publisher';
import { getSkuInventory, listMovements, updateStock } from '../../functions/inventory/stock';
import { eventConsumers } from '../../functions/wiring';
import { contextFor, stockOneSku, testDb } from '../support/domain';
import { isTenantRecord } from '../support/events';

/**
 * Fault: the stream poller crashes and restarts (issue 15, scope item 3). The local event source
 * mapping (bin/local/streams.ts) over the jest DynamoDB Local's real stream, the real processor
 * (markers in the table) and the real alert evaluator behind its local queue. A crash is the
 * poller dying in the middle of a batch, at one of the two points where it hurts:
 *
 * - after the processor published the batch's events and wrote their markers, before the poller
 *   checkpointed the batch: the replacement gets the batch again, and the markers keep it from
 *   publishing anything twice;
 * - after the events were published, before their markers were written: the replacement publishes
 *   those again (at least once, as documented), and consumers apply them once.
 *
 * The replacement is a new poller given the crashed one's checkpoints (memoryCheckpoints: in memory,
 * so this holds across a poller's restart within one process, not across a restart of npm start).
 */
const db = testDb();
const ctx = contextFor();
const tenantId = ctx.caller.tenantId;
const mine = (r: DynamoDBRecord): boolean => isTenantRecord(r, tenantId);
const seq = (r: DynamoDBRecord): bigint => BigInt(r.dynamodb!.SequenceNumber!);

const bus = new LocalBus({ maxLog: 100_000 });
const checkpoints = memoryCheckpoints();
/** Every publish of this tenant's events on the bus, by event id. */
const published = new Map<string, number>();
bus.subscribe({ detail: { tenant_id: [tenantId] } }, (event: BusEvent) => {
  const id = (event.detail as { event_id: string }).event_id;
  published.set(id, (published.get(id) ?? 0) + 1);
});

type Crash = 'after-markers' | 'after-publish';
interface Run {
  poller: StreamPoller;
  /** Every record this poller handed the processor (any tenant's), in order. */
  seen: DynamoDBRecord[];
  crashed: Promise<{ batch: DynamoDBRecord[]; publishedInCrash: string[]; stopped: Promise<void> }>;
}

let crashNext: Crash | undefined;
let consumers: LocalConsumers;
let current: Run | undefined;

const startPoller = async (): Promise<Run> => {
  const seen: DynamoDBRecord[] = [];
  let onCrash!: (c: Awaited<Run['crashed']>) => void;
  const crashed = new Promise<Awaited<Run['crashed']>>((resolve) => (onCrash = resolve));
  const run: Run = { poller: undefined as never, seen, crashed };
  const process = async (event: DynamoDBStreamEvent) => {
    seen.push(...event.Records);
    const own = { Records: event.Records.filter(mine) };
    if (own.Records.length === 0) return { batchItemFailures: [] };
    const crash = crashNext;
    // The second crash is meant to duplicate a level change: it waits for a batch that has one.
    const hasLevelChange = own.Records.some((r) => eventsFromRecord(r).some((e) => e['detail-type'] === 'StockLevelChanged'));
    if (!crash || (crash === 'after-publish' && !hasLevelChange)) return processStream({ db, publisher: bus.publisher() }, own);
    crashNext = undefined;
    const publishedInCrash: string[] = [];
    let publisher: Publisher = bus.publisher();
    if (crash === 'after-publish') {
      // The events reach the bus; the process dies before the processor can write their markers.
      publisher = {
        publish: async (events) => {
          await bus.publisher().publish(events);
          publishedInCrash.push(...events.map((e) => e.detail.event_id));
          throw new Error('crash: the poller died after publishing');
        },
      };
      await processStream({ db, publisher }, own).catch(() => undefined);
    } else {
      await processStream({ db, publisher }, own);
    }
    // The poller dies here: it stops taking batches and never checkpoints this one.
    const stopped = run.poller.stop();
    onCrash({ batch: event.Records, publishedInCrash, stopped });
    throw new Error(`crash (${crash})`);
  };
  run.poller = createStreamPoller({
    endpoint: globalThis.process.env.DYNAMODB_ENDPOINT!,
    tableName: globalThis.process.env.TABLE_NAME!,
    // The first poller starts at the stream's end (other test files have been writing); a replacement resumes from the checkpoints.
    startingPosition: 'LATEST',
    retryBaseMs: 50,
    checkpoints,
    process,
  });
  await run.poller.start();
  return run;
};

beforeAll(async () => {
  consumers = await startLocalConsumers(bus, {
    consumers: { evaluateAlerts: eventConsumers.evaluateAlerts },
    syncQueues: {},
    narrow: { detail: { tenant_id: [tenantId] } },
  });
});

afterAll(async () => {
  await current?.poller.stop().catch(() => undefined);
  await consumers.stop();
  db.client.destroy();
});

const sell = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await updateStock({ db, ctx }, { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 1 });
};

/** Crash the running poller in its next batch of this tenant's records (made by `write`), then write `meanwhile` while it is down. */
const crashDuring = async (crash: Crash, write: () => Promise<void>, meanwhile: () => Promise<void>) => {
  const run = current!;
  crashNext = crash;
  await write();
  const crashed = await run.crashed;
  await crashed.stopped;
  await meanwhile();
  return crashed;
};

test('a poller that crashes mid-batch is replaced by one that resumes from its checkpoint: every event published, none twice past its markers, and the alert evaluator applies each level change once', async () => {
  current = await startPoller();
  // Before any crash: a level, thresholds that put it in alert, sales.
  await stockOneSku(db, ctx, { 'wh-1': 50 });
  await putThresholds({ db, ctx }, { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 100, safety_stock: 0 });
  await sell(3);
  await current.poller.drain(30_000);
  const before = published.size;
  expect(before).toBeGreaterThan(0);

  // 1. Crash after the batch's events and markers are written, before its checkpoint.
  const first = await crashDuring('after-markers', () => sell(2), () => sell(2));
  const crashedRun = current;
  current = await startPoller();
  await current.poller.drain(30_000);
  // Resumed at the crashed batch, not at the stream's start nor its end.
  const firstOfBatch = seq(first.batch[0]!);
  expect(current.seen.length).toBeGreaterThan(0);
  expect(current.seen.some((r) => seq(r) === firstOfBatch)).toBe(true);
  expect(current.seen.every((r) => seq(r) >= firstOfBatch)).toBe(true);
  // What the crashed poller had checkpointed was not handed to the processor again.
  const checkpointed = crashedRun.seen.filter((r) => seq(r) < firstOfBatch).length;
  expect(checkpointed).toBeGreaterThan(0);
  expect([...published.values()].every((n) => n === 1)).toBe(true);

  // 2. Crash after publishing, before the markers.
  const second = await crashDuring('after-publish', () => sell(2), () => sell(1));
  expect(second.publishedInCrash.length).toBeGreaterThan(0);
  current = await startPoller();
  await sell(2);
  await current.poller.drain(30_000);
  await consumers.drain(30_000);

  // No event lost: one StockLevelChanged per level version, one MovementRecorded per ledger row.
  const [level] = (await getSkuInventory({ db, ctx }, 'sku-1')).levels;
  const versions = level!.version;
  expect(level).toMatchObject({ on_hand: 50 - 12, available: 50 - 12 });
  const levelEvents = [...published.keys()].filter((id) => id.startsWith('StockLevelChanged:')).sort();
  expect(levelEvents).toEqual(
    Array.from({ length: versions }, (_, i) => `StockLevelChanged:T#${tenantId}#STOCK#sku-1:wh-1:v${i + 1}`).sort(),
  );
  const movements = (await listMovements({ db, ctx }, 'sku-1', { limit: 100 })).movements;
  expect([...published.keys()].filter((id) => id.startsWith('MovementRecorded:'))).toHaveLength(movements.length);
  // Twice exactly what was published in the second crash, once everything else.
  const twice = [...published].filter(([, n]) => n > 1);
  expect(twice.map(([id]) => id).sort()).toEqual([...second.publishedInCrash].sort());
  expect(twice.every(([, n]) => n === 2)).toBe(true);

  // The evaluator was handed the duplicates (every publish of a StockLevelChanged reached its queue) ...
  const levelPublishes = [...published].filter(([id]) => id.startsWith('StockLevelChanged:')).reduce((n, [, k]) => n + k, 0);
  expect(second.publishedInCrash.some((id) => id.startsWith('StockLevelChanged:'))).toBe(true);
  expect(consumers.queues.evaluateAlerts!.stats).toMatchObject({ received: levelPublishes, deleted: levelPublishes });
  expect(levelPublishes).toBeGreaterThan(versions);
  // ... and applied every level change once: the alert opened with the thresholds (v2) and was updated once per later version.
  const alert = await findActiveAlert({ db, ctx }, 'sku-1', 'wh-1');
  expect(alert).toMatchObject({ status: 'open', level_version: versions, available: 38, version: versions - 1 });
  expect(await findAlertState({ db, ctx }, 'sku-1', 'wh-1')).toMatchObject({ last_version: versions });
  expect(consumers.queues.evaluateAlerts!.deadLetters).toEqual([]);
  expect(current.poller.deadLetters.filter((d) => mine(d.record))).toEqual([]);
});
