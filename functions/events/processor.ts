import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { Db } from '../platform/db';
import type { Key } from '../platform/keys';
import { log } from '../platform/log';
import { TABLE } from '../platform/table';
import { eventsFromRecord } from './mapper';
import type { DomainEvent } from './model';
import type { Publisher } from './publisher';

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
 * 2. Read the events' markers (one strongly consistent BatchGetItem per 100):
 *    an event with a marker was published before and is skipped.
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

export const eventMarkerKey = (tenantId: string, eventId: string): Key => ({ pk: `T#${tenantId}#EVENT#${eventId}`, sk: 'PUBLISHED' });

const markerOf = (event: DomainEvent): Key => eventMarkerKey(event.detail.tenant_id, event.detail.event_id);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** DynamoDB may leave part of a batch call unprocessed (throttling): retry that part a few times with backoff. */
const UNPROCESSED_RETRIES = 6;

/** Which of these markers exist (as pk strings). */
const existingMarkers = async (db: Db, keys: Key[]): Promise<Set<string>> => {
  const found = new Set<string>();
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] = keys.slice(i, i + 100).map((key) => ({ ...key }));
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > UNPROCESSED_RETRIES) throw new Error(`BatchGetItem left ${pending.length} markers unread`);
      if (attempt > 0) await sleep(25 * 2 ** attempt);
      const out = await db.client.send(
        new BatchGetCommand({
          RequestItems: { [db.table]: { Keys: pending, ConsistentRead: true, ProjectionExpression: TABLE.partitionKey } },
        }),
      );
      for (const item of out.Responses?.[db.table] ?? []) found.add(item[TABLE.partitionKey] as string);
      pending = out.UnprocessedKeys?.[db.table]?.Keys ?? [];
    }
  }
  return found;
};

const writeMarkers = async (db: Db, events: DomainEvent[], now: Date): Promise<void> => {
  const publishedAt = now.toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + EVENT_MARKER_TTL_SECONDS;
  const requests = events.map((event) => ({
    PutRequest: {
      Item: {
        ...markerOf(event),
        entity: 'event_marker',
        tenant_id: event.detail.tenant_id,
        event_id: event.detail.event_id,
        detail_type: event['detail-type'],
        published_at: publishedAt,
        [TABLE.ttlAttribute]: expiresAt,
      },
    },
  }));
  for (let i = 0; i < requests.length; i += 25) {
    let pending: Record<string, unknown>[] = requests.slice(i, i + 25);
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > UNPROCESSED_RETRIES) throw new Error(`BatchWriteItem left ${pending.length} markers unwritten`);
      if (attempt > 0) await sleep(25 * 2 ** attempt);
      const out = await db.client.send(new BatchWriteCommand({ RequestItems: { [db.table]: pending } }));
      pending = (out.UnprocessedItems?.[db.table] ?? []) as Record<string, unknown>[];
    }
  }
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
  for (const [index, record] of records.entries()) {
    let events: DomainEvent[];
    try {
      events = eventsFromRecord(record);
    } catch (error) {
      fail(index, 'stream record could not be mapped to events', { error: (error as Error).message });
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
  if (planned.length > 0) {
    // 2. Skip what was published before.
    let done: Set<string> | undefined;
    try {
      done = await existingMarkers(deps.db, planned.map((p) => markerOf(p.event)));
    } catch (error) {
      fail(planned[0]!.record, 'reading event markers failed', { error: (error as Error).message });
    }
    if (done) {
      const todo = planned.filter((p) => !done.has(markerOf(p.event).pk));
      duplicates = planned.length - todo.length;

      // 3. Publish, in order.
      let failed: { index: number; reason: string }[];
      try {
        ({ failed } = await deps.publisher.publish(todo.map((p) => p.event)));
      } catch (error) {
        failed = todo.map((_, index) => ({ index, reason: (error as Error).message }));
      }
      const failedAt = new Set(failed.map((f) => f.index));
      const first = failed.reduce<{ index: number; reason: string } | undefined>((a, f) => (a && a.index <= f.index ? a : f), undefined);
      if (first) fail(todo[first.index]!.record, 'publishing events failed', { event_id: todo[first.index]!.event.detail.event_id, reason: first.reason });
      const sent = todo.filter((_, i) => !failedAt.has(i)).map((p) => p.event);
      published = sent.length;

      // 4. Mark what was published. A failure here is not the record's: failing it would publish again for sure.
      try {
        await writeMarkers(deps.db, sent, deps.now?.() ?? new Date());
      } catch (error) {
        log.warn('events published but not marked: a redelivery of their records would publish them again', {
          error: (error as Error).message,
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
