import { requestNightlyRuns } from '../../functions/forecasting/run';
import { systemContext } from '../../functions/platform/context';
import { createDocumentClient, type Db } from '../../functions/platform/db';
import { lakeObjectsFromEnv } from '../../functions/platform/lake-objects';
import { closeTenant } from '../../functions/reports/close';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { allMovements } from '../support/ledger';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

/**
 * Forecasting end to end under the local runtime (issue 10, "Tests that must exist"): a business
 * imports its past demand, sells live through the API (the stream and the lake feed carry the
 * ledger to the lake), the daily close closes the day, the nightly schedule requests the run, the
 * planner and workers make the forecast, and the reorder points it implies are proposed, then
 * applied to the level's thresholds with one ledger row.
 */

const DAY_MS = 86_400_000;
const today = new Date().toISOString().slice(0, 10);
const tomorrow = new Date(Date.parse(today) + DAY_MS).toISOString().slice(0, 10);
const dayBefore = (n: number): string => new Date(Date.parse(today) - n * DAY_MS).toISOString().slice(0, 10);
const IMPORTED_DAYS = 84;
/** Weekends sell more: 12-14 a day, weekdays 5-7. */
const importedQuantity = (date: string, i: number): number => ([0, 6].includes(new Date(Date.parse(date)).getUTCDay()) ? 12 : 5) + (i % 3);
const LIVE_SALES = [4, 3, 5];
const LEAD_TIME_DAYS = 7;

let t: TestApi;
let admin: Client;
let pipeline: LocalPipeline;
let db: Db;

beforeAll(async () => {
  t = await startTestApi();
  admin = await t.client();
  db = { client: createDocumentClient(), table: process.env.TABLE_NAME! };
  pipeline = await startLocalPipeline(admin.tenantId, { lake: { root: t.lakeRoot, compactEveryMs: 0, flushEveryMs: 200 } });
  await setupCatalog(admin, { skuId: 'widget', warehouses: ['wh-1'] });
  ok(await admin.post('/api/suppliers', { supplier_id: 'acme', name: 'Acme', contact: { email: 'orders@acme.example' }, lead_time_days: LEAD_TIME_DAYS, currency: 'USD' }), 201);
  ok(await admin.patch('/api/skus/widget', { supplier_id: 'acme', unit_cost: '2.00', currency: 'USD' }));
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  db?.client.destroy();
  await t?.close();
});

describe('forecasting end to end', () => {
  const imported = Array.from({ length: IMPORTED_DAYS }, (_, i) => {
    const date = dayBefore(IMPORTED_DAYS - i);
    return { date, sku_id: 'widget', warehouse_id: 'wh-1', quantity: importedQuantity(date, i) };
  });
  let forecast: Record<string, any>;

  it('imports the past, sells live, closes the day and runs the nightly forecast over both', async () => {
    const csv = ['date,sku_id,warehouse_id,quantity', ...imported.map((r) => `${r.date},${r.sku_id},${r.warehouse_id},${r.quantity}`)].join('\n');
    const res = ok(await admin.raw('/api/reports/demand-history', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv }));
    expect(res).toMatchObject({ imported: IMPORTED_DAYS, refused: [] });
    // History only: no level exists yet.
    expect(ok(await admin.get('/api/inventory/sku/widget')).levels).toEqual([]);

    ok(await admin.post('/api/inventory/update', { sku_id: 'widget', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1000 }));
    for (const quantity of LIVE_SALES) ok(await admin.post('/api/inventory/update', { sku_id: 'widget', warehouse_id: 'wh-1', transaction_type: 'sale', quantity }));
    // The lake holds the four live movements within 10 s.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const rows = ok(await admin.get(`/api/reports/stock-movement?from=${today}&to=${tomorrow}&group_by=day&sku_id=widget`)).rows as { movements: number }[];
      if (rows.reduce((n, r) => n + r.movements, 0) === 4) break;
      if (Date.now() > deadline) throw new Error(`the lake holds ${JSON.stringify(rows)} after 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // Tomorrow's close closes today; the nightly request in the hour after it asks for the run.
    const objects = lakeObjectsFromEnv();
    const closed = await closeTenant({ objects, now: () => new Date() }, admin.tenantId, { today: tomorrow });
    expect(closed.closed).toContain(today);
    const at = new Date(Date.parse(tomorrow) + 3_600_000);
    const deps = (tenantId: string) => ({ db, ctx: systemContext({ tenantId, actor: 'system:forecaster', requestId: 'e2e', now: () => at }) });
    expect((await requestNightlyRuns(objects, deps, at)).requested).toEqual(expect.arrayContaining([admin.tenantId]));
    const runPath = `/api/reports/demand-forecast/runs/nightly-${tomorrow}`;
    const runDeadline = Date.now() + 60_000;
    let run = ok(await admin.get(runPath));
    while (run.status !== 'completed' && Date.now() < runDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = ok(await admin.get(runPath));
    }
    expect(run).toMatchObject({ status: 'completed', trigger: 'schedule', series_total: 1, summary: { series: 1 }, history: { to: today } });

    forecast = ok(await admin.get(`/api/reports/demand-forecast?sku_id=widget&warehouse_id=wh-1&horizon_days=${LEAD_TIME_DAYS}`));
    const sold = LIVE_SALES.reduce((a, b) => a + b, 0);
    // The imported days and today's live sales, as one series: the live day is the ledger's.
    expect(forecast.history).toMatchObject({ from: imported[0]!.date, to: today, days: IMPORTED_DAYS + 1, total_demand: imported.reduce((a, r) => a + r.quantity, 0) + sold });
    expect(forecast.class).toBe('smooth');
    expect(forecast.daily).toHaveLength(LEAD_TIME_DAYS);
    expect(forecast.daily[0].date).toBe(tomorrow);
    const weekend = forecast.daily.filter((d: { date: string }) => [0, 6].includes(new Date(Date.parse(d.date)).getUTCDay()));
    const weekdays = forecast.daily.filter((d: { date: string }) => ![0, 6].includes(new Date(Date.parse(d.date)).getUTCDay()));
    // The weekly pattern is learnt: weekends forecast above weekdays.
    expect(Math.min(...weekend.map((d: { forecast: number }) => d.forecast))).toBeGreaterThan(Math.max(...weekdays.map((d: { forecast: number }) => d.forecast)));
  }, 120_000);

  it('proposes the reorder point the forecast and the supplier\'s lead time imply, applies it with one ledger row, and a second apply changes nothing', async () => {
    const proposal = ok(await admin.get('/api/replenishment/reorder-points?warehouse_id=wh-1'));
    expect(proposal.levels).toHaveLength(1);
    const [row] = proposal.levels;
    expect(row).toMatchObject({ sku_id: 'widget', current: { reorder_point: 0, safety_stock: 0 }, changed: true, service_level: 0.95, class: 'smooth' });
    expect(row.basis).toMatchObject({ L: LEAD_TIME_DAYS, sigma_L: 0, sigma_d: forecast.daily_sigma, days_averaged: LEAD_TIME_DAYS });
    expect(row.basis.z).toBeCloseTo(1.6449, 4);
    // d is the mean daily forecast over the lead time, read from the same day as GET demand-forecast.
    const d = forecast.daily.reduce((a: number, day: { forecast: number }) => a + day.forecast, 0) / LEAD_TIME_DAYS;
    expect(row.basis.d).toBeCloseTo(d, 6);
    const safety = 1.6448536 * Math.sqrt(LEAD_TIME_DAYS) * forecast.daily_sigma;
    expect(row.safety_stock).toBe(Math.ceil(safety - 1e-9));
    expect(row.reorder_point).toBe(Math.ceil(d * LEAD_TIME_DAYS + safety - 1e-9));

    const before = await allMovements(admin, 'widget');
    const dry = ok(await admin.post('/api/replenishment/reorder-points', { warehouse_id: 'wh-1' }));
    expect(dry).toMatchObject({ dry_run: true, summary: { changed: 1, applied: 0 } });
    expect(await allMovements(admin, 'widget')).toEqual(before);

    const applied = ok(await admin.post('/api/replenishment/reorder-points', { warehouse_id: 'wh-1', dry_run: false }));
    expect(applied).toMatchObject({ dry_run: false, summary: { changed: 1, applied: 1, failed: 0 } });
    const level = ok(await admin.get('/api/inventory/sku/widget')).levels[0];
    expect(level).toMatchObject({ reorder_point: row.reorder_point, safety_stock: row.safety_stock });
    const after = await allMovements(admin, 'widget');
    expect(after.length - before.length).toBe(1);
    expect(after.find((m) => !before.some((b) => b.movement_id === m.movement_id))).toMatchObject({ type: 'thresholds', deltas: { on_hand: 0, reserved: 0, available: 0 } });

    const again = ok(await admin.post('/api/replenishment/reorder-points', { warehouse_id: 'wh-1', dry_run: false }));
    expect(again).toMatchObject({ summary: { changed: 0, applied: 0 } });
    expect(await allMovements(admin, 'widget')).toHaveLength(after.length);
  }, 60_000);
});
