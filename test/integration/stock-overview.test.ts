import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import type { Movement } from '../../functions/inventory/model';
import { createDocumentClient } from '../../functions/platform/db';
import { keys } from '../../functions/platform/keys';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';

/**
 * GET /api/reports/stock-overview end to end on DynamoDB Local: a hand-built
 * tenant (every change through the API, plus two ledger rows put straight in
 * the table at instants the API cannot write: 31 and 29 days ago), and the
 * report's numbers worked out by hand below.
 */

let t: TestApi;
let a: Client;
const report = (client: Client, query = '') => client.get(`/api/reports/stock-overview${query}`);
const DAY = 86_400_000;

/** A sale ledger row of sku-1 @ wh-1 made `daysAgo` days ago, written as the inventory context keys it (it changes no level). */
const pastSale = async (tenantId: string, daysAgo: number, quantity: number): Promise<void> => {
  const at = Date.now() - daysAgo * DAY;
  const id = ulid(at);
  const movement: Movement = {
    movement_id: id,
    sku_id: 'sku-1',
    warehouse_id: 'wh-1',
    type: 'sale',
    deltas: { on_hand: -quantity, reserved: 0, available: -quantity, incoming: 0 },
    actor: 'test',
    created_at: new Date(at).toISOString(),
  };
  await createDocumentClient().send(
    new PutCommand({
      TableName: process.env.TABLE_NAME,
      Item: { ...keys.movement(tenantId, 'sku-1', id), ...keys.movementIndex(tenantId, 'sku-1', 'wh-1', id), entity: 'movement', tenant_id: tenantId, ...movement },
    }),
  );
};

const update = async (c: Client, sku_id: string, warehouse_id: string, transaction_type: string, quantity: number, reason?: string) =>
  ok(await c.post('/api/inventory/update', { sku_id, warehouse_id, transaction_type, quantity, ...(reason ? { reason } : {}) }));

beforeAll(async () => {
  t = await startTestApi();
  a = await t.client();
  await setupCatalog(a, { warehouses: ['wh-1', 'wh-2', 'wh-3'] });
  ok(await a.post('/api/skus', { sku_id: 'sku-2', product_id: 'prod-1', name: 'Widget, red' }), 201);
  // sku-1 @ wh-1: +100, sold 20, 15 allocated to an order (only wh-1 has stock yet), 10 of them shipped:
  // on_hand 70, reserved 5, available 65; below its reorder point of 80 by 15.
  await update(a, 'sku-1', 'wh-1', 'restock', 100);
  await update(a, 'sku-1', 'wh-1', 'sale', 20);
  ok(await a.post('/api/orders/allocate', { order_id: 'o-1', lines: [{ sku_id: 'sku-1', quantity: 15 }], ship_to: { latitude: 40, longitude: -74 } }), 201);
  ok(await a.post('/api/orders/o-1/ship', { lines: [{ sku_id: 'sku-1', quantity: 10 }] }));
  ok(await a.put('/api/thresholds', { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 80, safety_stock: 10 }));
  // sku-1 @ wh-2: +10, sold 10: a stock-out, and below its reorder point of 5 by 5.
  await update(a, 'sku-1', 'wh-2', 'restock', 10);
  await update(a, 'sku-1', 'wh-2', 'sale', 10);
  ok(await a.put('/api/thresholds', { sku_id: 'sku-1', warehouse_id: 'wh-2', reorder_point: 5, safety_stock: 1 }));
  // sku-2 @ wh-1: +50, damaged 5, 5 transferred to wh-2: on_hand 40 and nothing went to a customer.
  await update(a, 'sku-2', 'wh-1', 'restock', 50);
  await update(a, 'sku-2', 'wh-1', 'adjustment', -5, 'damaged');
  ok(await a.post('/api/inventory/transfer', { sku_id: 'sku-2', from_warehouse_id: 'wh-1', to_warehouse_id: 'wh-2', quantity: 5 }));
  // sku-2 @ wh-2: the 5 transferred in, sold: a stock-out without a reorder point; 7 on a submitted purchase order.
  await update(a, 'sku-2', 'wh-2', 'sale', 5);
  ok(await a.post('/api/suppliers', { supplier_id: 'sup-1', name: 'Acme', lead_time_days: 7, currency: 'USD' }), 201);
  ok(await a.post('/api/purchase-orders', { purchase_order_id: 'po-1', supplier_id: 'sup-1', warehouse_id: 'wh-2', lines: [{ sku_id: 'sku-2', quantity: 7, unit_cost: '1.00' }] }), 201);
  ok(await a.post('/api/purchase-orders/po-1/submit'));
  // Sales of sku-1 @ wh-1 the API could not have made now: 31 days ago (outside the window) and 29 (inside).
  await pastSale(a.tenantId, 31, 1000);
  await pastSale(a.tenantId, 29, 3);
});

afterAll(() => t.close());

// sku-1 @ wh-1 sold 20 + shipped 10 + 3 (29 days ago) = 33 in 30 days: 1.1 a day.
const sku1wh1 = {
  sku_id: 'sku-1', warehouse_id: 'wh-1', on_hand: 70, reserved: 5, available: 65, incoming: 0, reorder_point: 80, safety_stock: 10,
  units_out_30d: 33, days_of_cover: 63.6, turnover_30d: 0.47, // 70 / 1.1 = 63.64; 33 / 70 = 0.471
};
const sku1wh2 = {
  sku_id: 'sku-1', warehouse_id: 'wh-2', on_hand: 0, reserved: 0, available: 0, incoming: 0, reorder_point: 5, safety_stock: 1,
  units_out_30d: 10, days_of_cover: 0, turnover_30d: null,
};
const sku2wh2 = {
  sku_id: 'sku-2', warehouse_id: 'wh-2', on_hand: 0, reserved: 0, available: 0, incoming: 7, reorder_point: 0, safety_stock: 0,
  units_out_30d: 5, days_of_cover: 0, turnover_30d: null,
};
const wh1 = {
  warehouse_id: 'wh-1', name: 'Warehouse 0', levels: 2, on_hand: 110, reserved: 5, available: 105, incoming: 0, stock_outs: 0, below_reorder_point: 1,
  units_out_30d: 33, days_of_cover: 100, turnover_30d: 0.3, // 110 / 1.1; 33 / 110
};
const wh2 = {
  warehouse_id: 'wh-2', name: 'Warehouse 1', levels: 2, on_hand: 0, reserved: 0, available: 0, incoming: 7, stock_outs: 2, below_reorder_point: 1,
  units_out_30d: 15, days_of_cover: 0, turnover_30d: null,
};
const wh3 = {
  warehouse_id: 'wh-3', name: 'Warehouse 2', levels: 0, on_hand: 0, reserved: 0, available: 0, incoming: 0, stock_outs: 0, below_reorder_point: 0,
  units_out_30d: 0, days_of_cover: null, turnover_30d: null,
};

test('the overview totals each warehouse, lists stock-outs and levels below their reorder point, with 30-day days of cover and turnover', async () => {
  const before = Date.now();
  const body = ok(await report(a));
  expect(body).toEqual({
    as_of: expect.any(String),
    window_from: expect.any(String),
    window_days: 30,
    warehouses: [wh1, wh2, wh3],
    // Most units out first.
    stock_outs: { count: 2, levels: [sku1wh2, sku2wh2] },
    // Largest shortfall first: 80 - 65 = 15, then 5 - 0 = 5.
    below_reorder_point: { count: 2, levels: [sku1wh1, sku1wh2] },
  });
  expect(Date.parse(body.as_of)).toBeGreaterThanOrEqual(before - 1000);
  expect(Date.parse(body.as_of) - Date.parse(body.window_from)).toBe(30 * DAY);
});

test('format=csv answers the warehouses, or with list= the stock-outs, as CSV rows equal to the JSON', async () => {
  const json = ok(await report(a));
  const csv = await report(a, '?format=csv');
  const lines = String(csv.body).trimEnd().split('\r\n');
  expect(lines[0]).toBe(Object.keys(json.warehouses[0]).join(','));
  expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(json.warehouses.map((w: { warehouse_id: string }) => w.warehouse_id));
  expect(csv.headers.get('x-as-of')).toEqual(expect.any(String));
  const outs = String((await report(a, '?format=csv&list=stock_outs.levels')).body).trimEnd().split('\r\n');
  expect(outs.slice(1).map((line) => line.split(',').slice(0, 2).join('/'))).toEqual(json.stock_outs.levels.map((l: { sku_id: string; warehouse_id: string }) => `${l.sku_id}/${l.warehouse_id}`));
});

test('a warehouse filter answers that warehouse only, with the same numbers', async () => {
  expect(ok(await report(a, '?warehouse_id=wh-2'))).toMatchObject({
    warehouses: [wh2],
    stock_outs: { count: 2, levels: [sku1wh2, sku2wh2] },
    below_reorder_point: { count: 1, levels: [sku1wh2] },
  });
});

test('a SKU filter counts that SKU only, in every warehouse', async () => {
  const body = ok(await report(a, '?sku_id=sku-2'));
  expect(body.warehouses).toEqual([
    { ...wh1, levels: 1, on_hand: 40, reserved: 0, available: 40, below_reorder_point: 0, units_out_30d: 0, days_of_cover: null, turnover_30d: 0 },
    { ...wh2, levels: 1, stock_outs: 1, below_reorder_point: 0, units_out_30d: 5 },
    wh3,
  ]);
  expect(body.stock_outs).toEqual({ count: 1, levels: [sku2wh2] });
  expect(body.below_reorder_point).toEqual({ count: 0, levels: [] });
  expect(ok(await report(a, '?sku_id=sku-1&warehouse_id=wh-1')).below_reorder_point).toEqual({ count: 1, levels: [sku1wh1] });
});

test('an analyst, a manager and an admin read the overview; a viewer, a clerk and a purchaser are refused with 403', async () => {
  const strip = ({ as_of: _a, window_from: _w, ...rest }: Record<string, unknown>) => rest;
  const expected = strip(ok(await report(a)));
  for (const role of ['analyst', 'manager'] as const) {
    const res = await report(await t.client({ tenantId: a.tenantId, role }));
    expect({ role, status: res.status, body: strip(res.body) }).toEqual({ role, status: 200, body: expected });
  }
  for (const role of ['viewer', 'clerk', 'purchaser'] as const) {
    const res = await report(await t.client({ tenantId: a.tenantId, role }));
    expect({ role, status: res.status, code: res.body.error?.code }).toEqual({ role, status: 403, code: 'FORBIDDEN' });
  }
});

test("another tenant sees nothing of tenant A's: an empty overview, and A's warehouse and SKU are unknown to it", async () => {
  const b = await t.client({ role: 'analyst' });
  const bAdmin = await t.client({ tenantId: b.tenantId });
  const body = ok(await report(b));
  expect(body).toMatchObject({ warehouses: [], stock_outs: { count: 0, levels: [] }, below_reorder_point: { count: 0, levels: [] } });
  expect((await report(b, '?warehouse_id=wh-1')).status).toBe(404);
  expect((await report(b, '?sku_id=sku-1')).status).toBe(404);
  // B's own warehouse of the same id holds B's levels only.
  await setupCatalog(bAdmin, { warehouses: ['wh-1'] });
  await update(bAdmin, 'sku-1', 'wh-1', 'restock', 3);
  const own = ok(await report(b));
  expect(JSON.stringify(own)).not.toContain(a.tenantId);
  expect(own.stock_outs).toEqual({ count: 0, levels: [] });
  expect(own.warehouses).toEqual([{ ...wh3, warehouse_id: 'wh-1', name: 'Warehouse 0', levels: 1, on_hand: 3, available: 3, turnover_30d: 0 }]);
});

test('an unknown warehouse or SKU is 404 naming it', async () => {
  const wh = await report(a, '?warehouse_id=wh-9');
  expect({ status: wh.status, code: wh.body.error.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
  expect(JSON.stringify(wh.body)).toContain('wh-9');
  const sku = await report(a, '?sku_id=sku-9');
  expect({ status: sku.status, code: sku.body.error.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
});

test.each([
  ['an unknown parameter', '?from=2026-01-01', 'from'],
  ['a warehouse id with a key separator', '?warehouse_id=wh%231', 'warehouse_id'],
  ['an injection attempt as a SKU id', `?sku_id=${encodeURIComponent("x' OR '1'='1")}`, 'sku_id'],
  ['an empty warehouse id', '?warehouse_id=', 'warehouse_id'],
])('%s is 400 naming the field', async (_what, query, field) => {
  const res = await report(a, query);
  expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  expect(JSON.stringify(res.body.error.details)).toContain(field);
});

test('each list holds its first 100 levels in its order, and counts them all', async () => {
  const c = await t.client();
  await setupCatalog(c, { skuId: 's-000', warehouses: ['wh-1'] });
  const n = 205;
  const ids = Array.from({ length: n }, (_, i) => `s-${String(i).padStart(3, '0')}`);
  // A threshold on a never-stocked SKU x warehouse makes its level: nothing available, short by its reorder point.
  const reorderPoint = (i: number) => 1 + (i % 7);
  for (const [i, sku_id] of ids.entries()) {
    if (i > 0) ok(await c.post('/api/skus', { sku_id, product_id: 'prod-1', name: `SKU ${i}` }), 201);
    ok(await c.put('/api/thresholds', { sku_id, warehouse_id: 'wh-1', reorder_point: reorderPoint(i), safety_stock: 0 }));
  }
  const body = ok(await report(c));
  expect(body.warehouses).toEqual([expect.objectContaining({ warehouse_id: 'wh-1', levels: n, stock_outs: n, below_reorder_point: n })]);
  expect(body.stock_outs.count).toBe(n);
  expect(body.stock_outs.levels.map((l: { sku_id: string }) => l.sku_id)).toEqual(ids.slice(0, 100));
  const byShortfall = ids.map((id, i) => ({ id, shortfall: reorderPoint(i) })).sort((x, y) => y.shortfall - x.shortfall || (x.id < y.id ? -1 : 1));
  expect(body.below_reorder_point.count).toBe(n);
  expect(body.below_reorder_point.levels.map((l: { sku_id: string }) => l.sku_id)).toEqual(byShortfall.slice(0, 100).map((x) => x.id));
}, 120_000);
