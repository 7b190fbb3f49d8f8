import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { LocalBus, type BusEvent } from '../../bin/local/bus';
import { createStreamPoller, type StreamPoller } from '../../bin/local/streams';
import { eventsFromRecord } from '../../functions/events/mapper';
import type { DomainEvent } from '../../functions/events/model';
import { processStream } from '../../functions/events/processor';
import type { Publisher } from '../../functions/events/publisher';
import type { Order } from '../../functions/orders/model';
import { createDocumentClient, type Db } from '../../functions/platform/db';
import { streamProcessor } from '../../functions/wiring';
import { newTenantId } from '../support/api';
import { isTenantRecord } from '../support/events';

/**
 * The stream processor end to end on the jest run's DynamoDB Local: items
 * written to the table -> the local poller reads the stream -> processStream
 * maps and publishes to the in-process bus, deduplicating with markers in
 * the table. The stream is shared with every other test file running, so
 * assertions look at this file's tenants only (except the duplicate check,
 * which covers everything this poller published).
 */
const db: Db = { client: createDocumentClient(), table: process.env.TABLE_NAME! };
const bus = new LocalBus({ maxLog: 1_000_000 });

/** Fault injection: decides, per event, whether this publish attempt should fail it. */
let failWhen: ((event: DomainEvent) => boolean) | undefined;
const injected: string[] = [];
const publisher: Publisher = {
  publish: async (events) => {
    const first = failWhen ? events.findIndex(failWhen) : -1;
    if (first < 0) return bus.publisher().publish(events);
    // Like PutEvents stopping at a failed entry: what comes before lands, the rest does not.
    injected.push(events[first]!.detail.event_id);
    const { failed } = await bus.publisher().publish(events.slice(0, first));
    return { failed: [...failed, ...events.slice(first).map((_, i) => ({ index: first + i, reason: 'injected' }))] };
  },
};

/** Batches the poller delivered that hold a record of these tests' tenants, with the processor's answer. */
const seen: { event: DynamoDBStreamEvent; response: DynamoDBBatchResponse }[] = [];
const tenants = new Set<string>();
const mine = (record: DynamoDBRecord): boolean => [...tenants].some((t) => isTenantRecord(record, t));

let poller: StreamPoller;

beforeAll(async () => {
  poller = createStreamPoller({
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    tableName: process.env.TABLE_NAME!,
    // Other test files have been writing since the run began: start at the stream's end, not its start.
    startingPosition: 'LATEST',
    retryBaseMs: 50,
    // Only this file's tenants: a processor marks what it publishes, so processing another test
    // file's records here would keep them from that file's own bus.
    process: async (event) => {
      const own = { Records: event.Records.filter(mine) };
      if (own.Records.length === 0) return { batchItemFailures: [] };
      const response = await processStream({ db, publisher }, own);
      seen.push({ event: own, response });
      return response;
    },
  });
  await poller.start();
});

afterAll(async () => {
  await poller.stop();
  db.client.destroy();
});

const tenant = (): string => {
  const id = newTenantId();
  tenants.add(id);
  return id;
};

const drain = () => poller.drain(60_000);

const eventsOf = (tenantId: string, type?: string): BusEvent[] =>
  bus.find({ ...(type ? { 'detail-type': [type] } : {}), detail: { tenant_id: [tenantId] } });

const putOrder = async (tenantId: string, orderId: string, over: Partial<Order> = {}): Promise<Order> => {
  const now = new Date().toISOString();
  const order: Order = {
    order_id: orderId,
    status: 'held',
    lines: [{ sku_id: 'sku-1', quantity: 3 }],
    allocations: [
      { sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 2, shipped: 0, released: 0, distance_km: 10 },
      { sku_id: 'sku-1', warehouse_id: 'wh-2', quantity: 1, shipped: 0, released: 0, distance_km: 20 },
    ],
    shipments: 2,
    strategy: 'fewest_shipments',
    ship_to: { latitude: 1, longitude: 2 },
    hold_expires_at: new Date(Date.now() + 60_000).toISOString(),
    created_at: now,
    updated_at: now,
    version: 1,
    ...over,
  };
  await db.client.send(
    new PutCommand({
      TableName: db.table,
      Item: { pk: `T#${tenantId}#ORDER`, sk: orderId, entity: 'order', tenant_id: tenantId, ...order },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return order;
};

test('an allocation produces exactly one OrderAllocated on the bus, even when its stream batch is redelivered', async () => {
  const t = tenant();
  await putOrder(t, 'o-1');
  await drain();
  const published = eventsOf(t, 'OrderAllocated');
  expect(published).toHaveLength(1);
  expect(published[0]).toMatchObject({
    source: 'stockroom',
    'detail-type': 'OrderAllocated',
    detail: {
      event_id: `OrderAllocated:T#${t}#ORDER:o-1:v1`,
      schema_version: 1,
      tenant_id: t,
      order_id: 'o-1',
      status: 'held',
      allocations: [
        { sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 2 },
        { sku_id: 'sku-1', warehouse_id: 'wh-2', quantity: 1 },
      ],
    },
  });

  // Lambda redelivers whole batches (a timeout, a later record's failure): the same records, again.
  const batch = seen.find((s) => s.event.Records.some((r) => r.dynamodb?.Keys?.pk?.S === `T#${t}#ORDER`))!.event;
  const again = await processStream({ db, publisher }, batch);
  expect(again.batchItemFailures).toEqual([]);
  expect(again.duplicates).toBeGreaterThanOrEqual(1);
  const record = batch.Records.find((r) => r.dynamodb?.Keys?.pk?.S === `T#${t}#ORDER`)!;
  // The order's record is its OrderAllocated and one OrderLineRecorded per leg (the lake's rows): every one a duplicate now.
  const eventsOfRecord = eventsFromRecord(record);
  expect(eventsOfRecord.map((e) => e['detail-type'])).toEqual(['OrderAllocated', 'OrderLineRecorded', 'OrderLineRecorded']);
  expect(await processStream({ db, publisher }, { Records: [record, record] })).toMatchObject({ published: 0, duplicates: eventsOfRecord.length, batchItemFailures: [] });
  await drain();
  expect(eventsOf(t, 'OrderAllocated')).toHaveLength(1);
});

test('a stock level change emits StockLevelChanged with before and after; the processor marker writes emit nothing', async () => {
  const t = tenant();
  const key = { pk: `T#${t}#STOCK#sku-1`, sk: 'wh-1' };
  await db.client.send(
    new PutCommand({
      TableName: db.table,
      Item: {
        ...key,
        entity: 'stock_level',
        tenant_id: t,
        sku_id: 'sku-1',
        warehouse_id: 'wh-1',
        on_hand: 10,
        reserved: 0,
        available: 10,
        incoming: 0,
        reorder_point: 4,
        safety_stock: 2,
        version: 1,
        updated_at: new Date().toISOString(),
      },
    }),
  );
  await db.client.send(
    new UpdateCommand({
      TableName: db.table,
      Key: key,
      UpdateExpression: 'SET reserved = :r, available = :a, version = :v, updated_at = :u',
      ExpressionAttributeValues: { ':r': 3, ':a': 7, ':v': 2, ':u': new Date().toISOString() },
    }),
  );
  await drain();
  const events = eventsOf(t);
  expect(events.map((e) => e['detail-type'])).toEqual(['StockLevelChanged', 'StockLevelChanged']);
  expect(events.map((e) => e.detail)).toEqual([
    expect.objectContaining({ sku_id: 'sku-1', warehouse_id: 'wh-1', version: 1, before: null, after: { on_hand: 10, reserved: 0, available: 10, incoming: 0 }, reorder_point: 4, safety_stock: 2 }),
    expect.objectContaining({
      version: 2,
      before: { on_hand: 10, reserved: 0, available: 10, incoming: 0 },
      after: { on_hand: 10, reserved: 3, available: 7, incoming: 0 },
    }),
  ]);
  // The markers the processor wrote for these two are stream records too; once read, they added nothing.
  await drain();
  expect(eventsOf(t)).toHaveLength(2);
});

test('a failed publish reports the record in batchItemFailures, and the poller redelivers it: published once, in order', async () => {
  const t = tenant();
  const id = `OrderAllocated:T#${t}#ORDER:o-1:v1`;
  failWhen = (event) => event.detail.event_id === id && !injected.includes(id);
  try {
    await putOrder(t, 'o-1');
    await putOrder(t, 'o-2');
    await drain();
  } finally {
    failWhen = undefined;
  }
  expect(injected.filter((x) => x === id)).toHaveLength(1);
  // The first attempt failed the record (and everything after it), the retry published it.
  const attempts = seen.filter((s) => s.event.Records.some((r) => r.dynamodb?.Keys?.pk?.S === `T#${t}#ORDER`));
  const failed = attempts.find((s) => s.response.batchItemFailures.length > 0)!;
  const failedRecord = failed.event.Records.find((r) => r.dynamodb?.Keys?.sk?.S === 'o-1')!;
  expect(failed.response.batchItemFailures[0]).toEqual({ itemIdentifier: failedRecord.dynamodb!.SequenceNumber });
  expect(failed.response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
    failed.event.Records.slice(failed.event.Records.indexOf(failedRecord)).map((r) => r.dynamodb!.SequenceNumber),
  );
  expect(eventsOf(t, 'OrderAllocated').map((e) => (e.detail as { order_id: string }).order_id)).toEqual(['o-1', 'o-2']);
});

test('a record that fails every retry is dead-lettered after maxRetries, and the records behind it still flow', async () => {
  const t = tenant();
  failWhen = (event) => event.detail.tenant_id === t && (event.detail as { order_id?: string }).order_id === 'poison';
  const before = poller.deadLetters.length;
  try {
    await putOrder(t, 'poison');
    await putOrder(t, 'after');
    await drain();
  } finally {
    failWhen = undefined;
  }
  const letters = poller.deadLetters.slice(before);
  expect(letters).toHaveLength(1);
  expect(letters[0]).toMatchObject({ attempts: streamProcessor.maxRetries + 1, record: { dynamodb: { Keys: { pk: { S: `T#${t}#ORDER` }, sk: { S: 'poison' } } } } });
  expect(injected.filter((id) => id === `OrderAllocated:T#${t}#ORDER:poison:v1`)).toHaveLength(streamProcessor.maxRetries + 1);
  expect(eventsOf(t, 'OrderAllocated').map((e) => (e.detail as { order_id: string }).order_id)).toEqual(['after']);
});

test('no event id was published twice, across everything this poller processed (every test file writes to the stream)', async () => {
  await drain();
  const ids = bus.log.map((e) => (e.detail as { event_id: string }).event_id);
  expect(ids.length).toBeGreaterThan(0);
  expect(ids.length - new Set(ids).size).toBe(0);
});
