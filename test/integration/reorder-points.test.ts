import { storeForecast } from '../../functions/forecasting/forecast';
import type { StoredForecast } from '../../functions/forecasting/forecast-schemas';
import { createDocumentClient } from '../../functions/platform/db';
import { AppError } from '../../functions/platform/errors';
import { tableName } from '../../functions/platform/table';
import { receivePurchaseOrder, submitPurchaseOrder } from '../../functions/purchasing/purchasing';
import { applyReorderPoints } from '../../functions/replenishment/reorder-points';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { contextFor, testDb } from '../support/domain';
import { allMovements, reconcile } from '../support/ledger';
import { levelOf } from '../support/levels';

/**
 * GET/POST /api/replenishment/reorder-points against hand-computed examples. Forecasts are
 * written by a forecasting run; here they are seeded through the forecasting context's public
 * storeForecast, and purchase orders are submitted and received by the purchasing domain with a
 * steered clock so their observed lead times are known.
 */

let t: TestApi;
const db = testDb();
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
  db.client.destroy();
});

const POINTS = '/api/replenishment/reorder-points';
const DAY_MS = 86_400_000;
const today = (): string => new Date().toISOString().slice(0, 10);
const daysFromToday = (n: number): string => new Date(Date.parse(today()) + n * DAY_MS).toISOString().slice(0, 10);

/** A stored forecast of one level as a run writes it: `values` a day from `start` (today unless said). */
const forecastOf = (
  skuId: string,
  warehouseId: string,
  values: number[],
  options: { sigma?: number; start?: string; class?: StoredForecast['class']; madeAt?: string } = {},
): StoredForecast => ({
  sku_id: skuId,
  warehouse_id: warehouseId,
  run_id: 'run-test',
  made_at: options.madeAt ?? new Date().toISOString(),
  start: options.start ?? today(),
  class: options.class ?? 'smooth',
  adi: 1,
  cv2: 0.1,
  method: options.class === 'no_history' ? 'naive' : 'ses',
  params: { alpha: 0.3 },
  reason: 'seeded by the test',
  interval: 0.8,
  daily_sigma: options.sigma ?? 0,
  forecast: values,
  lower: values.map((v) => Math.max(0, v - 1)),
  upper: values.map((v) => v + 1),
  backtest: { mase: 0.8, bias: 0, baseline: 'naive', baseline_mase: 1, folds: 3, lead: 7, candidates: [] },
  history: { from: '2026-01-01', to: '2026-06-30', days: 181, demand_days: 181, stocked_out_days: 0, total_demand: 1810, recent: [10, 10] },
});

const seed = (c: Client, forecast: StoredForecast) => storeForecast({ db, ctx: contextFor(c.tenantId) }, forecast);
const constant = (value: number, days = 200): number[] => Array.from({ length: days }, () => value);

/** sku-1 (supplier sup-1, lead time 5 days) in wh-1 and wh-2, with the other SKUs asked for (same supplier unless said). */
const setup = async (c: Client, extra: { sku_id: string; supplier_id?: string | null; service_level?: number }[] = []) => {
  await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
  ok(await c.post('/api/suppliers', { supplier_id: 'sup-1', name: 'Acme', lead_time_days: 5, currency: 'USD' }), 201);
  ok(await c.patch('/api/skus/sku-1', { supplier_id: 'sup-1', unit_cost: '2.50', currency: 'USD' }));
  for (const { sku_id, supplier_id = 'sup-1', service_level } of extra) {
    ok(
      await c.post('/api/skus', {
        sku_id,
        product_id: 'prod-1',
        name: sku_id,
        unit_cost: '1.00',
        currency: 'USD',
        ...(supplier_id === null ? {} : { supplier_id }),
        ...(service_level === undefined ? {} : { service_level }),
      }),
      201,
    );
  }
};

const rowOf = (body: { levels: { sku_id: string }[] }, skuId: string): any => body.levels.find((l) => l.sku_id === skuId);

describe('service_level on SKUs', () => {
  test('0.5..0.999 on create and PATCH; null clears it; anything else is 400 and changes nothing', async () => {
    const c = await t.client();
    await setupCatalog(c);
    expect(ok(await c.post('/api/skus', { sku_id: 'sku-sl', product_id: 'prod-1', name: 'x', service_level: 0.99 }), 201).service_level).toBe(0.99);
    for (const service_level of [1, 0.3, 0.4999, 1.5, 0, -0.9, '0.9', null, true, 'NaN', [0.9]]) {
      const created = await c.post('/api/skus', { sku_id: 'sku-bad', product_id: 'prod-1', name: 'x', service_level });
      expect({ service_level, status: created.status }).toEqual({ service_level, status: 400 });
      if (service_level === null) continue;
      const patched = await c.patch('/api/skus/sku-1', { service_level });
      expect({ service_level, status: patched.status }).toEqual({ service_level, status: 400 });
    }
    expect((await c.get('/api/skus/sku-bad')).status).toBe(404);
    expect(ok(await c.get('/api/skus/sku-1')).service_level).toBeUndefined();
    expect(ok(await c.patch('/api/skus/sku-1', { service_level: 0.5 })).service_level).toBe(0.5);
    expect(ok(await c.patch('/api/skus/sku-1', { service_level: 0.999 })).service_level).toBe(0.999);
    expect(ok(await c.patch('/api/skus/sku-1', { service_level: null })).service_level).toBeUndefined();
    expect(ok(await c.get('/api/skus/sku-1')).service_level).toBeUndefined();
  });
});

describe('GET /api/replenishment/reorder-points', () => {
  test('hand-computed: constant 10/day, sigma_d 3, lead time 5 days, no received orders, 95% -> SS 12, ROP 62', async () => {
    const c = await t.client();
    await setup(c);
    await seed(c, forecastOf('sku-1', 'wh-1', constant(10), { sigma: 3 }));
    const body = ok(await c.get(`${POINTS}?warehouse_id=wh-1`));
    expect(body).toMatchObject({ warehouse_id: 'wh-1', today: today(), skipped: [], next_cursor: null });
    expect(body.levels).toHaveLength(1);
    const row = body.levels[0];
    // z(0.95) = 1.6448536; sigma_LTD = sqrt(5 x 3^2 + 10^2 x 0^2) = sqrt(45) = 6.7082039;
    // SS = ceil(1.6448536 x 6.7082039) = ceil(11.0340) = 12; ROP = ceil(10 x 5 + 11.0340) = ceil(61.0340) = 62.
    expect(row).toMatchObject({
      sku_id: 'sku-1',
      warehouse_id: 'wh-1',
      current: { reorder_point: 0, safety_stock: 0, reorder_quantity: null },
      reorder_point: 62,
      safety_stock: 12,
      changed: true,
      service_level: 0.95,
      service_level_from: 'default',
      class: 'smooth',
      method: 'ses',
      applied: false,
      error: null,
    });
    expect(row.basis).toMatchObject({ d: 10, days_averaged: 5, sigma_d: 3, L: 5, sigma_L: 0, lead_time_demand: 50 });
    expect(row.basis.lead_time).toEqual({ supplier_id: 'sup-1', stated_days: 5, observations: 0, mean_delay_days: null, from: 'supplier' });
    expect(row.basis.z).toBeCloseTo(1.6448536, 6);
    expect(row.basis.sigma_ltd).toBeCloseTo(Math.sqrt(45), 9);
    expect(row.basis.safety_stock).toBeCloseTo(11.034014, 5);
    expect(row.basis.reorder_point).toBeCloseTo(61.034014, 5);
    expect(row.basis.formula).toContain('SS = ceil(z*sigma_LTD) = ceil(1.6449*6.7082) = ceil(11.034) = 12');
    expect(row.basis.formula).toContain('ROP = ceil(d*L + SS exact) = ceil(10*5 + 11.034) = ceil(61.034) = 62');
  });

  test("the SKU's service level: 99% -> z 2.3263, SS ceil(15.6056) = 16, ROP ceil(65.6056) = 66", async () => {
    const c = await t.client();
    await setup(c, [{ sku_id: 'sku-2', service_level: 0.99 }]);
    await seed(c, forecastOf('sku-2', 'wh-1', constant(10), { sigma: 3 }));
    const row = rowOf(ok(await c.get(`${POINTS}?warehouse_id=wh-1`)), 'sku-2');
    expect(row).toMatchObject({ reorder_point: 66, safety_stock: 16, service_level: 0.99, service_level_from: 'sku' });
    expect(row.basis.z).toBeCloseTo(2.3263479, 6);
    expect(row.basis.safety_stock).toBeCloseTo(15.605616, 5);
  });

  test('d is the mean forecast from today over the lead time: a forecast started 2 days ago skips them', async () => {
    const c = await t.client();
    await setup(c);
    // From today: 2, 4, 6, 8, 10 over the 5 lead-time days -> d = 6; sigma_d 0 -> SS 0, ROP = ceil(6 x 5) = 30.
    await seed(c, forecastOf('sku-1', 'wh-1', [50, 50, 2, 4, 6, 8, 10, 99, 99], { start: daysFromToday(-2) }));
    const row = rowOf(ok(await c.get(`${POINTS}?warehouse_id=wh-1`)), 'sku-1');
    expect(row).toMatchObject({ reorder_point: 30, safety_stock: 0 });
    expect(row.basis).toMatchObject({ d: 6, L: 5, lead_time_demand: 30, sigma_ltd: 0 });
  });

  test('variable lead time from received orders: observed 6, 8 and 4 days against 5 stated -> L 6, sigma_L 2 -> SS 36, ROP 96', async () => {
    const c = await t.client();
    await setup(c);
    await seed(c, forecastOf('sku-1', 'wh-1', constant(10), { sigma: 3 }));
    // Three orders into wh-2, each submitted at a known instant and received `days` later.
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    for (const [i, days] of [6, 8, 4].entries()) {
      const id = `po-${i}`;
      ok(await c.post('/api/purchase-orders', { purchase_order_id: id, supplier_id: 'sup-1', warehouse_id: 'wh-2', lines: [{ sku_id: 'sku-1', quantity: 3, unit_cost: '2.50' }] }), 201);
      const submittedAt = t0 + i * 20 * DAY_MS;
      await submitPurchaseOrder({ db, ctx: contextFor(c.tenantId, () => new Date(submittedAt)) }, id);
      await receivePurchaseOrder({ db, ctx: contextFor(c.tenantId, () => new Date(submittedAt + days * DAY_MS)) }, id, { lines: [{ sku_id: 'sku-1', quantity: 3 }], allow_over_receipt: false });
    }
    // A submitted order not yet received is no observation; nor is another supplier's.
    ok(await c.post('/api/purchase-orders', { purchase_order_id: 'po-open', supplier_id: 'sup-1', warehouse_id: 'wh-2', lines: [{ sku_id: 'sku-1', quantity: 3, unit_cost: '2.50' }] }), 201);
    ok(await c.post('/api/purchase-orders/po-open/submit'));
    const received = ok(await c.get('/api/purchase-orders?status=received')).purchase_orders;
    expect(received.map((po: any) => (Date.parse(po.received_at) - Date.parse(po.submitted_at)) / DAY_MS).sort()).toEqual([4, 6, 8]);

    const row = rowOf(ok(await c.get(`${POINTS}?warehouse_id=wh-1`)), 'sku-1');
    // Delays 1, 3, -1: mean 1 -> L = 5 + 1 = 6; sd (n - 1) = sqrt((0 + 4 + 4) / 2) = 2.
    // sigma_LTD = sqrt(6 x 9 + 10^2 x 2^2) = sqrt(454) = 21.3073; SS = ceil(1.6448536 x 21.3073) = ceil(35.0473) = 36;
    // ROP = ceil(10 x 6 + 35.0473) = ceil(95.0473) = 96.
    expect(row).toMatchObject({ reorder_point: 96, safety_stock: 36 });
    expect(row.basis).toMatchObject({ d: 10, days_averaged: 6, L: 6, sigma_L: 2, lead_time_demand: 60 });
    expect(row.basis.lead_time).toEqual({ supplier_id: 'sup-1', stated_days: 5, observations: 3, mean_delay_days: 1, from: 'received_orders' });
    expect(row.basis.sigma_ltd).toBeCloseTo(Math.sqrt(454), 9);
    expect(row.basis.safety_stock).toBeCloseTo(35.047350, 5);
  });

  test('no supplier and no history are skipped with the reason, never guessed; the current thresholds are shown; pages', async () => {
    const c = await t.client();
    await setup(c, [{ sku_id: 'sku-2', supplier_id: null }, { sku_id: 'sku-3' }, { sku_id: 'sku-4' }, { sku_id: 'sku-5' }]);
    await seed(c, forecastOf('sku-1', 'wh-1', constant(10), { sigma: 3 }));
    await seed(c, forecastOf('sku-2', 'wh-1', constant(4), { sigma: 1 }));
    await seed(c, forecastOf('sku-3', 'wh-1', constant(0), { class: 'no_history' }));
    await seed(c, forecastOf('sku-4', 'wh-1', constant(2), { sigma: 0 }));
    // A forecast no run has renewed for 8 days (the nightly run has not reached the level): not acted on.
    await seed(c, forecastOf('sku-5', 'wh-1', constant(50), { sigma: 5, madeAt: new Date(Date.now() - 8 * DAY_MS).toISOString(), start: daysFromToday(-8) }));
    // Another warehouse's forecast is not this one's.
    await seed(c, forecastOf('sku-1', 'wh-2', constant(99), { sigma: 9 }));
    ok(await c.put('/api/thresholds', { sku_id: 'sku-4', warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 0, reorder_quantity: 40 }));

    const body = ok(await c.get(`${POINTS}?warehouse_id=wh-1`));
    expect(body.levels.map((l: any) => l.sku_id)).toEqual(['sku-1', 'sku-4']);
    // sku-4: 2 a day x 5 days, sigma 0 -> 10 and 0: what it has.
    expect(rowOf(body, 'sku-4')).toMatchObject({ current: { reorder_point: 10, safety_stock: 0, reorder_quantity: 40 }, reorder_point: 10, safety_stock: 0, changed: false });
    expect(body.skipped).toEqual([
      { sku_id: 'sku-2', warehouse_id: 'wh-1', reason: 'NO_SUPPLIER', message: "SKU 'sku-2' has no supplier_id: no lead time to cover" },
      { sku_id: 'sku-3', warehouse_id: 'wh-1', reason: 'NO_HISTORY', message: expect.stringContaining('saw no demand') },
      { sku_id: 'sku-5', warehouse_id: 'wh-1', reason: 'STALE_FORECAST', message: expect.stringContaining('more than 7 days ago') },
    ]);

    // A page at a time, in SKU order: the pages together are the whole.
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = ok(await c.get(`${POINTS}?warehouse_id=wh-1&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
      seen.push(...page.levels.map((l: any) => l.sku_id), ...page.skipped.map((s: any) => s.sku_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(['sku-1', 'sku-2', 'sku-3', 'sku-4', 'sku-5']);

    // A warehouse without forecasts has no levels to propose.
    expect(ok(await c.get(`${POINTS}?warehouse_id=wh-2`)).levels.map((l: any) => l.sku_id)).toEqual(['sku-1']);
  });

  test('unknown or another tenant\'s warehouse 404, bad queries 400; a viewer may read', async () => {
    const c = await t.client();
    await setup(c);
    expect((await c.get(`${POINTS}?warehouse_id=nope`)).status).toBe(404);
    const other = await t.client();
    await setupCatalog(other, { warehouses: ['wh-other'] });
    expect((await c.get(`${POINTS}?warehouse_id=wh-other`)).status).toBe(404);
    for (const query of ['', '?warehouse_id=a%23b', '?warehouse_id=wh-1&limit=0', '?warehouse_id=wh-1&limit=201', '?warehouse_id=wh-1&limit=x', '?warehouse_id=wh-1&sku_id=sku-1', '?warehouse_id=wh-1&cursor=forged']) {
      expect({ query, status: (await c.get(`${POINTS}${query}`)).status }).toEqual({ query, status: 400 });
    }
    const viewer = await t.client({ tenantId: c.tenantId, role: 'viewer' });
    expect(ok(await viewer.get(`${POINTS}?warehouse_id=wh-1`)).levels).toEqual([]);
  });
});

describe('POST /api/replenishment/reorder-points', () => {
  test('a dry run writes nothing; applying writes one thresholds ledger row per changed level, keeps reorder_quantity; again writes none', async () => {
    const c = await t.client();
    await setup(c, [{ sku_id: 'sku-2' }, { sku_id: 'sku-3' }]);
    await seed(c, forecastOf('sku-1', 'wh-1', constant(10), { sigma: 3 }));
    await seed(c, forecastOf('sku-2', 'wh-1', constant(4), { sigma: 2 }));
    await seed(c, forecastOf('sku-3', 'wh-1', constant(2), { sigma: 0 }));
    ok(await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 100 }));
    ok(await c.put('/api/thresholds', { sku_id: 'sku-2', warehouse_id: 'wh-1', reorder_point: 5, safety_stock: 1, reorder_quantity: 40 }));
    // sku-3 already holds its proposal (2 x 5 = 10, SS 0).
    ok(await c.put('/api/thresholds', { sku_id: 'sku-3', warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 0 }));
    const state = async () => ({
      levels: await Promise.all(['sku-1', 'sku-2', 'sku-3'].map((s) => levelOf(c, s, 'wh-1'))),
      ledger: (await Promise.all(['sku-1', 'sku-2', 'sku-3'].map((s) => allMovements(c, s)))).flat().length,
    });
    const before = await state();

    const dry = ok(await c.post(POINTS, { warehouse_id: 'wh-1' }));
    expect(dry.dry_run).toBe(true);
    // sku-2: d 4, sigma_d 2, L 5: SS = ceil(1.6448536 x sqrt(5 x 4)) = ceil(7.3560) = 8, ROP = ceil(20 + 7.3560) = 28.
    expect(dry.levels.map((l: any) => [l.sku_id, l.reorder_point, l.safety_stock, l.changed, l.applied])).toEqual([
      ['sku-1', 62, 12, true, false],
      ['sku-2', 28, 8, true, false],
      ['sku-3', 10, 0, false, false],
    ]);
    expect(dry.summary).toEqual({ proposed: 3, changed: 2, applied: 0, failed: 0, skipped: 0 });
    // The GET answers the same proposals.
    const got = ok(await c.get(`${POINTS}?warehouse_id=wh-1`));
    expect(got.levels).toEqual(dry.levels);
    expect(await state()).toEqual(before);
    // dry_run true said out loud is the same.
    expect(ok(await c.post(POINTS, { warehouse_id: 'wh-1', dry_run: true })).levels).toEqual(dry.levels);
    expect(await state()).toEqual(before);

    const applied = ok(await c.post(POINTS, { warehouse_id: 'wh-1', dry_run: false }));
    expect(applied.levels.map((l: any) => [l.sku_id, l.changed, l.applied, l.error])).toEqual([
      ['sku-1', true, true, null],
      ['sku-2', true, true, null],
      ['sku-3', false, false, null],
    ]);
    expect(applied.summary).toEqual({ proposed: 3, changed: 2, applied: 2, failed: 0, skipped: 0 });
    const after = await state();
    expect(after.ledger).toBe(before.ledger + 2);
    expect(after.levels[0]).toMatchObject({ reorder_point: 62, safety_stock: 12, thresholds_from: 'level', version: before.levels[0]!.version + 1 });
    expect(after.levels[1]).toMatchObject({ reorder_point: 28, safety_stock: 8, reorder_quantity: 40, version: before.levels[1]!.version + 1 });
    expect(after.levels[2]).toEqual(before.levels[2]);
    const notes = (await allMovements(c, 'sku-2')).filter((m) => m.type === 'thresholds').map((m) => m.note);
    expect(notes.sort()).toEqual(['reorder_point=28 safety_stock=8 reorder_quantity=40', 'reorder_point=5 safety_stock=1 reorder_quantity=40']);
    for (const sku of ['sku-1', 'sku-2', 'sku-3']) expect(await reconcile(c, sku)).toEqual([]);

    // Applying again changes nothing.
    const again = ok(await c.post(POINTS, { warehouse_id: 'wh-1', dry_run: false }));
    expect(again.summary).toEqual({ proposed: 3, changed: 0, applied: 0, failed: 0, skipped: 0 });
    expect(again.levels.map((l: any) => l.current)).toEqual([
      { reorder_point: 62, safety_stock: 12, reorder_quantity: null },
      { reorder_point: 28, safety_stock: 8, reorder_quantity: 40 },
      { reorder_point: 10, safety_stock: 0, reorder_quantity: null },
    ]);
    expect(await state()).toEqual(after);
  });

  test('sku_ids: only those; one without a forecast is skipped NO_FORECAST, an unknown one is 404 before anything is written; a level never stocked is created', async () => {
    const c = await t.client();
    await setup(c, [{ sku_id: 'sku-2' }, { sku_id: 'sku-3' }]);
    await seed(c, forecastOf('sku-1', 'wh-1', constant(10), { sigma: 3 }));
    await seed(c, forecastOf('sku-2', 'wh-1', constant(4), { sigma: 2 }));
    expect((await c.post(POINTS, { warehouse_id: 'wh-1', sku_ids: ['sku-2', 'nope'], dry_run: false })).status).toBe(404);
    expect(await levelOf(c, 'sku-2', 'wh-1')).toBeUndefined();

    const res = ok(await c.post(POINTS, { warehouse_id: 'wh-1', sku_ids: ['sku-2', 'sku-3'], dry_run: false }));
    expect(res.levels.map((l: any) => [l.sku_id, l.applied])).toEqual([['sku-2', true]]);
    expect(res.skipped).toEqual([{ sku_id: 'sku-3', warehouse_id: 'wh-1', reason: 'NO_FORECAST', message: expect.any(String) }]);
    expect(res.next_cursor).toBeNull();
    expect(await levelOf(c, 'sku-2', 'wh-1')).toMatchObject({ reorder_point: 28, safety_stock: 8, on_hand: 0, version: 1 });
    // sku-1 was not named: untouched.
    expect(await levelOf(c, 'sku-1', 'wh-1')).toBeUndefined();
    expect(await reconcile(c, 'sku-2')).toEqual([]);
  });

  test('an Idempotency-Key on an apply does not make one level replay another', async () => {
    const c = await t.client();
    await setup(c, [{ sku_id: 'sku-2' }]);
    await seed(c, forecastOf('sku-1', 'wh-1', constant(10), { sigma: 3 }));
    await seed(c, forecastOf('sku-2', 'wh-1', constant(4), { sigma: 2 }));
    const res = ok(await c.post(POINTS, { warehouse_id: 'wh-1', dry_run: false }, { 'idempotency-key': 'apply-1' }));
    expect(res.summary.applied).toBe(2);
    expect(await levelOf(c, 'sku-1', 'wh-1')).toMatchObject({ reorder_point: 62, safety_stock: 12 });
    expect(await levelOf(c, 'sku-2', 'wh-1')).toMatchObject({ reorder_point: 28, safety_stock: 8 });
    expect(ok(await c.post(POINTS, { warehouse_id: 'wh-1', dry_run: false }, { 'idempotency-key': 'apply-1' })).summary.applied).toBe(0);
  });

  test('bad bodies 400, unknown or another tenant\'s warehouse 404, roles: viewers and purchasers may not apply (403)', async () => {
    const c = await t.client();
    await setup(c);
    await seed(c, forecastOf('sku-1', 'wh-1', constant(10), { sigma: 3 }));
    for (const body of [
      {},
      { warehouse_id: 'wh-1', dry_run: 'yes' },
      { warehouse_id: 'wh-1', dry_run: 0 },
      { warehouse_id: 'wh-1', dry_run: null },
      { warehouse_id: 'wh-1', sku_ids: 'sku-1' },
      { warehouse_id: 'wh-1', sku_ids: [] },
      { warehouse_id: 'wh-1', sku_ids: ['sku-1', 'sku-1'] },
      { warehouse_id: 'wh-1', sku_ids: Array.from({ length: 201 }, (_, i) => `sku-${i}`) },
      { warehouse_id: 'wh-1', sku_ids: ['sku-1'], limit: 5 },
      { warehouse_id: 'wh-1', limit: 0 },
      { warehouse_id: 'wh-1', extra: true },
      { warehouse_id: 'a#b' },
      [{ warehouse_id: 'wh-1' }],
    ]) {
      expect({ body, status: (await c.post(POINTS, body)).status }).toEqual({ body, status: 400 });
    }
    expect((await c.post(POINTS, { warehouse_id: 'nope' })).status).toBe(404);
    const other = await t.client();
    await setupCatalog(other, { warehouses: ['wh-other'] });
    expect((await c.post(POINTS, { warehouse_id: 'wh-other', dry_run: false })).status).toBe(404);
    expect((await other.post(POINTS, { warehouse_id: 'wh-1', dry_run: false })).status).toBe(404);
    for (const role of ['viewer', 'purchaser', 'analyst'] as const) {
      const user = await t.client({ tenantId: c.tenantId, role });
      expect({ role, status: (await user.post(POINTS, { warehouse_id: 'wh-1' })).status }).toEqual({ role, status: 403 });
    }
    const clerk = await t.client({ tenantId: c.tenantId, role: 'clerk' });
    expect(ok(await clerk.post(POINTS, { warehouse_id: 'wh-1', dry_run: false })).summary.applied).toBe(1);
  });

  test('a partial failure is reported per level: the level whose write fails says why, the others are applied, a second apply finishes the job', async () => {
    const c = await t.client();
    await setup(c, [{ sku_id: 'sku-2' }, { sku_id: 'sku-3' }]);
    for (const [sku, value] of [['sku-1', 10], ['sku-2', 4], ['sku-3', 2]] as const) await seed(c, forecastOf(sku, 'wh-1', constant(value), { sigma: 0 }));
    // A client whose every transaction touching sku-2 fails as the thresholds domain would when it keeps losing races.
    const client = createDocumentClient();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand' && JSON.stringify(args.input).includes('sku-2')) {
          throw new AppError('CONFLICT', 'injected: the level kept changing');
        }
        return next(args);
      },
      { step: 'initialize', name: 'failSku2' },
    );
    try {
      const res = await applyReorderPoints({ db: { client, table: tableName() }, ctx: contextFor(c.tenantId) }, { warehouse_id: 'wh-1', dry_run: false });
      expect(res.levels.map((l) => [l.sku_id, l.applied, l.error])).toEqual([
        ['sku-1', true, null],
        ['sku-2', false, { code: 'CONFLICT', message: 'injected: the level kept changing' }],
        ['sku-3', true, null],
      ]);
      expect(res.summary).toEqual({ proposed: 3, changed: 3, applied: 2, failed: 1, skipped: 0 });
    } finally {
      client.destroy();
    }
    expect(await levelOf(c, 'sku-2', 'wh-1')).toBeUndefined();
    expect(await levelOf(c, 'sku-1', 'wh-1')).toMatchObject({ reorder_point: 50, safety_stock: 0 });
    const again = ok(await c.post(POINTS, { warehouse_id: 'wh-1', dry_run: false }));
    expect(again.levels.map((l: any) => [l.sku_id, l.applied])).toEqual([['sku-1', false], ['sku-2', true], ['sku-3', false]]);
    expect(await levelOf(c, 'sku-2', 'wh-1')).toMatchObject({ reorder_point: 20, safety_stock: 0 });
  });
});
