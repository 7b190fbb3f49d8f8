import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { Db } from '../platform/db';
import { errorMessage } from '../platform/errors';
import { keys, type Key } from '../platform/keys';
import { log, withLogContext } from '../platform/log';
import { batchGet, batchPut, StoredItemInvalid, type Decoder } from '../platform/storage';
import { TABLE } from '../platform/table';
import { eventsFromRecord, levelChangedFromSum, splitLevelChange, type LevelSum, type SplitLevelChange } from './mapper';
import { systemContext } from '../platform/context';
import { findLevel } from '../inventory/stock';
import type { DomainEvent } from './model';
import type { Publisher } from './publisher';
import { countMetric, METRIC_NAMES } from '../platform/metrics';

/**
 * The stream processor: DynamoDB stream batch -> domain events -> bus.
 * The Lambda handler (handlers/stream-processor.ts) calls this with
 * EventBridge; the local runtime (bin/local/streams.ts) with the in-process
 * bus. Same function, same event shape.
 *
 * Exactly once in the normal case, at least once always:
 *
 * 1. Map every record to events (pure; ids come from the item's key and
 *    version, so a redelivered record gives the same ids).
 * 2. Read the events' markers (strongly consistent batch reads, their
 *    unprocessed parts retried by platform/storage.ts): an event with a
 *    marker was published before and is skipped.
 * 3. Publish the rest, in stream order, stopping at the first failure.
 * 4. Only then write a marker per published event (`T#<tenant>#EVENT#<id>`,
 *    sk `PUBLISHED`, entity `event_marker`, 7-day TTL on `expires_at`).
 * 5. Report the first failed record and every record after it in
 *    `batchItemFailures`, so the batch is retried from there, in order. Events
 *    of those later records that did get published are already marked and
 *    are not published again.
 *
 * The check and the marker are not one atomic step: this relies on a shard
 * (and so every change of one item) being processed by one invocation at a
 * time, which is how Lambda runs DynamoDB event sources (with any
 * ParallelizationFactor, records of one partition key stay in order and
 * serial) and how the local poller runs. Limits: if the process dies, or the
 * marker write fails, after a publish and before its marker, a redelivery
 * publishes that event again; a redelivery later than the marker's TTL (7
 * days; stream records live 24 h) would too. So consumers must still
 * tolerate duplicates: dedupe on `detail.event_id`. Marker writes are
 * themselves stream records; they map to no event.
 */
export interface StreamDeps {
  db: Db;
  publisher: Publisher;
  now?: () => Date;
}

export const EVENT_MARKER_TTL_SECONDS = 7 * 24 * 60 * 60;

const markerOf = (event: DomainEvent): Key => keys.eventMarker(event.detail.tenant_id, event.detail.event_id);

/** A marker read for its partition key only (the projection): the key is all it says. */
const markerPartition: Decoder<string> = (item) => {
  const pk = item[TABLE.partitionKey];
  if (typeof pk !== 'string') throw new StoredItemInvalid('event marker', item, `${TABLE.partitionKey}: not a string`);
  return pk;
};

/** Which of these markers exist (as pk strings). */
const existingMarkers = async (db: Db, markers: Key[]): Promise<Set<string>> =>
  new Set(await batchGet(db, markers, markerPartition, { projection: [TABLE.partitionKey] }));

const writeMarkers = (db: Db, events: DomainEvent[], now: Date): Promise<void> => {
  const publishedAt = now.toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + EVENT_MARKER_TTL_SECONDS;
  return batchPut(
    db,
    events.map((event) => ({
      ...markerOf(event),
      entity: 'event_marker',
      tenant_id: event.detail.tenant_id,
      event_id: event.detail.event_id,
      detail_type: event['detail-type'],
      published_at: publishedAt,
      [TABLE.ttlAttribute]: expiresAt,
    })),
  );
};

interface Planned {
  event: DomainEvent;
  /** Index of the record it came from. */
  record: number;
}

export interface BatchOutcome extends DynamoDBBatchResponse {
  /** Events published by this call. */
  published: number;
  /** Events skipped because their marker said they were published before (redelivery). */
  duplicates: number;
}

const levelOf = (change: SplitLevelChange): string => `${change.tenant_id}\u0000${change.sku_id}\u0000${change.warehouse_id}`;

/**
 * The sums of the split levels this batch changed (functions/inventory/sub-levels.ts), one
 * strongly consistent read per level, after every record of the batch: each of their events
 * says the level as it stood then. A level that cannot be read fails its first record.
 */
const splitLevelSums = async (
  db: Db,
  records: DynamoDBStreamEvent['Records'],
  fail: (index: number, message: string, fields: Record<string, unknown>) => void,
): Promise<Map<string, LevelSum>> => {
  const first = new Map<string, { index: number; change: SplitLevelChange }>();
  for (const [index, record] of records.entries()) {
    let change: SplitLevelChange | undefined;
    try {
      change = splitLevelChange(record);
    } catch {
      break; // Mapping fails it in step 1, with its reason.
    }
    if (change && !first.has(levelOf(change))) first.set(levelOf(change), { index, change });
  }
  const sums = new Map<string, LevelSum>();
  await Promise.all(
    [...first.entries()].map(async ([key, { index, change }]) => {
      try {
        const ctx = systemContext({ tenantId: change.tenant_id, actor: 'system:stream-processor', requestId: `stream-${change.event_id}` });
        const level = await findLevel({ db, ctx }, change.sku_id, change.warehouse_id);
        if (level) sums.set(key, level);
      } catch (error) {
        fail(index, 'reading a split level failed', { error: errorMessage(error), sku_id: change.sku_id, warehouse_id: change.warehouse_id });
      }
    }),
  );
  return sums;
};

export const processStream = async (deps: StreamDeps, event: DynamoDBStreamEvent): Promise<BatchOutcome> => {
  const records = event.Records ?? [];
  let failFrom = records.length;
  const fail = (index: number, message: string, fields: Record<string, unknown>): void => {
    if (index >= failFrom) return;
    failFrom = index;
    log.error(message, { sequence_number: records[index]?.dynamodb?.SequenceNumber, ...fields });
  };

  // 1. Map, in order; a record that cannot be mapped fails, and so does everything after it.
  const planned: Planned[] = [];
  const ids = new Set<string>();
  const sums = await splitLevelSums(deps.db, records, fail);
  for (const [index, record] of records.entries()) {
    if (index >= failFrom) break;
    let events: DomainEvent[];
    try {
      const split = splitLevelChange(record);
      const sum = split && sums.get(levelOf(split));
      if (split && !sum) throw new Error(`the split level ${split.sku_id} @ ${split.warehouse_id} was changed but cannot be read`);
      events = split && sum ? [levelChangedFromSum(split, sum)] : eventsFromRecord(record);
    } catch (error) {
      fail(index, 'stream record could not be mapped to events', { error: errorMessage(error) });
      break;
    }
    for (const e of events) {
      // The same id twice in one batch (a change that did not bump the version) is one event.
      if (ids.has(e.detail.event_id)) continue;
      ids.add(e.detail.event_id);
      planned.push({ event: e, record: index });
    }
  }

  let published = 0;
  let duplicates = 0;
  const head = planned.at(0);
  if (head) {
    // 2. Skip what was published before.
    let done: Set<string> | undefined;
    try {
      done = await existingMarkers(deps.db, planned.map((p) => markerOf(p.event)));
    } catch (error) {
      fail(head.record, 'reading event markers failed', { error: errorMessage(error) });
    }
    if (done) {
      const todo = planned.filter((p) => !done.has(markerOf(p.event).pk));
      duplicates = planned.length - todo.length;

      // 3. Publish, in order.
      let failed: { index: number; reason: string }[];
      try {
        ({ failed } = await deps.publisher.publish(todo.map((p) => p.event)));
      } catch (error) {
        failed = todo.map((_, index) => ({ index, reason: errorMessage(error) }));
      }
      const failedAt = new Set(failed.map((f) => f.index));
      const first = failed.reduce<{ index: number; reason: string } | undefined>((a, f) => (a && a.index <= f.index ? a : f), undefined);
      const firstFailed = first && todo.at(first.index);
      if (first && firstFailed) fail(firstFailed.record, 'publishing events failed', { event_id: firstFailed.event.detail.event_id, reason: first.reason });
      const sent = todo.filter((_, i) => !failedAt.has(i)).map((p) => p.event);
      published = sent.length;
      for (const event of sent) {
        withLogContext({ correlation_id: event.detail.log_correlation_id, tenant_id: event.detail.tenant_id }, () =>
          log.info('event published', { event_id: event.detail.event_id, detail_type: event['detail-type'] }),
        );
      }
      if (published > 0) countMetric(METRIC_NAMES.eventsPublished, published);

      // 4. Mark what was published. A failure here is not the record's: failing it would publish again for sure.
      try {
        await writeMarkers(deps.db, sent, deps.now?.() ?? new Date());
      } catch (error) {
        log.warn('events published but not marked: a redelivery of their records would publish them again', {
          error: errorMessage(error),
          event_ids: sent.map((e) => e.detail.event_id),
        });
      }
    }
  }

  // 5. The first failure and everything after it, so the retry keeps the stream's order.
  return {
    batchItemFailures: records.slice(failFrom).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })),
    published,
    duplicates,
  };
};
