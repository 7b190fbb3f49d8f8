import { orderResponse, planResponse } from '../../functions/orders/schemas';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { allMovements, reconcile } from '../support/ledger';
import { levelQuantities } from '../support/levels';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

/** Three warehouses on a line east of the customer: wh-1 nearest. */
const stocked = async (stock: Record<string, number>, skuIds = ['sku-1']) => {
  const c = await t.client();
  await setupCatalog(c, { warehouses: ['wh-1', 'wh-2', 'wh-3'] });
  for (const skuId of skuIds.slice(1)) await c.post('/api/skus', { sku_id: skuId, product_id: 'prod-1', name: skuId });
  for (const skuId of skuIds) {
    for (const [warehouseId, quantity] of Object.entries(stock)) {
      if (quantity > 0) await c.post('/api/inventory/update', { sku_id: skuId, warehouse_id: warehouseId, transaction_type: 'restock', quantity });
    }
  }
  return c;
};
const shipTo = { latitude: 40, longitude: -75 };
const allocate = (c: Client, orderId: string, lines: { sku_id: string; quantity: number }[], extra: Record<string, unknown> = {}) =>
  c.post('/api/orders/allocate', { order_id: orderId, lines, ship_to: shipTo, ...extra });
/** warehouse -> [on_hand, reserved, available] */
const levels = (c: Client, skuId = 'sku-1') => levelQuantities(c, skuId, ['on_hand', 'reserved', 'available']);

describe('POST /api/orders/allocate', () => {
  test('reserves the whole order from the one warehouse that can fill it and returns the plan', async () => {
    const c = await stocked({ 'wh-1': 2, 'wh-2': 10, 'wh-3': 1 });
    const res = await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 5 }]);
    expect(res.status).toBe(201);
    const order = orderResponse.parse(res.body);
    expect(order).toMatchObject({ status: 'allocated', shipments: 1, allocations: [{ warehouse_id: 'wh-2', quantity: 5, shipped: 0, released: 0 }] });
    expect(await levels(c)).toEqual({ 'wh-1': [2, 0, 2], 'wh-2': [10, 5, 5], 'wh-3': [1, 0, 1] });
    const rows = (await allMovements(c, 'sku-1')).filter((m) => m.type === 'allocation');
    expect(rows).toEqual([expect.objectContaining({ warehouse_id: 'wh-2', correlation_id: 'o-1', deltas: { on_hand: 0, reserved: 5, available: -5, incoming: 0 } })]);
    expect(await reconcile(c, 'sku-1')).toEqual([]);
  });

  test('splits across the fewest warehouses when none can fill the order alone', async () => {
    const c = await stocked({ 'wh-1': 3, 'wh-2': 3, 'wh-3': 3 });
    const res = await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 6 }]);
    expect(res.body.shipments).toBe(2);
    expect(res.body.allocations.map((a: { warehouse_id: string; quantity: number }) => [a.warehouse_id, a.quantity])).toEqual([
      ['wh-1', 3],
      ['wh-2', 3],
    ]);
  });

  test('allow_split false refuses a split with 409 INSUFFICIENT_STOCK, the shortfall and a partial proposal, writing nothing', async () => {
    const c = await stocked({ 'wh-1': 3, 'wh-2': 3 });
    const res = await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 5 }], { allow_split: false });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('INSUFFICIENT_STOCK');
    expect(res.body.error.details.shortfall).toEqual([{ sku_id: 'sku-1', requested: 5, available: 3, short: 2 }]);
    expect(res.body.error.details.partial_fill).toHaveLength(1);
    expect((await c.get('/api/orders/status/o-1')).status).toBe(404);
    expect(await levels(c)).toEqual({ 'wh-1': [3, 0, 3], 'wh-2': [3, 0, 3] });
  });

  test('a truly short multi-line order reports each short line and reserves nothing', async () => {
    const c = await stocked({ 'wh-1': 2 }, ['sku-1', 'sku-2']);
    const res = await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 1 }, { sku_id: 'sku-2', quantity: 5 }]);
    expect(res.status).toBe(409);
    expect(res.body.error.details.shortfall).toEqual([{ sku_id: 'sku-2', requested: 5, available: 2, short: 3 }]);
    expect(await levels(c, 'sku-1')).toEqual({ 'wh-1': [2, 0, 2] });
  });

  test('inactive warehouses are never used and warehouse_ids restricts the choice', async () => {
    const c = await stocked({ 'wh-1': 5, 'wh-2': 5, 'wh-3': 5 });
    await c.patch('/api/warehouses/wh-1', { active: false });
    const first = await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 1 }]);
    expect(first.body.allocations[0].warehouse_id).toBe('wh-2');
    const restricted = await allocate(c, 'o-2', [{ sku_id: 'sku-1', quantity: 1 }], { warehouse_ids: ['wh-3'] });
    expect(restricted.body.allocations[0].warehouse_id).toBe('wh-3');
  });

  test('the same order_id twice returns the existing allocation and reserves once', async () => {
    const c = await stocked({ 'wh-1': 5 });
    const first = await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 2 }]);
    const again = await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 2 }]);
    expect(again.body).toEqual(first.body);
    const concurrent = await Promise.all([1, 2, 3, 4, 5].map(() => allocate(c, 'o-2', [{ sku_id: 'sku-1', quantity: 1 }])));
    expect(new Set(concurrent.map((r) => r.body.created_at)).size).toBe(1);
    expect(await levels(c)).toEqual({ 'wh-1': [5, 3, 2] });
    // Even once the stock is gone, the same order_id is answered with its order, not a shortfall.
    await allocate(c, 'o-3', [{ sku_id: 'sku-1', quantity: 2 }]);
    const late = await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 2 }]);
    expect(late.body).toEqual(first.body);
  });

  test('an unknown SKU is 404, duplicate lines and oversized orders are 400 saying the limit', async () => {
    const c = await stocked({ 'wh-1': 5 });
    expect((await allocate(c, 'o-1', [{ sku_id: 'ghost', quantity: 1 }])).status).toBe(404);
    const dup = await allocate(c, 'o-2', [{ sku_id: 'sku-1', quantity: 1 }, { sku_id: 'sku-1', quantity: 1 }]);
    expect(dup.status).toBe(400);
    const big = await allocate(c, 'o-3', Array.from({ length: 50 }, (_, i) => ({ sku_id: `s-${i}`, quantity: 1 })));
    expect(big.status).toBe(400);
    expect(big.body.error.details.fields[0].message).toMatch(/at most 49 lines/);
    for (const bad of [{ quantity: 0 }, { quantity: -1 }, { quantity: 1.5 }, { quantity: '1' }]) {
      expect((await allocate(c, 'o-4', [{ sku_id: 'sku-1', ...bad } as never])).status).toBe(400);
    }
    expect(await levels(c)).toEqual({ 'wh-1': [5, 0, 5] });
  });
});

test('POST /api/orders/plan explains the choice and reserves nothing', async () => {
  const c = await stocked({ 'wh-1': 1, 'wh-2': 4 });
  const res = await c.post('/api/orders/plan', { lines: [{ sku_id: 'sku-1', quantity: 3 }], ship_to: shipTo });
  expect(res.status).toBe(200);
  expect(planResponse.parse(res.body)).toMatchObject({ feasible: true, shipments: 1, warehouses: ['wh-2'] });
  expect(res.body.explanation).toMatch(/wh-2/);
  const short = await c.post('/api/orders/plan', { lines: [{ sku_id: 'sku-1', quantity: 9 }], ship_to: shipTo });
  expect(short.body).toMatchObject({ feasible: false, shortfall: [{ sku_id: 'sku-1', requested: 9, available: 5, short: 4 }] });
  expect(await levels(c)).toEqual({ 'wh-1': [1, 0, 1], 'wh-2': [4, 0, 4] });
});

describe('order lifecycle', () => {
  test('ship part, then the rest: on_hand and reserved fall together, status follows', async () => {
    const c = await stocked({ 'wh-1': 10 });
    await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 4 }]);
    const part = await c.post('/api/orders/o-1/ship', { lines: [{ sku_id: 'sku-1', quantity: 1 }] });
    expect(part.body).toMatchObject({ status: 'partially_shipped', allocations: [{ shipped: 1 }] });
    expect(await levels(c)).toEqual({ 'wh-1': [9, 3, 6] });
    const over = await c.post('/api/orders/o-1/ship', { lines: [{ sku_id: 'sku-1', quantity: 4 }] });
    expect(over.status).toBe(409);
    expect(over.body.error.details).toMatchObject({ requested: 4, outstanding: 3 });
    const rest = await c.post('/api/orders/o-1/ship', { lines: [{ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 3 }] });
    expect(rest.body).toMatchObject({ status: 'shipped', shipped_at: expect.any(String) });
    expect(await levels(c)).toEqual({ 'wh-1': [6, 0, 6] });
    expect((await c.post('/api/orders/o-1/cancel')).status).toBe(409);
    expect(await reconcile(c, 'sku-1')).toEqual([]);
  });

  test('cancel gives back every unshipped unit once; cancelling again changes nothing', async () => {
    const c = await stocked({ 'wh-1': 10 });
    await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 4 }]);
    await c.post('/api/orders/o-1/ship', { lines: [{ sku_id: 'sku-1', quantity: 1 }] });
    const cancelled = await c.post('/api/orders/o-1/cancel');
    expect(cancelled.body).toMatchObject({ status: 'cancelled', allocations: [{ quantity: 4, shipped: 1, released: 3 }] });
    const again = await Promise.all([1, 2, 3].map(() => c.post('/api/orders/o-1/cancel')));
    for (const r of again) expect(r.body).toEqual(cancelled.body);
    expect(await levels(c)).toEqual({ 'wh-1': [9, 0, 9] });
    expect((await allMovements(c, 'sku-1')).filter((m) => m.type === 'release')).toHaveLength(1);
    expect((await c.post('/api/orders/o-1/ship', { lines: [{ sku_id: 'sku-1', quantity: 1 }] })).status).toBe(409);
    expect(await reconcile(c, 'sku-1')).toEqual([]);
  });

  test('a hold must be confirmed before shipping; confirm makes it firm and is idempotent', async () => {
    const c = await stocked({ 'wh-1': 10 });
    const held = await allocate(c, 'o-1', [{ sku_id: 'sku-1', quantity: 2 }], { hold_seconds: 600 });
    expect(held.body).toMatchObject({ status: 'held', hold_expires_at: expect.any(String) });
    expect((await c.post('/api/orders/o-1/ship', { lines: [{ sku_id: 'sku-1', quantity: 1 }] })).status).toBe(409);
    const confirmed = await c.post('/api/orders/o-1/confirm');
    expect(confirmed.body).toMatchObject({ status: 'allocated', confirmed_at: expect.any(String) });
    expect(confirmed.body.hold_expires_at).toBeUndefined();
    expect((await c.post('/api/orders/o-1/confirm')).body).toEqual(confirmed.body);
    const status = await c.get('/api/orders/status/o-1');
    expect(orderResponse.parse(status.body)).toEqual(confirmed.body);
  });

  test('unknown orders are 404 on every order route', async () => {
    const c = await t.client();
    expect((await c.get('/api/orders/status/nope')).status).toBe(404);
    expect((await c.post('/api/orders/nope/confirm')).status).toBe(404);
    expect((await c.post('/api/orders/nope/cancel')).status).toBe(404);
    expect((await c.post('/api/orders/nope/ship', { lines: [{ sku_id: 'x', quantity: 1 }] })).status).toBe(404);
  });
});

test('flash sale: 200 concurrent orders of 1-3 units against 40 + 35 + 25 never oversell and reconcile with the ledger', async () => {
  const c = await stocked({ 'wh-1': 40, 'wh-2': 35, 'wh-3': 25 });
  const wants = Array.from({ length: 200 }, (_, i) => 1 + (i % 3));
  const results = await Promise.all(wants.map((quantity, i) => allocate(c, `flash-${i}`, [{ sku_id: 'sku-1', quantity }])));
  const ok = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status !== 201);
  for (const r of refused) {
    expect(r.status).toBe(409);
    expect(['INSUFFICIENT_STOCK', 'CONFLICT']).toContain(r.body.error.code);
  }
  const allocated = ok.reduce((sum, r) => sum + r.body.allocations.reduce((s: number, a: { quantity: number }) => s + a.quantity, 0), 0);
  expect(allocated).toBeLessThanOrEqual(100);
  // Each accepted order is complete: what it reserved is exactly what it asked for.
  for (const r of ok) {
    const asked = r.body.lines[0].quantity;
    expect(r.body.allocations.reduce((s: number, a: { quantity: number }) => s + a.quantity, 0)).toBe(asked);
  }
  // Each refused order left nothing behind.
  for (const [i, r] of results.entries()) if (r.status !== 201) expect((await c.get(`/api/orders/status/flash-${i}`)).status).toBe(404);
  const inventory = (await c.get('/api/inventory/sku/sku-1')).body;
  expect(inventory.totals).toMatchObject({ on_hand: 100, reserved: allocated, available: 100 - allocated });
  for (const level of inventory.levels) expect(level.available).toBeGreaterThanOrEqual(0);
  expect(await reconcile(c, 'sku-1')).toEqual([]);
  // Demand (400 units) far exceeds supply: the sale should sell out, not give up early.
  expect(allocated).toBeGreaterThanOrEqual(97);
}, 240_000);
