import type { DynamoDBRecord } from 'aws-lambda';
import { resolve } from 'node:path';
import { LocalBus, matches } from '../../bin/local/bus';
import { startLocalScheduler } from '../../bin/local/scheduler';
import { EventMappingError, eventsFromRecord } from '../../functions/events/mapper';
import { ORDER_LINE_COLUMNS } from '../../functions/events/lake-columns';
import { movementRecordedDetail, orderLineRecordedDetail, type DomainEvent, type StockLevelChanged } from '../../functions/events/model';
import type { Movement } from '../../functions/inventory/model';
import { putEventsPublisher, type PutEventsEntry } from '../../functions/events/publisher';
import type { AllocationLeg, Order } from '../../functions/orders/model';
import { streamProcessor } from '../../functions/wiring';
import { streamRecord, type Item } from '../support/events';

const TENANT = 'acme';
const legOf = (over: Partial<AllocationLeg>): AllocationLeg => ({
  sku_id: 'sku-1',
  warehouse_id: 'wh-1',
  quantity: 3,
  shipped: 0,
  released: 0,
  distance_km: 12.5,
  ...over,
});
const orderItem = (over: Partial<Order> = {}): Item => {
  const order: Order = {
    order_id: 'o-1',
    status: 'allocated',
    lines: [
      { sku_id: 'sku-1', quantity: 5 },
      { sku_id: 'sku-2', quantity: 1 },
    ],
    allocations: [legOf({}), legOf({ warehouse_id: 'wh-2', quantity: 2 }), legOf({ sku_id: 'sku-2', quantity: 1 })],
    shipments: 2,
    strategy: 'fewest_shipments',
    ship_to: { latitude: 1, longitude: 2 },
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    version: 1,
    ...over,
  };
  return { pk: `T#${TENANT}#ORDER`, sk: order.order_id, entity: 'order', tenant_id: TENANT, ...order };
};
const levelItem = (over: Item = {}): Item => ({
  pk: `T#${TENANT}#STOCK#sku-1`,
  sk: 'wh-1',
  entity: 'stock_level',
  tenant_id: TENANT,
  sku_id: 'sku-1',
  warehouse_id: 'wh-1',
  on_hand: 10,
  reserved: 2,
  available: 8,
  incoming: 0,
  reorder_point: 5,
  safety_stock: 1,
  version: 4,
  updated_at: '2026-01-02T00:00:00.000Z',
  ...over,
});

/** The order events consumers subscribe to, without the lake's per-line rows (OrderLineRecorded, tested on their own below). */
const orderEventsOnly = (events: DomainEvent[]): DomainEvent[] => events.filter((e) => e['detail-type'] !== 'OrderLineRecorded');

describe('eventsFromRecord', () => {
  test('a new order (allocated or held) is one OrderAllocated with its lines, legs and hold expiry', () => {
    const [event, ...rest] = orderEventsOnly(eventsFromRecord(streamRecord('INSERT', orderItem({ status: 'held', hold_expires_at: '2026-01-01T00:15:00.000Z' }))));
    expect(rest).toEqual([]);
    expect(event).toEqual({
      source: 'stockroom',
      'detail-type': 'OrderAllocated',
      detail: {
        event_id: `OrderAllocated:T#${TENANT}#ORDER:o-1:v1`,
        schema_version: 1,
        tenant_id: TENANT,
        occurred_at: '2026-01-01T00:00:00.000Z',
        order_id: 'o-1',
        status: 'held',
        lines: [
          { sku_id: 'sku-1', quantity: 5 },
          { sku_id: 'sku-2', quantity: 1 },
        ],
        allocations: [
          { sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 3 },
          { sku_id: 'sku-1', warehouse_id: 'wh-2', quantity: 2 },
          { sku_id: 'sku-2', warehouse_id: 'wh-1', quantity: 1 },
        ],
        hold_expires_at: '2026-01-01T00:15:00.000Z',
        version: 1,
      },
    });
    expect(eventsFromRecord(streamRecord('INSERT', orderItem()))[0]?.detail).not.toHaveProperty('hold_expires_at');
  });

  test('a cancellation is one OrderReleased listing only the units this change gave back', () => {
    const before = orderItem({ status: 'partially_shipped', allocations: [legOf({ shipped: 1 }), legOf({ warehouse_id: 'wh-2', quantity: 2, shipped: 2 })], version: 3 });
    const after = orderItem({
      status: 'cancelled',
      allocations: [legOf({ shipped: 1, released: 2 }), legOf({ warehouse_id: 'wh-2', quantity: 2, shipped: 2 })],
      version: 4,
      updated_at: '2026-01-01T01:00:00.000Z',
    });
    const events = orderEventsOnly(eventsFromRecord(streamRecord('MODIFY', after, before)));
    expect(events).toEqual([
      {
        source: 'stockroom',
        'detail-type': 'OrderReleased',
        detail: {
          event_id: `OrderReleased:T#${TENANT}#ORDER:o-1:v4`,
          schema_version: 1,
          tenant_id: TENANT,
          occurred_at: '2026-01-01T01:00:00.000Z',
          order_id: 'o-1',
          reason: 'cancelled',
          released: [{ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 2 }],
          version: 4,
        },
      },
    ]);
  });

  test('an expired hold is OrderReleased with reason expired; a second write of a cancelled order is nothing, a confirm no order event', () => {
    const held = orderItem({ status: 'held', allocations: [legOf({})] });
    const expired = orderItem({ status: 'expired', allocations: [legOf({ released: 3 })], version: 2 });
    expect(orderEventsOnly(eventsFromRecord(streamRecord('MODIFY', expired, held))).map((e) => [e['detail-type'], e.detail])).toEqual([
      ['OrderReleased', expect.objectContaining({ reason: 'expired', released: [{ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 3 }] })],
    ]);
    const cancelled = orderItem({ status: 'cancelled', allocations: [legOf({ released: 3 })], version: 2 });
    expect(eventsFromRecord(streamRecord('MODIFY', { ...cancelled, version: 3 }, cancelled))).toEqual([]);
    expect(orderEventsOnly(eventsFromRecord(streamRecord('MODIFY', orderItem({ status: 'allocated', version: 2 }), orderItem({ status: 'held' }))))).toEqual([]);
  });

  test('a shipment is one OrderShipped with the units shipped by this change, per leg', () => {
    const before = orderItem({ allocations: [legOf({ shipped: 1 }), legOf({ warehouse_id: 'wh-2', quantity: 2 })], version: 2 });
    const after = orderItem({ status: 'partially_shipped', allocations: [legOf({ shipped: 3 }), legOf({ warehouse_id: 'wh-2', quantity: 2, shipped: 1 })], version: 3 });
    const events = orderEventsOnly(eventsFromRecord(streamRecord('MODIFY', after, before)));
    expect(events.map((e) => e['detail-type'])).toEqual(['OrderShipped']);
    expect(events[0]!.detail).toMatchObject({
      event_id: `OrderShipped:T#${TENANT}#ORDER:o-1:v3`,
      order_id: 'o-1',
      status: 'partially_shipped',
      shipped: [
        { sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 2 },
        { sku_id: 'sku-1', warehouse_id: 'wh-2', quantity: 1 },
      ],
    });
  });

  test('a new stock level has no before; a change carries before and after, the version and the thresholds', () => {
    const [created] = eventsFromRecord(streamRecord('INSERT', levelItem({ version: 1 }))) as StockLevelChanged[];
    expect(created!.detail).toMatchObject({ before: null, after: { on_hand: 10, reserved: 2, available: 8, incoming: 0 }, version: 1 });
    const [changed, ...rest] = eventsFromRecord(streamRecord('MODIFY', levelItem({ on_hand: 7, available: 5, version: 5 }), levelItem())) as StockLevelChanged[];
    expect(rest).toEqual([]);
    expect(changed).toEqual({
      source: 'stockroom',
      'detail-type': 'StockLevelChanged',
      detail: {
        event_id: `StockLevelChanged:T#${TENANT}#STOCK#sku-1:wh-1:v5`,
        schema_version: 1,
        tenant_id: TENANT,
        occurred_at: '2026-01-02T00:00:00.000Z',
        sku_id: 'sku-1',
        warehouse_id: 'wh-1',
        before: { on_hand: 10, reserved: 2, available: 8, incoming: 0 },
        after: { on_hand: 7, reserved: 2, available: 5, incoming: 0 },
        version: 5,
        reorder_point: 5,
        safety_stock: 1,
      },
    });
    // A rewrite that changes nothing an event carries is no event.
    expect(eventsFromRecord(streamRecord('MODIFY', levelItem({ updated_at: '2026-02-01T00:00:00.000Z' }), levelItem()))).toEqual([]);
  });

  test('a redelivered record maps to the same events, ids included; another change of the item to another id', () => {
    const r = streamRecord('MODIFY', levelItem({ on_hand: 7, available: 5, version: 5 }), levelItem());
    const redelivered = JSON.parse(JSON.stringify(r)) as DynamoDBRecord;
    expect(eventsFromRecord(redelivered)).toEqual(eventsFromRecord(r));
    const next = eventsFromRecord(streamRecord('MODIFY', levelItem({ on_hand: 6, available: 4, version: 6 }), levelItem({ on_hand: 7, available: 5, version: 5 })));
    expect(next[0]!.detail.event_id).not.toBe(eventsFromRecord(r)[0]!.detail.event_id);
  });

  test('REMOVE and the unknown event names of TTL deletions (DynamoDB Local) map to nothing', () => {
    expect(eventsFromRecord(streamRecord('REMOVE', undefined, orderItem()))).toEqual([]);
    expect(eventsFromRecord(streamRecord('REMOVE', undefined, levelItem()))).toEqual([]);
    for (const name of ['TTL', 'EXPIRE', '', 'something-else']) expect(eventsFromRecord(streamRecord(name, levelItem(), levelItem()))).toEqual([]);
    expect(eventsFromRecord({ ...streamRecord('MODIFY', levelItem()), eventName: undefined })).toEqual([]);
  });

  test('idempotency records, event markers and other entities map to nothing', () => {
    const base = { pk: `T#${TENANT}#X`, sk: 's', tenant_id: TENANT, version: 1 };
    for (const entity of ['idempotency', 'event_marker', 'sku', 'warehouse', 'product', undefined])
      for (const name of ['INSERT', 'MODIFY']) expect(eventsFromRecord(streamRecord(name, { ...base, entity }, { ...base, entity }))).toEqual([]);
  });

  test('the tenant comes from the key when the item lacks tenant_id; the time from the record when it lacks updated_at', () => {
    const { tenant_id: _t, updated_at: _u, ...bare } = levelItem();
    const [event] = eventsFromRecord(streamRecord('INSERT', { ...bare, updated_at: null }));
    expect(event!.detail.tenant_id).toBe(TENANT);
    expect(event!.detail.occurred_at).toBe(new Date(1_800_000_000_000).toISOString());
  });

  test('a malformed order or level image throws (the record fails and is retried, then dead-lettered), never a half event', () => {
    expect(() => eventsFromRecord(streamRecord('INSERT', { ...orderItem(), allocations: 'nope' }))).toThrow(EventMappingError);
    expect(() => eventsFromRecord(streamRecord('INSERT', { ...levelItem(), on_hand: 'ten' }))).toThrow(/on_hand/);
    expect(() => eventsFromRecord(streamRecord('INSERT', { ...levelItem(), version: undefined }))).toThrow(/version/);
  });
});

describe('ledger rows: MovementRecorded', () => {
  const movementItem = (over: Partial<Movement> = {}): Item => {
    const movement: Movement = {
      movement_id: '01JAAAAAAAAAAAAAAAAAAAAAAA',
      sku_id: 'sku-1',
      warehouse_id: 'wh-1',
      type: 'receipt',
      deltas: { on_hand: 12, reserved: 0, available: 12, incoming: -12 },
      resulting: { on_hand: 40, reserved: 3, available: 37, incoming: 8 },
      version: 9,
      reason: 'po receipt',
      reference: 'PO-7',
      note: 'dock 2',
      correlation_id: 'corr-1',
      unit_cost: '4.2050',
      currency: 'EUR',
      actor: 'user-1',
      created_at: '2026-03-04T05:06:07.089Z',
      ...over,
    };
    return {
      pk: `T#${TENANT}#LEDGER#${movement.sku_id}`,
      sk: movement.movement_id,
      gsi1pk: `T#${TENANT}#LEDGER#${movement.sku_id}#${movement.warehouse_id}`,
      gsi1sk: movement.movement_id,
      entity: 'movement',
      tenant_id: TENANT,
      ...movement,
    };
  };

  test('a ledger row INSERT is exactly one MovementRecorded carrying the flat lake row, the cost as the exact stored string', () => {
    expect(eventsFromRecord(streamRecord('INSERT', movementItem()))).toEqual([
      {
        source: 'stockroom',
        'detail-type': 'MovementRecorded',
        detail: {
          event_id: `MovementRecorded:T#${TENANT}#LEDGER#sku-1:01JAAAAAAAAAAAAAAAAAAAAAAA`,
          schema_version: 1,
          tenant_id: TENANT,
          occurred_at: '2026-03-04T05:06:07.089Z',
          movement_id: '01JAAAAAAAAAAAAAAAAAAAAAAA',
          sku_id: 'sku-1',
          warehouse_id: 'wh-1',
          type: 'receipt',
          delta_on_hand: 12,
          delta_reserved: 0,
          delta_available: 12,
          delta_incoming: -12,
          resulting_on_hand: 40,
          resulting_reserved: 3,
          resulting_available: 37,
          resulting_incoming: 8,
          version: 9,
          unit_cost: '4.2050',
          currency: 'EUR',
          reason: 'po receipt',
          reference: 'PO-7',
          note: 'dock 2',
          correlation_id: 'corr-1',
          actor: 'user-1',
          created_at: '2026-03-04T05:06:07.089Z',
        },
      },
    ]);
  });

  test('a row written without reading the level (no result, version, cost or cause) has those columns null, not absent', () => {
    const { resulting: _r, version: _v, unit_cost: _u, currency: _c, reason: _re, reference: _ref, note: _n, correlation_id: _co, ...bare } = movementItem({
      type: 'allocation',
      deltas: { on_hand: 0, reserved: 2, available: -2, incoming: 0 },
    });
    const [event, ...rest] = eventsFromRecord(streamRecord('INSERT', bare));
    expect(rest).toEqual([]);
    expect(event?.detail).toEqual(
      expect.objectContaining({
        type: 'allocation',
        delta_reserved: 2,
        delta_available: -2,
        resulting_on_hand: null,
        resulting_reserved: null,
        resulting_available: null,
        resulting_incoming: null,
        version: null,
        unit_cost: null,
        currency: null,
        reason: null,
        reference: null,
        note: null,
        correlation_id: null,
      }),
    );
    // The tenant comes from the key when the item lacks tenant_id.
    const { tenant_id: _t, ...keyOnly } = bare;
    expect(eventsFromRecord(streamRecord('INSERT', keyOnly))[0]?.detail.tenant_id).toBe(TENANT);
  });

  test('a ledger row MODIFY or REMOVE is nothing (rows are written once); a stock level change is StockLevelChanged, never MovementRecorded', () => {
    expect(eventsFromRecord(streamRecord('MODIFY', movementItem({ note: 'edited' }), movementItem()))).toEqual([]);
    expect(eventsFromRecord(streamRecord('REMOVE', undefined, movementItem()))).toEqual([]);
    for (const name of ['TTL', 'something-else']) expect(eventsFromRecord(streamRecord(name, movementItem()))).toEqual([]);
    const types = [
      ...eventsFromRecord(streamRecord('INSERT', levelItem())),
      ...eventsFromRecord(streamRecord('MODIFY', levelItem({ on_hand: 9, available: 7, version: 5 }), levelItem())),
      ...eventsFromRecord(streamRecord('INSERT', orderItem())),
    ].map((e) => e['detail-type']);
    expect(types).toEqual(['StockLevelChanged', 'StockLevelChanged', 'OrderAllocated', 'OrderLineRecorded', 'OrderLineRecorded', 'OrderLineRecorded']);
  });

  test('a redelivered ledger row maps to the same event id; another row to another', () => {
    const record = streamRecord('INSERT', movementItem());
    const again = eventsFromRecord(JSON.parse(JSON.stringify(record)) as DynamoDBRecord);
    expect(again).toEqual(eventsFromRecord(record));
    const other = eventsFromRecord(streamRecord('INSERT', movementItem({ movement_id: '01JAAAAAAAAAAAAAAAAAAAAAAB' })));
    expect(other[0]?.detail.event_id).not.toBe(again[0]?.detail.event_id);
  });

  test('a malformed ledger row throws naming the field (retried, then dead-lettered), never a half row', () => {
    expect(() => eventsFromRecord(streamRecord('INSERT', { ...movementItem(), deltas: { on_hand: 1 } }))).toThrow(EventMappingError);
    expect(() => eventsFromRecord(streamRecord('INSERT', movementItem({ unit_cost: '4.20501' })))).toThrow(/unit_cost/);
    expect(() => eventsFromRecord(streamRecord('INSERT', { ...movementItem(), type: 'teleport' }))).toThrow(/type/);
    expect(() => eventsFromRecord(streamRecord('INSERT', movementItem({ created_at: '2026-03-04T05:06:07+01:00' })))).toThrow(/created_at/);
    expect(() => eventsFromRecord(streamRecord('INSERT', { ...movementItem(), actor: undefined }))).toThrow(/actor/);
  });

  test('a detail that breaks the lake row (a cost as a number, a fractional delta) is refused before the lake sees it', () => {
    // The whole flat detail is pinned by the first MovementRecorded test above.
    const [event] = eventsFromRecord(streamRecord('INSERT', movementItem()));
    const detail = movementRecordedDetail.parse(event?.detail);
    expect(movementRecordedDetail.safeParse({ ...detail, unit_cost: 4.2 }).success).toBe(false);
    expect(movementRecordedDetail.safeParse({ ...detail, delta_on_hand: 1.5 }).success).toBe(false);
  });
});

describe('order lines for the lake: OrderLineRecorded', () => {
  const linesOf = (events: DomainEvent[]) => events.filter((e) => e['detail-type'] === 'OrderLineRecorded').map((e) => orderLineRecordedDetail.parse(e.detail));
  const brief = (events: DomainEvent[]) => linesOf(events).map((d) => [d.outcome, d.line_index, d.sku_id, d.warehouse_id, d.quantity, d.reason]);

  test('a new order is one flat row per leg (held or allocated), each naming its line, its quantities, the order status and version', () => {
    const held = eventsFromRecord(streamRecord('INSERT', orderItem({ status: 'held', hold_expires_at: '2026-01-01T00:15:00.000Z' })));
    expect(linesOf(held)[0]).toEqual({
      event_id: `OrderLineRecorded:T#${TENANT}#ORDER:o-1:v1:0:wh-1`,
      schema_version: 1,
      tenant_id: TENANT,
      occurred_at: '2026-01-01T00:00:00.000Z',
      record_id: 'o-1:v1:0:wh-1',
      order_id: 'o-1',
      line_index: 0,
      sku_id: 'sku-1',
      warehouse_id: 'wh-1',
      outcome: 'held',
      quantity: 3,
      line_quantity: 5,
      reason: null,
      order_status: 'held',
      order_version: 1,
      correlation_id: 'o-1',
      created_at: '2026-01-01T00:00:00.000Z',
    });
    expect(brief(held)).toEqual([
      ['held', 0, 'sku-1', 'wh-1', 3, null],
      ['held', 0, 'sku-1', 'wh-2', 2, null],
      ['held', 1, 'sku-2', 'wh-1', 1, null],
    ]);
    expect(brief(eventsFromRecord(streamRecord('INSERT', orderItem()))).map(([outcome]) => outcome)).toEqual(['allocated', 'allocated', 'allocated']);
    // The row is exactly the orders table's columns plus the event's own fields: Firehose converts it as it is.
    expect(Object.keys(linesOf(held)[0] ?? {}).sort()).toEqual([...ORDER_LINE_COLUMNS.map(([name]) => name), 'tenant_id', 'event_id', 'schema_version', 'occurred_at'].sort());
  });

  test('a confirm is a row `allocated` per leg with its outstanding units; a shipment one `shipped` per leg that shipped, the units of this change', () => {
    const held = orderItem({ status: 'held', hold_expires_at: '2026-01-01T00:15:00.000Z' });
    const confirmed = orderItem({ status: 'allocated', version: 2, updated_at: '2026-01-01T00:05:00.000Z' });
    const confirm = linesOf(eventsFromRecord(streamRecord('MODIFY', confirmed, held)));
    expect(confirm.map((d) => [d.outcome, d.sku_id, d.warehouse_id, d.quantity, d.record_id, d.created_at])).toEqual([
      ['allocated', 'sku-1', 'wh-1', 3, 'o-1:v2:0:wh-1', '2026-01-01T00:05:00.000Z'],
      ['allocated', 'sku-1', 'wh-2', 2, 'o-1:v2:0:wh-2', '2026-01-01T00:05:00.000Z'],
      ['allocated', 'sku-2', 'wh-1', 1, 'o-1:v2:1:wh-1', '2026-01-01T00:05:00.000Z'],
    ]);
    const before = orderItem({ allocations: [legOf({ shipped: 1 }), legOf({ warehouse_id: 'wh-2', quantity: 2 }), legOf({ sku_id: 'sku-2', quantity: 1 })], version: 2 });
    const after = orderItem({ status: 'partially_shipped', allocations: [legOf({ shipped: 3 }), legOf({ warehouse_id: 'wh-2', quantity: 2 }), legOf({ sku_id: 'sku-2', quantity: 1, shipped: 1 })], version: 3 });
    const shipped = linesOf(eventsFromRecord(streamRecord('MODIFY', after, before)));
    expect(shipped.map((d) => [d.outcome, d.line_index, d.warehouse_id, d.quantity, d.order_status, d.order_version])).toEqual([
      ['shipped', 0, 'wh-1', 2, 'partially_shipped', 3],
      ['shipped', 1, 'wh-1', 1, 'partially_shipped', 3],
    ]);
  });

  test('a cancel or an expiry is a row `released` per leg that gave units back, with the reason; a rewrite that moves no units is no row', () => {
    const before = orderItem({ status: 'partially_shipped', allocations: [legOf({ shipped: 1 }), legOf({ warehouse_id: 'wh-2', quantity: 2, shipped: 2 })], version: 3 });
    const after = orderItem({ status: 'cancelled', allocations: [legOf({ shipped: 1, released: 2 }), legOf({ warehouse_id: 'wh-2', quantity: 2, shipped: 2 })], version: 4 });
    expect(brief(eventsFromRecord(streamRecord('MODIFY', after, before)))).toEqual([['released', 0, 'sku-1', 'wh-1', 2, 'cancelled']]);
    const held = orderItem({ status: 'held', allocations: [legOf({})] });
    const expired = orderItem({ status: 'expired', allocations: [legOf({ released: 3 })], version: 2 });
    expect(brief(eventsFromRecord(streamRecord('MODIFY', expired, held)))).toEqual([['released', 0, 'sku-1', 'wh-1', 3, 'expired']]);
    expect(linesOf(eventsFromRecord(streamRecord('MODIFY', { ...after, version: 5 }, after)))).toEqual([]);
  });

  test('a redelivered order record maps to the same row ids; the next change of the order to new ones', () => {
    const record = streamRecord('INSERT', orderItem());
    const ids = linesOf(eventsFromRecord(record)).map((d) => d.event_id);
    expect(linesOf(eventsFromRecord(JSON.parse(JSON.stringify(record)) as DynamoDBRecord)).map((d) => d.event_id)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const shipped = orderItem({ status: 'shipped', allocations: [legOf({ shipped: 3 }), legOf({ warehouse_id: 'wh-2', quantity: 2, shipped: 2 }), legOf({ sku_id: 'sku-2', quantity: 1, shipped: 1 })], version: 2 });
    const next = linesOf(eventsFromRecord(streamRecord('MODIFY', shipped, orderItem()))).map((d) => d.event_id);
    expect(next).toHaveLength(3);
    for (const id of next) expect(ids).not.toContain(id);
  });

  test('a leg of a SKU that no line orders is a malformed order (retried, then dead-lettered), never a row without its line', () => {
    expect(() => eventsFromRecord(streamRecord('INSERT', orderItem({ allocations: [legOf({ sku_id: 'sku-9' })] })))).toThrow(/sku-9/);
  });
});

describe('publishing through PutEvents', () => {
  const event = (i: number, bytes = 10): DomainEvent => ({
    source: 'stockroom',
    'detail-type': 'StockLevelChanged',
    detail: { event_id: `e${i}`, pad: 'x'.repeat(bytes) } as never,
  });

  test('chunks within 10 entries and 256 KiB, in order, each entry carrying bus, source, type, JSON detail and time', async () => {
    const calls: PutEventsEntry[][] = [];
    const publisher = putEventsPublisher(async (entries) => {
      calls.push(entries);
      return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: 'x' })) };
    }, 'bus-1');
    const events = [...Array.from({ length: 23 }, (_, i) => event(i)), event(23, 200_000), event(24, 200_000)];
    expect(await publisher.publish(events)).toEqual({ failed: [] });
    expect(calls.map((c) => c.length)).toEqual([10, 10, 4, 1]);
    expect(calls.flat().map((e) => JSON.parse(e.Detail).event_id)).toEqual(events.map((e) => e.detail.event_id));
    expect(calls[0]![0]).toMatchObject({ EventBusName: 'bus-1', Source: 'stockroom', DetailType: 'StockLevelChanged' });
  });

  test('a failed entry (FailedEntryCount) is reported, the rest of its chunk landed, and nothing after its chunk is sent', async () => {
    let call = 0;
    const publisher = putEventsPublisher(async (entries) => {
      call += 1;
      if (call === 2) return { FailedEntryCount: 1, Entries: entries.map((_, i) => (i === 3 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'boom' } : { EventId: 'x' })) };
      return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: 'x' })) };
    }, 'bus-1');
    const { failed } = await publisher.publish(Array.from({ length: 30 }, (_, i) => event(i)));
    expect(call).toBe(2);
    expect(failed[0]).toEqual({ index: 13, reason: 'InternalFailure: boom' });
    expect(failed.map((f) => f.index)).toEqual([13, ...Array.from({ length: 10 }, (_, i) => 20 + i)]);
  });

  test('a PutEvents call that throws counts its chunk and the rest as not published', async () => {
    let call = 0;
    const publisher = putEventsPublisher(async (entries) => {
      call += 1;
      if (call === 2) throw new Error('socket hang up');
      return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: 'x' })) };
    }, 'bus-1');
    const { failed } = await publisher.publish(Array.from({ length: 25 }, (_, i) => event(i)));
    expect(failed.map((f) => f.index)).toEqual(Array.from({ length: 15 }, (_, i) => 10 + i));
  });
});

describe('local event bus', () => {
  const delivered = { source: 'stockroom', 'detail-type': 'OrderAllocated', detail: { tenant_id: 't1', status: 'held', version: 3, tags: ['a', 'b'] } };

  test('patterns match like EventBridge: value lists, nested detail, array fields, prefix, anything-but, exists, numeric', () => {
    expect(matches({ source: ['stockroom'] }, delivered)).toBe(true);
    expect(matches({ source: ['other'] }, delivered)).toBe(false);
    expect(matches({ 'detail-type': ['OrderReleased', 'OrderAllocated'], detail: { tenant_id: ['t1'] } }, delivered)).toBe(true);
    expect(matches({ detail: { tenant_id: ['t2'] } }, delivered)).toBe(false);
    expect(matches({ detail: { missing: ['x'] } }, delivered)).toBe(false);
    expect(matches({ detail: { tags: ['b'] } }, delivered)).toBe(true);
    expect(matches({ detail: { status: [{ prefix: 'he' }] } }, delivered)).toBe(true);
    expect(matches({ detail: { status: [{ 'anything-but': ['held'] }] } }, delivered)).toBe(false);
    expect(matches({ detail: { missing: [{ exists: false }], status: [{ exists: true }] } }, delivered)).toBe(true);
    expect(matches({ detail: { version: [{ numeric: ['>', 2, '<=', 3] }] } }, delivered)).toBe(true);
    expect(matches({ detail: { version: [{ numeric: ['>', 3] }] } }, delivered)).toBe(false);
    expect(matches({ detail: { tenant_id: { nested: ['x'] } } }, delivered)).toBe(false);
  });

  test('PutEvents logs each event, delivers it asynchronously to matching rules, and answers per entry', async () => {
    const bus = new LocalBus({ name: 'b' });
    const got: unknown[] = [];
    bus.subscribe({ 'detail-type': ['OrderAllocated'] }, (e) => got.push(e.detail));
    let attempts = 0;
    bus.addRule({ name: 'flaky', pattern: { source: ['stockroom'] }, targets: [() => { attempts += 1; if (attempts < 2) throw new Error('first time'); }] });
    const result = await bus.putEvents([
      { EventBusName: 'b', Source: 'stockroom', DetailType: 'OrderAllocated', Detail: '{"order_id":"o1"}', Time: new Date('2026-01-01T00:00:00.123Z') },
      { EventBusName: 'b', Source: 'stockroom', DetailType: 'StockLevelChanged', Detail: 'not json' },
      { EventBusName: 'other', Source: 'stockroom', DetailType: 'OrderAllocated', Detail: '{}' },
    ]);
    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries?.map((e) => e.ErrorCode)).toEqual([undefined, 'MalformedDetail', 'ResourceNotFoundException']);
    expect(got).toEqual([]);
    await bus.idle();
    expect(got).toEqual([{ order_id: 'o1' }]);
    expect(attempts).toBe(2);
    expect(bus.log).toHaveLength(1);
    expect(bus.log[0]).toMatchObject({ source: 'stockroom', 'detail-type': 'OrderAllocated', time: '2026-01-01T00:00:00Z', id: result.Entries?.[0]?.EventId });
    expect(bus.deliveryFailures).toEqual([]);
  });
});

test('the stream processor entry declared in functions/wiring.ts exports the Lambda handler', async () => {
  const module = (await import(resolve(__dirname, '../..', streamProcessor.entry))) as { handler?: unknown };
  expect(typeof module.handler).toBe('function');
});

describe('local scheduler', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test('fires every period with a scheduled event, never overlaps a slow run, logs errors instead of throwing, and stops', async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const events: unknown[] = [];
    const scheduler = startLocalScheduler({
      functions: { sweep: { entry: 'sweep.ts', everySeconds: 60, table: 'write', summary: 'test' } },
      everySeconds: 0.02,
      load: async () => async (event) => {
        calls += 1;
        events.push(event);
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(70);
        running -= 1;
        if (calls === 2) throw new Error('second run fails');
        return { released: calls };
      },
    });
    await sleep(400);
    await scheduler.stop();
    const after = calls;
    await sleep(100);
    const [state] = scheduler.schedules;
    expect(maxRunning).toBe(1);
    expect(calls).toBe(after);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(state).toMatchObject({ name: 'sweep', everySeconds: 0.02, failures: 1, lastError: undefined });
    expect(state!.skipped).toBeGreaterThan(0);
    expect(events[0]).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
  });

  test('a handler module that cannot be loaded is a logged failure, tried again next time', async () => {
    let loads = 0;
    const scheduler = startLocalScheduler({
      functions: { missing: { entry: 'nope.ts', everySeconds: 60, table: 'read', summary: 'test' } },
      everySeconds: 3600,
      load: async () => {
        loads += 1;
        throw new Error('Cannot find module nope.ts');
      },
    });
    await expect(scheduler.runNow('missing')).resolves.toBeUndefined();
    await scheduler.runNow('missing');
    expect(loads).toBe(2);
    expect(scheduler.schedules[0]).toMatchObject({ failures: 2, runs: 0, lastError: 'Cannot find module nope.ts' });
    await scheduler.stop();
  });
});
