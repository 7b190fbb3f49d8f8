import { evaluateLevelChange } from '../../functions/alerts/alerts';
import { storeForecast } from '../../functions/forecasting/forecast';
import type { StoredForecast } from '../../functions/forecasting/forecast-schemas';
import { findLevel } from '../../functions/inventory/stock';
import { systemContext } from '../../functions/platform/context';
import { suggestQuantity } from '../../functions/replenishment/rules';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { contextFor, testDb } from '../support/domain';
import { stockLevelChanged } from '../support/events';
import { reconcile } from '../support/ledger';

let t: TestApi;
const db = testDb();
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
  db.client.destroy();
});

const SUGGESTIONS = '/api/replenishment/suggestions';
const CREATE = '/api/replenishment/suggestions/purchase-orders';

const thresholds = async (c: Client, body: unknown) =>
  ok(await c.put('/api/thresholds', body));
const stock = async (c: Client, sku_id: string, warehouse_id: string, transaction_type: 'sale' | 'restock', quantity: number) =>
  ok(await c.post('/api/inventory/update', { sku_id, warehouse_id, transaction_type, quantity }));

/** The alert consumer's deps in the client's tenant, as its handler builds them. */
const consumer = (c: Client) => ({ db, ctx: systemContext({ tenantId: c.tenantId, actor: 'system:alert-evaluator', requestId: 'test' }) });

/**
 * What the stream pipeline would deliver to the alert consumer for the level
 * as it is now: a StockLevelChanged with its current quantities and version.
 */
const evaluate = async (c: Client, skuId: string, warehouseId: string) => {
  const level = (await findLevel(consumer(c), skuId, warehouseId))!;
  const detail = stockLevelChanged(c.tenantId, level.version, level.available, {
    sku_id: skuId,
    warehouse_id: warehouseId,
    after: { on_hand: level.on_hand, reserved: level.reserved, available: level.available, incoming: level.incoming },
    reorder_point: level.reorder_point,
    safety_stock: level.safety_stock,
  });
  return evaluateLevelChange(consumer(c), detail);
};

/** Two suppliers (USD, lead times 7 and 3 days); sku-1 (and any extra SKUs) ordered from sup-1 at 2.50 USD unless said. */
const setup = async (c: Client, options: { warehouses?: string[]; extraSkus?: { sku_id: string; supplier_id?: string }[] } = {}) => {
  await setupCatalog(c, { warehouses: options.warehouses ?? ['wh-1', 'wh-2'] });
  ok(await c.post('/api/suppliers', { supplier_id: 'sup-1', name: 'Acme', lead_time_days: 7, currency: 'USD' }), 201);
  ok(await c.post('/api/suppliers', { supplier_id: 'sup-2', name: 'Globex', lead_time_days: 3, currency: 'USD' }), 201);
  ok(await c.patch('/api/skus/sku-1', { supplier_id: 'sup-1', unit_cost: '2.50', currency: 'USD' }));
  for (const extra of options.extraSkus ?? []) {
    ok(await c.post('/api/skus', { product_id: 'prod-1', name: extra.sku_id, unit_cost: '4.00', currency: 'USD', ...extra }), 201);
  }
};

describe('the formula (pure)', () => {
  test('reorder_quantity wins; otherwise lead-time demand + safety stock + the gap below the reorder point - incoming, never negative, whole', () => {
    const base = { available: 6, incoming: 0, reorder_point: 10, safety_stock: 2, units_sold: 14, window_days: 14, lead_time_days: 7 };
    expect(suggestQuantity(base).quantity).toBe(7 + 2 + 4);
    expect(suggestQuantity({ ...base, reorder_quantity: 50 })).toMatchObject({ quantity: 50, basis: 'reorder_quantity 50 set on the level' });
    expect(suggestQuantity({ ...base, incoming: 5 }).quantity).toBe(8);
    expect(suggestQuantity({ ...base, incoming: 100 }).quantity).toBe(0);
    // 10 sold in 14 days x 7 days = 5 exactly (no float noise rounding up to 6); 3 sold -> 1.5 -> rounded up.
    expect(suggestQuantity({ ...base, units_sold: 10 }).quantity).toBe(5 + 2 + 4);
    expect(suggestQuantity({ ...base, units_sold: 3 }).quantity).toBe(2 + 2 + 4);
    expect(suggestQuantity({ ...base, lead_time_days: null }).basis).toContain('lead_time_days 0 (no supplier)');
    expect(suggestQuantity(base)).toMatchObject({ demand_source: 'recent_sales', lead_time_demand: 7 });
  });

  test("with a forecast, its demand over the lead time replaces daily_demand x lead_time_days", () => {
    const base = { available: 6, incoming: 0, reorder_point: 10, safety_stock: 2, units_sold: 14, window_days: 14, lead_time_days: 7 };
    // 3.5 a day forecast over 7 days = 24.5: ceil(24.5 + 2 + 4) = 31 (the 14-day average would give 13).
    expect(suggestQuantity({ ...base, forecast_lead_time_demand: 24.5 })).toEqual({
      quantity: 31,
      daily_demand: 1,
      demand_source: 'forecast',
      lead_time_demand: 24.5,
      basis: 'max(0, ceil(forecast demand over lead_time_days 7 24.5 + safety_stock 2 + (reorder_point 10 - available 6)) - incoming 0) = 31',
    });
    expect(suggestQuantity({ ...base, forecast_lead_time_demand: 0, incoming: 3 }).quantity).toBe(3);
    expect(suggestQuantity({ ...base, forecast_lead_time_demand: 24.5, reorder_quantity: 50 })).toMatchObject({ quantity: 50, demand_source: 'forecast' });
  });
});

describe('GET /api/replenishment/suggestions', () => {
  test('one per active alert, most urgent first, with the supplier, the formula and its basis; incoming on a submitted PO reduces it', async () => {
    const c = await t.client();
    await setup(c, { extraSkus: [{ sku_id: 'sku-2' }] });
    // sku-1 @ wh-1: no reorder_quantity; 14 sold in the window -> 1 a day.
    await stock(c, 'sku-1', 'wh-1', 'restock', 20);
    await thresholds(c, { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 2 });
    await stock(c, 'sku-1', 'wh-1', 'sale', 7);
    await stock(c, 'sku-1', 'wh-1', 'sale', 7);
    expect(await evaluate(c, 'sku-1', 'wh-1')).toBe('open');
    // sku-2 @ wh-1: a reorder_quantity, and no supplier.
    await stock(c, 'sku-2', 'wh-1', 'restock', 12);
    await thresholds(c, { sku_id: 'sku-2', warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 2, reorder_quantity: 50 });
    await stock(c, 'sku-2', 'wh-1', 'sale', 5);
    expect(await evaluate(c, 'sku-2', 'wh-1')).toBe('open');

    const alerts = ok(await c.get('/api/alerts')).alerts;
    const { suggestions } = ok(await c.get(SUGGESTIONS));
    expect(suggestions.map((s: any) => s.alert_id)).toEqual(alerts.map((a: any) => a.alert_id));
    expect(suggestions[0]).toEqual({
      sku_id: 'sku-1',
      warehouse_id: 'wh-1',
      alert_id: alerts[0].alert_id,
      severity: 'high',
      available: 6,
      incoming: 0,
      reorder_point: 10,
      safety_stock: 2,
      reorder_quantity: null,
      supplier_id: 'sup-1',
      supplier_reason: null,
      lead_time_days: 7,
      units_sold: 14,
      daily_demand: 1,
      demand_source: 'recent_sales',
      lead_time_demand: 7,
      suggested_quantity: 7 + 2 + (10 - 6),
      basis: 'max(0, ceil(daily_demand 14/14 (recent sales) x lead_time_days 7 + safety_stock 2 + (reorder_point 10 - available 6)) - incoming 0) = 13',
    });
    expect(suggestions[1]).toMatchObject({
      sku_id: 'sku-2',
      severity: 'normal',
      reorder_quantity: 50,
      suggested_quantity: 50,
      supplier_id: null,
      supplier_reason: "SKU 'sku-2' has no supplier_id",
      lead_time_days: null,
      basis: 'reorder_quantity 50 set on the level',
    });

    // A submitted PO of 2 (not enough to resolve the alert: 6 + 2 < 10) counts as incoming.
    ok(await c.post('/api/purchase-orders', { purchase_order_id: 'po-1', supplier_id: 'sup-1', warehouse_id: 'wh-1', lines: [{ sku_id: 'sku-1', quantity: 2, unit_cost: '2.50' }] }), 201);
    ok(await c.post('/api/purchase-orders/po-1/submit'));
    expect(await evaluate(c, 'sku-1', 'wh-1')).toBe('update');
    const after = ok(await c.get(SUGGESTIONS)).suggestions[0];
    expect(after).toMatchObject({ sku_id: 'sku-1', incoming: 2, suggested_quantity: 11 });

    // Filters.
    expect(ok(await c.get(`${SUGGESTIONS}?supplier_id=sup-1`)).suggestions.map((s: any) => s.sku_id)).toEqual(['sku-1']);
    expect(ok(await c.get(`${SUGGESTIONS}?supplier_id=sup-2`)).suggestions).toEqual([]);
    expect(ok(await c.get(`${SUGGESTIONS}?warehouse_id=wh-2`)).suggestions).toEqual([]);
    expect(ok(await c.get(`${SUGGESTIONS}?warehouse_id=wh-1`)).suggestions).toHaveLength(2);
    // A viewer may read them (purchasing:read).
    const viewer = await t.client({ tenantId: c.tenantId, role: 'viewer' });
    expect(ok(await viewer.get(SUGGESTIONS)).suggestions).toHaveLength(2);
  });

  test('bad input: a malformed id is 400, an unknown warehouse or supplier is 404', async () => {
    const c = await t.client();
    await setup(c);
    expect((await c.get(`${SUGGESTIONS}?warehouse_id=a%23b`)).status).toBe(400);
    expect((await c.get(`${SUGGESTIONS}?limit=3`)).status).toBe(400);
    expect((await c.get(`${SUGGESTIONS}?warehouse_id=nope`)).status).toBe(404);
    expect((await c.get(`${SUGGESTIONS}?supplier_id=nope`)).status).toBe(404);
  });
});

describe('the SKU -> supplier link', () => {
  test('supplier_id on a SKU must name an existing supplier on create and patch; null clears it', async () => {
    const c = await t.client();
    await setup(c);
    const bad = await c.post('/api/skus', { sku_id: 'sku-x', product_id: 'prod-1', name: 'x', supplier_id: 'nope' });
    expect(bad.status).toBe(404);
    expect(bad.body.error.message).toContain('nope');
    expect((await c.get('/api/skus/sku-x')).status).toBe(404);
    expect((await c.patch('/api/skus/sku-1', { supplier_id: 'nope' })).status).toBe(404);
    expect(ok(await c.get('/api/skus/sku-1')).supplier_id).toBe('sup-1');
    expect(ok(await c.patch('/api/skus/sku-1', { supplier_id: 'sup-2' })).supplier_id).toBe('sup-2');
    expect(ok(await c.patch('/api/skus/sku-1', { supplier_id: null })).supplier_id).toBeUndefined();
    expect(ok(await c.post('/api/skus', { sku_id: 'sku-y', product_id: 'prod-1', name: 'y', supplier_id: 'sup-2' }), 201).supplier_id).toBe('sup-2');
  });
});

describe('POST /api/replenishment/suggestions/purchase-orders', () => {
  test('drafts grouped per supplier x warehouse, skipped ones reported, idempotent; receiving resolves the alerts', async () => {
    const c = await t.client();
    await setup(c, { extraSkus: [{ sku_id: 'sku-2', supplier_id: 'sup-1' }, { sku_id: 'sku-3' }, { sku_id: 'sku-4', supplier_id: 'sup-2' }] });
    ok(await c.patch('/api/skus/sku-4', { unit_cost: null }));
    const low = [
      ['sku-1', 'wh-1'],
      ['sku-2', 'wh-1'],
      ['sku-1', 'wh-2'],
      ['sku-3', 'wh-1'],
      ['sku-4', 'wh-1'],
    ] as const;
    for (const [sku, wh] of low) {
      await stock(c, sku, wh, 'restock', 12);
      await thresholds(c, { sku_id: sku, warehouse_id: wh, reorder_point: 10, safety_stock: 2 });
      await stock(c, sku, wh, 'sale', 4);
      expect(await evaluate(c, sku, wh)).toBe('open');
    }
    const suggestions = ok(await c.get(SUGGESTIONS)).suggestions;
    expect(suggestions).toHaveLength(5);
    const selection = suggestions.map((s: any) => ({ sku_id: s.sku_id, warehouse_id: s.warehouse_id, ...(s.sku_id === 'sku-2' ? { quantity: 30 } : {}) }));
    const key = { 'idempotency-key': 'replenish-1' };
    const res = ok(await c.post(CREATE, { suggestions: selection }, key), 201);
    // sku-1: ceil(4/14 x 7 + 2 + (10 - 8)) - 0 = ceil(6) = 6; sku-2 as given.
    const byWarehouse = Object.fromEntries(res.purchase_orders.map((po: any) => [po.warehouse_id, po]));
    expect(res.purchase_orders).toHaveLength(2);
    expect(byWarehouse['wh-1']).toMatchObject({ supplier_id: 'sup-1', status: 'draft', currency: 'USD' });
    expect(byWarehouse['wh-1'].lines.map((l: any) => [l.sku_id, l.quantity, l.unit_cost]).sort()).toEqual([
      ['sku-1', 6, '2.50'],
      ['sku-2', 30, '4.00'],
    ]);
    expect(byWarehouse['wh-2']).toMatchObject({ supplier_id: 'sup-1', lines: [expect.objectContaining({ sku_id: 'sku-1', quantity: 6 })] });
    expect(res.skipped).toEqual([
      { sku_id: 'sku-3', warehouse_id: 'wh-1', reason: 'NO_SUPPLIER', message: "SKU 'sku-3' has no supplier_id" },
      { sku_id: 'sku-4', warehouse_id: 'wh-1', reason: 'NO_UNIT_COST', message: "SKU 'sku-4' has no unit_cost to order at" },
    ]);
    // Drafts change no stock.
    expect((await findLevel(consumer(c), 'sku-1', 'wh-1'))!.incoming).toBe(0);

    // The same request again (a client retry) creates nothing new; the same key with another body is 422.
    const again = ok(await c.post(CREATE, { suggestions: selection }, key), 201);
    expect(again.purchase_orders.map((po: any) => po.purchase_order_id).sort()).toEqual(res.purchase_orders.map((po: any) => po.purchase_order_id).sort());
    expect(ok(await c.get('/api/purchase-orders?status=draft')).purchase_orders).toHaveLength(2);
    expect((await c.post(CREATE, { suggestions: selection.slice(1) }, key)).status).toBe(422);

    // Submit and receive the wh-1 order: its alerts resolve; wh-2's and the skipped ones stay.
    const po = byWarehouse['wh-1'];
    ok(await c.post(`/api/purchase-orders/${po.purchase_order_id}/submit`));
    ok(await c.post(`/api/purchase-orders/${po.purchase_order_id}/receive`, { lines: po.lines.map((l: any) => ({ sku_id: l.sku_id, quantity: l.quantity })) }));
    expect(await evaluate(c, 'sku-1', 'wh-1')).toBe('resolve');
    expect(await evaluate(c, 'sku-2', 'wh-1')).toBe('resolve');
    const remaining = ok(await c.get(SUGGESTIONS)).suggestions.map((s: any) => `${s.sku_id}@${s.warehouse_id}`).sort();
    expect(remaining).toEqual(['sku-1@wh-2', 'sku-3@wh-1', 'sku-4@wh-1']);
    expect(ok(await c.get('/api/alerts?status=resolved')).alerts).toHaveLength(2);
    expect(await reconcile(c, 'sku-1')).toEqual([]);
  });

  test('a level with nothing to order is skipped; a selection without an alert still works', async () => {
    const c = await t.client();
    await setup(c);
    await stock(c, 'sku-1', 'wh-1', 'restock', 30);
    await thresholds(c, { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 2 });
    const res = ok(await c.post(CREATE, { suggestions: [{ sku_id: 'sku-1', warehouse_id: 'wh-1' }, { sku_id: 'sku-1', warehouse_id: 'wh-2', quantity: 4 }] }), 201);
    expect(res.skipped).toEqual([expect.objectContaining({ sku_id: 'sku-1', warehouse_id: 'wh-1', reason: 'NOTHING_TO_ORDER' })]);
    expect(res.purchase_orders).toEqual([expect.objectContaining({ supplier_id: 'sup-1', warehouse_id: 'wh-2', lines: [expect.objectContaining({ sku_id: 'sku-1', quantity: 4 })] })]);
  });

  test('bad input is 400 or 404 and writes nothing; a supplier in another currency is skipped', async () => {
    const c = await t.client();
    await setup(c);
    const one = { sku_id: 'sku-1', warehouse_id: 'wh-1' };
    for (const body of [
      {},
      { suggestions: [] },
      { suggestions: [{ ...one, quantity: 0 }] },
      { suggestions: [{ ...one, quantity: -3 }] },
      { suggestions: [{ ...one, quantity: 1.5 }] },
      { suggestions: [one, one] },
      { suggestions: [{ ...one, extra: true }] },
      { alert_ids: ['x'] },
    ]) {
      expect({ body, status: (await c.post(CREATE, body)).status }).toEqual({ body, status: 400 });
    }
    expect((await c.post(CREATE, { suggestions: [one, { sku_id: 'nope', warehouse_id: 'wh-1' }] })).status).toBe(404);
    expect((await c.post(CREATE, { suggestions: [one, { sku_id: 'sku-1', warehouse_id: 'nope' }] })).status).toBe(404);
    expect(ok(await c.get('/api/purchase-orders')).purchase_orders).toEqual([]);
    // Another tenant's ids are unknown here.
    const other = await t.client();
    expect((await other.post(CREATE, { suggestions: [{ ...one, quantity: 1 }] })).status).toBe(404);
    // A clerk may not raise purchase orders.
    const clerk = await t.client({ tenantId: c.tenantId, role: 'clerk' });
    expect((await clerk.post(CREATE, { suggestions: [{ ...one, quantity: 1 }] })).status).toBe(403);

    ok(await c.post('/api/suppliers', { supplier_id: 'sup-eu', name: 'Euro', lead_time_days: 2, currency: 'EUR' }), 201);
    ok(await c.patch('/api/skus/sku-1', { supplier_id: 'sup-eu' }));
    const res = ok(await c.post(CREATE, { suggestions: [{ ...one, quantity: 1 }] }), 201);
    expect(res).toEqual({ purchase_orders: [], skipped: [expect.objectContaining({ reason: 'CURRENCY_MISMATCH' })] });
  });
});

/** A stored forecast of one level as a forecasting run writes it: `values` a day from `start` (today unless said). */
const seedForecast = (c: Client, skuId: string, warehouseId: string, values: number[], options: { start?: string; class?: StoredForecast['class']; madeAt?: string } = {}) =>
  storeForecast({ db, ctx: contextFor(c.tenantId) }, {
    sku_id: skuId,
    warehouse_id: warehouseId,
    run_id: 'run-test',
    made_at: options.madeAt ?? new Date().toISOString(),
    start: options.start ?? new Date().toISOString().slice(0, 10),
    class: options.class ?? 'smooth',
    adi: 1,
    cv2: 0.1,
    method: 'ses',
    params: { alpha: 0.3 },
    reason: 'seeded by the test',
    interval: 0.8,
    daily_sigma: 1,
    forecast: values,
    lower: values,
    upper: values,
    backtest: { mase: 0.8, bias: 0, baseline: 'naive', baseline_mase: 1, folds: 3, lead: 7, candidates: [] },
    history: { from: '2026-01-01', to: '2026-06-30', days: 181, demand_days: 181, stocked_out_days: 0, total_demand: 181, recent: [1] },
  });

describe('suggestions from the demand forecast', () => {
  test("a forecast's demand over the lead time replaces the 14-day average, in the list and in the drafts; without one (or with no history) the average stays", async () => {
    const c = await t.client();
    await setup(c, { extraSkus: [{ sku_id: 'sku-2', supplier_id: 'sup-1' }, { sku_id: 'sku-3', supplier_id: 'sup-1' }, { sku_id: 'sku-4', supplier_id: 'sup-1' }] });
    for (const sku of ['sku-1', 'sku-2', 'sku-3', 'sku-4']) {
      await stock(c, sku, 'wh-1', 'restock', 20);
      await thresholds(c, { sku_id: sku, warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 2 });
      await stock(c, sku, 'wh-1', 'sale', 14);
      expect(await evaluate(c, sku, 'wh-1')).toBe('open');
    }
    // sku-1: forecast from today 1, 2, ..., 7 over sup-1's 7 days = 28 (two past days skipped: the forecast started 2 days ago).
    const start = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    await seedForecast(c, 'sku-1', 'wh-1', [100, 100, 1, 2, 3, 4, 5, 6, 7, 100], { start });
    // sku-3: a forecast that saw no demand is no forecast to go by.
    await seedForecast(c, 'sku-3', 'wh-1', [0, 0, 0], { class: 'no_history' });
    // sku-4: a forecast no run has renewed for 8 days is not gone by either.
    await seedForecast(c, 'sku-4', 'wh-1', [50, 50, 50, 50, 50, 50, 50, 50, 50, 50], { madeAt: new Date(Date.now() - 8 * 86_400_000).toISOString() });

    const bySku = Object.fromEntries(ok(await c.get(SUGGESTIONS)).suggestions.map((s: any) => [s.sku_id, s]));
    // available 6 of a reorder point 10, safety stock 2.
    expect(bySku['sku-1']).toMatchObject({
      demand_source: 'forecast',
      lead_time_demand: 28,
      units_sold: 14,
      daily_demand: 1,
      suggested_quantity: 28 + 2 + 4,
      basis: 'max(0, ceil(forecast demand over lead_time_days 7 28 + safety_stock 2 + (reorder_point 10 - available 6)) - incoming 0) = 34',
    });
    // sku-2 (no forecast), sku-3 (no_history) and sku-4 (stale): 14 sold in 14 days x 7 days = 7.
    for (const sku of ['sku-2', 'sku-3', 'sku-4']) {
      expect(bySku[sku]).toMatchObject({ demand_source: 'recent_sales', lead_time_demand: 7, suggested_quantity: 7 + 2 + 4 });
    }

    // The drafts order what the list suggests.
    const res = ok(await c.post(CREATE, { suggestions: ['sku-1', 'sku-2', 'sku-3'].map((sku_id) => ({ sku_id, warehouse_id: 'wh-1' })) }), 201);
    expect(res.skipped).toEqual([]);
    expect(res.purchase_orders).toHaveLength(1);
    expect(res.purchase_orders[0].lines.map((l: any) => [l.sku_id, l.quantity]).sort()).toEqual([
      ['sku-1', 34],
      ['sku-2', 13],
      ['sku-3', 13],
    ]);
  });
});
