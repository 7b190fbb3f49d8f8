import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBus } from '../../bin/local/bus';
import { MOVEMENT_COLUMNS, partitionDir } from '../../bin/local/lake';
import { startLakeFeed } from '../../bin/local/lake-feed';
import { queryLake, type LakeRow } from '../../bin/local/lake-query';
import { eventsFromRecord } from '../../functions/events/mapper';
import { ORDER_LINE_COLUMNS } from '../../functions/events/lake-columns';
import { movementRecordedDetail, orderLineRecordedDetail, type MovementRecordedDetail, type OrderLineRecordedDetail } from '../../functions/events/model';
import { toEntry } from '../../functions/events/publisher';
import type { Movement } from '../../functions/inventory/model';
import { canonicalDecimal } from '../../functions/platform/money';
import { lakeFeeds } from '../../functions/wiring';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { streamRecord } from '../support/events';
import { allMovements } from '../support/ledger';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

/**
 * The lake feed (issue 9) under the local runtime: API writes -> table stream ->
 * stream processor -> MovementRecorded on the bus -> lake feed -> Parquet under
 * `movements/tenant_id=<t>/dt=YYYY-MM-DD/`, read back with DuckDB (queryLake).
 */

let root: string;
let t: TestApi;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stockroom-lake-feed-'));
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
  await rm(root, { recursive: true, force: true });
});

const ALL = 'SELECT * FROM movements ORDER BY movement_id';

/** A ledger row as the API returns it, in the lake's columns (unit costs compared as exact decimals). */
const asLakeRow = (tenantId: string, m: Movement): LakeRow => ({
  tenant_id: tenantId,
  dt: m.created_at.slice(0, 10),
  movement_id: m.movement_id,
  sku_id: m.sku_id,
  warehouse_id: m.warehouse_id,
  type: m.type,
  delta_on_hand: m.deltas.on_hand,
  delta_reserved: m.deltas.reserved,
  delta_available: m.deltas.available,
  delta_incoming: m.deltas.incoming,
  resulting_on_hand: m.resulting?.on_hand ?? null,
  resulting_reserved: m.resulting?.reserved ?? null,
  resulting_available: m.resulting?.available ?? null,
  resulting_incoming: m.resulting?.incoming ?? null,
  version: m.version ?? null,
  unit_cost: m.unit_cost === undefined ? null : canonicalDecimal(m.unit_cost),
  currency: m.currency ?? null,
  reason: m.reason ?? null,
  reference: m.reference ?? null,
  note: m.note ?? null,
  correlation_id: m.correlation_id ?? null,
  actor: m.actor,
  created_at: m.created_at,
});

const exactCost = (row: LakeRow): LakeRow => ({ ...row, unit_cost: typeof row.unit_cost === 'string' ? canonicalDecimal(row.unit_cost) : (row.unit_cost ?? null) });

/** Polls the lake until it holds `count` rows of the tenant; returns them and how long it took. */
const waitForLake = async (tenantId: string, count: number, limitMs = 15_000): Promise<{ rows: LakeRow[]; ms: number }> => {
  const started = Date.now();
  for (;;) {
    const rows = await queryLake(root, ALL, { tenant_id: tenantId });
    if (rows.length >= count || Date.now() - started > limitMs) return { rows: rows.map(exactCost), ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 100));
  }
};

const ledgerOf = async (c: Client, skus: string[]): Promise<Movement[]> =>
  (await Promise.all(skus.map((sku) => allMovements(c, sku)))).flat().sort((x, y) => (x.movement_id < y.movement_id ? -1 : 1));

const files = async (dir: string): Promise<string[]> => (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.parquet'));

describe('ledger rows reach the lake through the local runtime', () => {
  let a: Client;
  let b: Client;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    a = await t.client();
    b = await t.client();
    // The runtime's cadence (flush every 2 s); compaction is exercised on its own below.
    pipeline = await startLocalPipeline([a.tenantId, b.tenantId], { lake: { root, compactEveryMs: 0 } });
  });
  afterAll(() => pipeline.stop());

  test('after stock changes of every kind, the lake holds each ledger row once, with the values the API reads, within 10 s', async () => {
    await setupCatalog(a, { warehouses: ['wh-1', 'wh-2'] });
    ok(await a.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 20 }));
    ok(await a.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 3, reference: 'order-9' }));
    ok(await a.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'adjustment', quantity: -2, reason: 'damaged', note: 'it\'s "wet"' }));
    ok(await a.post('/api/inventory/transfer', { sku_id: 'sku-1', from_warehouse_id: 'wh-1', to_warehouse_id: 'wh-2', quantity: 5 }));
    ok(await a.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-2', transaction_type: 'count', quantity: 4 }));
    // A purchase order received at a cost: receipt rows carry unit_cost and currency.
    ok(await a.post('/api/suppliers', { supplier_id: 'sup-1', name: 'Supplier', lead_time_days: 3, currency: 'EUR' }), 201);
    ok(await a.post('/api/purchase-orders', { purchase_order_id: 'po-1', supplier_id: 'sup-1', warehouse_id: 'wh-2', lines: [{ sku_id: 'sku-1', quantity: 6, unit_cost: '4.125' }] }), 201);
    ok(await a.post('/api/purchase-orders/po-1/submit'));
    ok(await a.post('/api/purchase-orders/po-1/receive', { lines: [{ sku_id: 'sku-1', quantity: 4 }], note: 'DN-77' }));

    const ledger = await ledgerOf(a, ['sku-1']);
    expect(ledger.map((m) => m.type).sort()).toEqual(['adjustment', 'count', 'purchase_ordered', 'receipt', 'restock', 'sale', 'transfer_in', 'transfer_out']);
    const { rows, ms } = await waitForLake(a.tenantId, ledger.length);
    expect(rows).toEqual(ledger.map((m) => asLakeRow(a.tenantId, m)));
    expect(ms).toBeLessThan(10_000);
    expect(rows.find((r) => r.type === 'receipt')).toMatchObject({ unit_cost: '4.125', currency: 'EUR', note: 'DN-77', delta_on_hand: 4, delta_incoming: -4 });
    // Once, not more: a later flush adds nothing, and no stream record was dead-lettered.
    await pipeline.settle();
    await pipeline.lakeFeed!.flush();
    expect(await queryLake(root, 'SELECT count(*) AS n, count(DISTINCT movement_id) AS ids FROM movements', { tenant_id: a.tenantId })).toEqual([
      { n: ledger.length, ids: ledger.length },
    ]);
    expect(pipeline.poller.deadLetters.filter((d) => d.record.dynamodb?.Keys?.pk?.S?.startsWith(`T#${a.tenantId}#`))).toEqual([]);
    expect(pipeline.lakeFeed!.rejected).toEqual([]);
  });

  test("another tenant's rows land under its own tenant_id partition, and neither tenant reads the other's", async () => {
    await setupCatalog(b, { skuId: 'sku-b', warehouses: ['wh-1'] });
    ok(await b.post('/api/inventory/update', { sku_id: 'sku-b', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 7 }));
    ok(await b.post('/api/inventory/update', { sku_id: 'sku-b', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 1 }));
    const ledger = await ledgerOf(b, ['sku-b']);
    const { rows, ms } = await waitForLake(b.tenantId, ledger.length);
    expect(rows).toEqual(ledger.map((m) => asLakeRow(b.tenantId, m)));
    expect(ms).toBeLessThan(10_000);

    const days = [...new Set(ledger.map((m) => m.created_at.slice(0, 10)))];
    for (const dt of days) expect((await files(partitionDir(root, b.tenantId, dt))).length).toBeGreaterThan(0);
    // Every movement id of b is in b's partition and in no file of a's.
    const bIds = new Set(ledger.map((m) => m.movement_id));
    const aRows = await queryLake(root, ALL, { tenant_id: a.tenantId });
    expect(aRows.length).toBeGreaterThan(0);
    expect(aRows.filter((r) => bIds.has(String(r.movement_id)))).toEqual([]);
    expect(rows.every((r) => r.tenant_id === b.tenantId)).toBe(true);
    expect(await readdir(join(root, 'movements'))).toEqual(expect.arrayContaining([`tenant_id=${a.tenantId}`, `tenant_id=${b.tenantId}`]));
  });
});

describe('order line outcomes reach the lake (orders/) through the local runtime', () => {
  let c: Client;
  let pipeline: LocalPipeline;
  const ORDERS = 'SELECT * FROM orders ORDER BY created_at, order_version, line_index, warehouse_id';

  beforeAll(async () => {
    c = await t.client();
    pipeline = await startLocalPipeline([c.tenantId], { lake: { root, compactEveryMs: 0 } });
  });
  afterAll(() => pipeline.stop());

  const waitForOrders = async (count: number, limitMs = 15_000): Promise<LakeRow[]> => {
    const started = Date.now();
    for (;;) {
      const rows = await queryLake(root, ORDERS, { tenant_id: c.tenantId });
      if (rows.length >= count || Date.now() - started > limitMs) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  test('an order allocated, shipped in part, then cancelled is one row per leg and outcome, partitioned by tenant and day, each once', async () => {
    await setupCatalog(c, { warehouses: ['wh-1'] });
    ok(await c.post('/api/skus', { sku_id: 'sku-2', product_id: 'prod-1', name: 'Widget, red' }), 201);
    ok(await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 10 }));
    ok(await c.post('/api/inventory/update', { sku_id: 'sku-2', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 10 }));
    const lines = [
      { sku_id: 'sku-1', quantity: 4 },
      { sku_id: 'sku-2', quantity: 2 },
    ];
    const allocated: { version: number } = ok(await c.post('/api/orders/allocate', { order_id: 'ord-1', lines, ship_to: { latitude: 40, longitude: -74 } }), 201);
    expect(allocated.version).toBe(1);
    ok(await c.post('/api/orders/ord-1/ship', { lines: [{ sku_id: 'sku-1', quantity: 3 }] }));
    ok(await c.post('/api/orders/ord-1/cancel'));

    const rows = await waitForOrders(5);
    const dt = String(rows[0]?.created_at).slice(0, 10);
    expect(rows.map((r) => [r.outcome, r.line_index, r.sku_id, r.warehouse_id, r.quantity, r.line_quantity, r.reason, r.order_status, r.order_version])).toEqual([
      ['allocated', 0, 'sku-1', 'wh-1', 4, 4, null, 'allocated', 1],
      ['allocated', 1, 'sku-2', 'wh-1', 2, 2, null, 'allocated', 1],
      ['shipped', 0, 'sku-1', 'wh-1', 3, 4, null, 'partially_shipped', 2],
      ['released', 0, 'sku-1', 'wh-1', 1, 4, 'cancelled', 'cancelled', 3],
      ['released', 1, 'sku-2', 'wh-1', 2, 2, 'cancelled', 'cancelled', 3],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({ tenant_id: c.tenantId, order_id: 'ord-1', correlation_id: 'ord-1', dt });
      expect(row.record_id).toBe(`ord-1:v${String(row.order_version)}:${String(row.line_index)}:${String(row.warehouse_id)}`);
    }
    // Parquet under orders/tenant_id=<t>/dt=YYYY-MM-DD/, the layout of the Glue table.
    expect((await files(partitionDir(root, c.tenantId, dt, 'orders'))).length).toBeGreaterThan(0);
    expect(await readdir(join(root, 'orders'))).toContain(`tenant_id=${c.tenantId}`);
    // Once each: a later flush adds nothing; nothing was refused or dead-lettered.
    await pipeline.settle();
    await pipeline.lakeFeed!.flush();
    expect(await queryLake(root, 'SELECT count(*) AS n, count(DISTINCT record_id) AS ids FROM orders', { tenant_id: c.tenantId })).toEqual([{ n: 5, ids: 5 }]);
    expect(pipeline.lakeFeed!.rejected).toEqual([]);
    // The ledger rows of the same order join on correlation_id.
    const joined = await queryLake(
      root,
      "SELECT count(*) AS n FROM orders o JOIN movements m ON m.correlation_id = o.correlation_id AND m.sku_id = o.sku_id WHERE o.outcome = 'shipped' AND m.type = 'shipment'",
      { tenant_id: c.tenantId },
    );
    expect(joined).toEqual([{ n: 1 }]);
  });
});

describe('the orders feed on its own bus', () => {
  const TENANT = 'lf-orders';
  const line = (over: Partial<OrderLineRecordedDetail> = {}): OrderLineRecordedDetail => ({
    event_id: `OrderLineRecorded:T#${TENANT}#ORDER:o-1:v1:0:wh-1`,
    schema_version: 1,
    tenant_id: TENANT,
    occurred_at: '2025-05-06T07:08:09.010Z',
    record_id: 'o-1:v1:0:wh-1',
    order_id: 'o-1',
    line_index: 0,
    sku_id: 'sku-1',
    warehouse_id: 'wh-1',
    outcome: 'allocated',
    quantity: 2,
    line_quantity: 2,
    reason: null,
    order_status: 'allocated',
    order_version: 1,
    correlation_id: 'o-1',
    created_at: '2025-05-06T07:08:09.010Z',
    ...over,
  });

  test('a repeated order line event is stored once, a bad one is kept aside, and the rows land under orders/tenant_id=<t>/dt=<day>/', async () => {
    const bus = new LocalBus();
    const feed = await startLakeFeed(bus, { root, flushEveryMs: 0, compactEveryMs: 0 });
    const first = line();
    const shipped = line({ event_id: 'e-2', record_id: 'o-1:v2:0:wh-1', outcome: 'shipped', order_status: 'shipped', order_version: 2, created_at: '2025-05-07T00:00:00.000Z', occurred_at: '2025-05-07T00:00:00.000Z' });
    const bad = { ...line({ event_id: 'e-bad', record_id: 'o-1:v3:0:wh-1' }), quantity: 'two' } as unknown as OrderLineRecordedDetail;
    for (const d of [first, first, shipped, { ...first, event_id: 'same row, another event id' }, bad])
      await bus.putEvents([toEntry({ source: 'stockroom', 'detail-type': 'OrderLineRecorded', detail: d }, bus.name)]);
    await bus.idle();
    await feed.close();
    expect(feed.stats).toMatchObject({ received: 5, appended: 2, duplicates: 2, rejected: 1 });
    expect(feed.rejected[0]?.error).toMatch(/quantity/);
    const rows = await queryLake(root, 'SELECT record_id, outcome, dt, created_at FROM orders ORDER BY record_id', { tenant_id: TENANT });
    expect(rows).toEqual([
      { record_id: 'o-1:v1:0:wh-1', outcome: 'allocated', dt: '2025-05-06', created_at: '2025-05-06T07:08:09.010Z' },
      { record_id: 'o-1:v2:0:wh-1', outcome: 'shipped', dt: '2025-05-07', created_at: '2025-05-07T00:00:00.000Z' },
    ]);
    expect((await files(partitionDir(root, TENANT, '2025-05-06', 'orders'))).length).toBe(1);
    expect((await files(partitionDir(root, TENANT, '2025-05-07', 'orders'))).length).toBe(1);
    // Order lines never land among the movements.
    expect(await queryLake(root, 'SELECT count(*) AS n FROM movements', { tenant_id: TENANT })).toEqual([{ n: 0 }]);
  });

  test("the event's fields are exactly the orders table's columns plus the tenant and the event's own metadata", () => {
    expect(Object.keys(orderLineRecordedDetail.shape).sort()).toEqual([...ORDER_LINE_COLUMNS.map(([name]) => name), 'tenant_id', 'event_id', 'schema_version', 'occurred_at', 'log_correlation_id'].sort());
    expect(lakeFeeds.orders.columns).toBe(ORDER_LINE_COLUMNS);
  });
});

describe('the lake feed on its own bus', () => {
  const TENANT = 'lf-own';
  let seq = 0;
  const detail = (over: Partial<MovementRecordedDetail> = {}): MovementRecordedDetail => {
    seq += 1;
    const id = `01JBBBBBBBBBBBBBBBBBBBB${String(seq).padStart(3, '0')}`;
    return {
      event_id: `MovementRecorded:T#${over.tenant_id ?? TENANT}#LEDGER#sku-1:${id}`,
      schema_version: 1,
      tenant_id: TENANT,
      occurred_at: '2025-05-06T07:08:09.010Z',
      movement_id: id,
      sku_id: 'sku-1',
      warehouse_id: 'wh-1',
      type: 'restock',
      delta_on_hand: 3,
      delta_reserved: 0,
      delta_available: 3,
      delta_incoming: 0,
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
      actor: 'user-1',
      created_at: '2025-05-06T07:08:09.010Z',
      ...over,
    };
  };
  const publish = async (bus: LocalBus, details: MovementRecordedDetail[]): Promise<void> => {
    for (const d of details) await bus.putEvents([toEntry({ source: 'stockroom', 'detail-type': 'MovementRecorded', detail: d }, bus.name)]);
    await bus.idle();
  };

  test("the event's fields are exactly the lake's columns plus the tenant and the event's own metadata", () => {
    const fields = Object.keys(movementRecordedDetail.shape).sort();
    expect(fields).toEqual([...MOVEMENT_COLUMNS.map(([name]) => name), 'tenant_id', 'event_id', 'schema_version', 'occurred_at', 'log_correlation_id'].sort());
    const [event] = eventsFromRecord(
      streamRecord('INSERT', {
        pk: 'T#x#LEDGER#s',
        sk: '01JCCCCCCCCCCCCCCCCCCCCCCC',
        entity: 'movement',
        tenant_id: 'x',
        movement_id: '01JCCCCCCCCCCCCCCCCCCCCCCC',
        sku_id: 's',
        warehouse_id: 'w',
        type: 'sale',
        deltas: { on_hand: -1, reserved: 0, available: -1, incoming: 0 },
        actor: 'a',
        created_at: '2025-01-01T00:00:00.000Z',
      }),
    );
    expect(event?.['detail-type']).toBe(lakeFeeds.movements.pattern['detail-type'][0]);
    expect(Object.keys(event?.detail ?? {}).sort()).toEqual(fields.filter((field) => field !== 'log_correlation_id')); // present only when the writer had a correlation id
  });

  test('a repeated event is stored once; the final flush on close writes what the timer had not', async () => {
    const bus = new LocalBus();
    // The timer would flush only after a minute: whatever lands must come from close().
    const feed = await startLakeFeed(bus, { root, flushEveryMs: 60_000, compactEveryMs: 0 });
    const first = detail({ unit_cost: '19.99', currency: 'USD', resulting_on_hand: 3, resulting_reserved: 0, resulting_available: 3, resulting_incoming: 0, version: 1 });
    const second = detail();
    await publish(bus, [first, first, second, { ...first, event_id: 'another id, same row' }]);
    expect(feed.stats).toMatchObject({ received: 4, appended: 2, duplicates: 2, rejected: 0 });
    expect(await queryLake(root, ALL, { tenant_id: TENANT })).toEqual([]);
    await feed.close();
    const rows = await queryLake(root, ALL, { tenant_id: TENANT });
    expect(rows.map((r) => [r.movement_id, r.unit_cost, r.resulting_on_hand, r.version])).toEqual([
      [first.movement_id, '19.9900', 3, 1],
      [second.movement_id, null, null, null],
    ]);
    // Closed: later events are not taken (the rule is gone).
    await publish(bus, [detail()]);
    expect(feed.stats.received).toBe(4);
  });

  test('a detail the lake cannot store is refused and kept aside; the rows around it still land', async () => {
    const bus = new LocalBus();
    const feed = await startLakeFeed(bus, { root, flushEveryMs: 0, compactEveryMs: 0 });
    const tenant = 'lf-bad';
    const good = [detail({ tenant_id: tenant }), detail({ tenant_id: tenant })];
    const bad = { ...detail({ tenant_id: tenant }), delta_on_hand: 'three' } as unknown as MovementRecordedDetail;
    const badTenant = detail({ tenant_id: '../escape' });
    await publish(bus, [good[0]!, bad, badTenant, good[1]!]);
    await feed.close();
    expect(feed.stats).toMatchObject({ received: 4, appended: 2, rejected: 2 });
    expect(feed.rejected.map((r) => r.event_id)).toEqual([bad.event_id, badTenant.event_id]);
    expect(feed.rejected[0]?.error).toMatch(/delta_on_hand/);
    expect((await queryLake(root, ALL, { tenant_id: tenant })).map((r) => r.movement_id)).toEqual(good.map((g) => g.movement_id));
    expect(bus.deliveryFailures).toEqual([]);
  });

  test('a sweep compacts a tenant-day with more than N files into one, rows unchanged, and leaves smaller ones alone', async () => {
    const bus = new LocalBus();
    const feed = await startLakeFeed(bus, { root, flushEveryMs: 0, compactEveryMs: 0, compactAboveFiles: 2 });
    const busy = 'lf-busy';
    const quiet = 'lf-quiet';
    for (let i = 0; i < 3; i++) {
      await publish(bus, [detail({ tenant_id: busy }), detail({ tenant_id: busy })]);
      await feed.flush();
    }
    await publish(bus, [detail({ tenant_id: quiet })]);
    await feed.flush();
    await publish(bus, [detail({ tenant_id: quiet })]);
    await feed.flush();
    const dt = '2025-05-06';
    expect((await files(partitionDir(root, busy, dt))).length).toBe(3);
    const before = await queryLake(root, ALL, { tenant_id: busy });

    const merged = await feed.compactNow();
    expect(merged).toEqual([expect.objectContaining({ files: 3, rows: 6 })]);
    expect((await files(partitionDir(root, busy, dt))).length).toBe(1);
    expect((await files(partitionDir(root, quiet, dt))).length).toBe(2);
    expect(await queryLake(root, ALL, { tenant_id: busy })).toEqual(before);
    // Nothing new since: the next sweep has nothing to do.
    expect(await feed.compactNow()).toEqual([]);
    await feed.close();
  });

  test('after a restart, the first sweep also compacts partitions an earlier run left behind', async () => {
    const tenant = 'lf-restart';
    const earlier = await startLakeFeed(new LocalBus(), { root, flushEveryMs: 0, compactEveryMs: 0 });
    earlier.lake.append([
      { tenant_id: tenant, movement_id: 'm-1', sku_id: 's', warehouse_id: 'w', type: 'restock', deltas: { on_hand: 1, reserved: 0, available: 1, incoming: 0 }, actor: 'a', created_at: '2025-02-03T00:00:00.000Z' },
    ]);
    await earlier.flush();
    earlier.lake.append([
      { tenant_id: tenant, movement_id: 'm-2', sku_id: 's', warehouse_id: 'w', type: 'sale', deltas: { on_hand: -1, reserved: 0, available: -1, incoming: 0 }, actor: 'a', created_at: '2025-02-03T01:00:00.000Z' },
    ]);
    await earlier.close();
    expect((await files(partitionDir(root, tenant, '2025-02-03'))).length).toBe(2);

    const later = await startLakeFeed(new LocalBus(), { root, flushEveryMs: 0, compactEveryMs: 0, compactAboveFiles: 1 });
    const merged = await later.compactNow();
    expect(merged).toContainEqual(expect.objectContaining({ files: 2, rows: 2 }));
    expect((await files(partitionDir(root, tenant, '2025-02-03'))).length).toBe(1);
    await later.close();
  });
});
