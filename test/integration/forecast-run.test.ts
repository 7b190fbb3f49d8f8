import { LocalLake, type LakeMovement } from '../../bin/local/lake';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { requestNightlyRuns, runChunk } from '../../functions/forecasting/run';
import { keys } from '../../functions/platform/keys';
import { systemContext } from '../../functions/platform/context';
import { createDocumentClient, type Db } from '../../functions/platform/db';
import { lakeObjectsFromEnv } from '../../functions/platform/lake-objects';
import { closeTenant } from '../../functions/reports/close';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

/**
 * The forecasting run (issue 10, scope items 4-6) under the local runtime: history in the lake
 * (closed by the daily close through the S3 stand-in), POST /run -> the stream -> the planner ->
 * one chunk item per chunk -> the stream -> the workers -> a forecast per level, read back by
 * GET /api/reports/demand-forecast.
 */

let t: TestApi;
let admin: Client;
let pipeline: LocalPipeline;
let db: Db;
const DAY_MS = 86_400_000;
const today = new Date().toISOString().slice(0, 10);
const daysAgo = (n: number, hour = 12): string => new Date(Date.parse(today) - n * DAY_MS + hour * 3_600_000).toISOString();
const HISTORY = 140;

let id = 0;
const movement = (tenant: string, sku: string, at: string, type: LakeMovement['type'], delta: number): LakeMovement => {
  id += 1;
  const deltas = { on_hand: delta, reserved: 0, available: delta, incoming: 0 };
  return { tenant_id: tenant, movement_id: `fr${String(id).padStart(7, '0')}`, sku_id: sku, warehouse_id: 'wh-1', type, deltas, actor: 'user-1', created_at: at, ...(type === 'receipt' ? { unit_cost: '1.00', currency: 'USD' } : {}) };
};

/** A weekly pattern (busy weekends) with a little deterministic noise, on a level that never runs out. */
const weekly = (tenant: string, sku: string): LakeMovement[] => {
  const rows = [movement(tenant, sku, daysAgo(HISTORY, 6), 'receipt', 100_000)];
  for (let d = HISTORY - 1; d >= 1; d--) {
    const weekday = new Date(Date.parse(today) - d * DAY_MS).getUTCDay();
    const units = (weekday === 0 || weekday === 6 ? 30 : 10) + ((d * 7) % 5);
    rows.push(movement(tenant, sku, daysAgo(d), 'sale', -units));
  }
  return rows;
};

beforeAll(async () => {
  t = await startTestApi();
  admin = await t.client();
  await setupCatalog(admin, { skuId: 'steady', warehouses: ['wh-1'] });
  for (const sku of ['once', 'never', 'idle']) ok(await admin.post('/api/skus', { sku_id: sku, product_id: 'prod-1', name: sku }), 201);
  db = { client: createDocumentClient(), table: process.env.TABLE_NAME! };
  const lake = await LocalLake.open({ root: t.lakeRoot, flushEveryMs: 0 });
  lake.append([
    ...weekly(admin.tenantId, 'steady'),
    // One sale ever, 30 days ago.
    movement(admin.tenantId, 'once', daysAgo(40, 6), 'receipt', 10),
    movement(admin.tenantId, 'once', daysAgo(30), 'sale', -4),
    // Stocked, never sold: all zeros.
    movement(admin.tenantId, 'never', daysAgo(60, 6), 'receipt', 10),
  ]);
  await lake.close();
  await closeTenant({ objects: lakeObjectsFromEnv(), now: () => new Date() }, admin.tenantId, { today });
  pipeline = await startLocalPipeline(admin.tenantId);
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  db?.client.destroy();
  await t?.close();
});

/** Polls a run as a client would, until it completes (the pipeline's workers run in the background). */
const completed = async (runId: string): Promise<Record<string, any>> => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = ok(await admin.get(`/api/reports/demand-forecast/runs/${runId}`));
    if (run.status === 'completed') return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not complete within 60 s: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const runToCompletion = async (): Promise<Record<string, any>> => {
  const started = ok(await admin.post('/api/reports/demand-forecast/run'), 202);
  expect(started).toMatchObject({ status: 'requested', trigger: 'api', chunks: { total: null, done: 0 } });
  return completed(started.run_id);
};

describe('a forecasting run', () => {
  let run: Record<string, any>;
  beforeAll(async () => {
    run = await runToCompletion();
  }, 120_000);

  it('is planned, fanned out in chunks and completed, with a summary per demand class and method', () => {
    expect(run).toMatchObject({ status: 'completed', chunks: { total: 1, done: 1 }, series_total: 3, summary: { series: 3 } });
    expect(run.history.to).toBe(new Date(Date.parse(today) - DAY_MS).toISOString().slice(0, 10));
    expect(Object.values(run.summary.by_class).reduce((a: number, b) => a + (b as number), 0)).toBe(3);
    expect(Object.values(run.summary.by_method).reduce((a: number, b) => a + (b as number), 0)).toBe(3);
    expect(run.summary.backtested).toBeGreaterThanOrEqual(1);
    expect(run.completed_at >= run.started_at).toBe(true);
  });

  it('forecasts a steady weekly seller by a method that beats the seasonal naive baseline or is it, daily and total, with a range around it', async () => {
    const f = ok(await admin.get('/api/reports/demand-forecast?sku_id=steady&warehouse_id=wh-1'));
    expect(f).toMatchObject({ horizon_days: 28, class: 'smooth', run_id: run.run_id, stale: false, combined: [] });
    expect(f.daily).toHaveLength(28);
    expect(f.daily[0].date).toBe(today);
    for (const day of f.daily) {
      expect(day.lower).toBeLessThanOrEqual(day.forecast);
      expect(day.forecast).toBeLessThanOrEqual(day.upper);
      // Weekdays sell 10-14, weekends 30-34: a sane forecast lies within the pattern's range.
      expect(day.forecast).toBeGreaterThan(5);
      expect(day.forecast).toBeLessThan(40);
    }
    expect(f.total.forecast).toBeCloseTo(f.daily.reduce((a: number, d: { forecast: number }) => a + d.forecast, 0), 2);
    expect(f.total.lower).toBeLessThanOrEqual(f.total.forecast);
    expect(f.total.upper).toBeGreaterThanOrEqual(f.total.forecast);
    expect(f.backtest.baseline).toBe('seasonal_naive');
    expect(f.backtest.mase).toBeLessThanOrEqual(f.backtest.baseline_mase);
    expect(f.reason).toMatch(/MASE/);
    // Its first day started with no stock (the receipt came that morning): that day alone is censored.
    expect(f.history).toMatchObject({ to: run.history.to, stocked_out_days: 1 });
    expect(f.history.days).toBe(HISTORY);
    expect(f.history.recent).toHaveLength(56);
  });

  it('answers every horizon from 1 to 180 days, and 400 outside it or for a fraction or text', async () => {
    expect(ok(await admin.get('/api/reports/demand-forecast?sku_id=steady&warehouse_id=wh-1&horizon_days=1')).daily).toHaveLength(1);
    expect(ok(await admin.get('/api/reports/demand-forecast?sku_id=steady&warehouse_id=wh-1&horizon_days=180')).daily).toHaveLength(180);
    for (const bad of ['0', '181', '2.5', '-3', 'abc', '1e9']) {
      const res = await admin.get(`/api/reports/demand-forecast?sku_id=steady&warehouse_id=wh-1&horizon_days=${bad}`);
      expect({ bad, status: res.status, code: res.body.error.code }).toEqual({ bad, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it('gives one sale ever, all zeros and a level never touched clear answers: finite numbers, no NaN, zeros where nothing is known', async () => {
    for (const sku of ['once', 'never', 'idle']) {
      const res = await admin.get(`/api/reports/demand-forecast?sku_id=${sku}&warehouse_id=wh-1&horizon_days=14`);
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toMatch(/NaN|Infinity|null,"lower"/);
      for (const day of res.body.daily) expect(Number.isFinite(day.forecast) && day.forecast >= 0).toBe(true);
    }
    const never = ok(await admin.get('/api/reports/demand-forecast?sku_id=never&warehouse_id=wh-1'));
    expect(never).toMatchObject({ class: 'no_history', total: { forecast: 0 } });
    const idle = ok(await admin.get('/api/reports/demand-forecast?sku_id=idle&warehouse_id=wh-1'));
    expect(idle).toMatchObject({ class: 'no_history', made_at: null, run_id: null, backtest: null, total: { forecast: 0, lower: 0, upper: 0 } });
    const once = ok(await admin.get('/api/reports/demand-forecast?sku_id=once&warehouse_id=wh-1'));
    expect(['lumpy', 'intermittent', 'no_history']).toContain(once.class);
    expect(once.history.total_demand).toBe(4);
  });

  it('answers 404 for an unknown SKU or warehouse, and another tenant\'s SKU is unknown', async () => {
    const unknownSku = await admin.get('/api/reports/demand-forecast?sku_id=nope&warehouse_id=wh-1');
    expect(unknownSku.status).toBe(404);
    expect((await admin.get('/api/reports/demand-forecast?sku_id=steady&warehouse_id=nope')).status).toBe(404);
    const other = await t.client();
    expect((await other.get('/api/reports/demand-forecast?sku_id=steady&warehouse_id=wh-1')).status).toBe(404);
    expect((await other.get(`/api/reports/demand-forecast/runs/${run.run_id}`)).status).toBe(404);
  });

  it('is started by admins only; others may read it', async () => {
    for (const role of ['manager', 'analyst', 'clerk'] as const) {
      const c = await t.client({ tenantId: admin.tenantId, role });
      expect((await c.post('/api/reports/demand-forecast/run')).status).toBe(403);
    }
    const analyst = await t.client({ tenantId: admin.tenantId, role: 'analyst' });
    expect(ok(await analyst.get(`/api/reports/demand-forecast/runs/${run.run_id}`)).run_id).toBe(run.run_id);
    expect((await admin.get('/api/reports/demand-forecast/runs/not-a-run')).status).toBe(404);
  });

  it('counts a chunk delivered twice once, and a later run\'s forecasts replace the earlier one\'s', async () => {
    const deps = { db, objects: lakeObjectsFromEnv(), ctx: systemContext({ tenantId: admin.tenantId, actor: 'system:forecaster', requestId: 'redelivery' }) };
    const again = await runChunk(deps, { run_id: run.run_id, chunk: 0 });
    expect(again.counted).toBe(false);
    expect(ok(await admin.get(`/api/reports/demand-forecast/runs/${run.run_id}`)).summary.series).toBe(3);
    // A worker that died after counting the last chunk but before completing the run: its redelivery completes it.
    await db.client.send(
      new UpdateCommand({ TableName: db.table, Key: keys.forecastRun(admin.tenantId, run.run_id), UpdateExpression: 'SET #s = :running REMOVE completed_at', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':running': 'running' } }),
    );
    expect(ok(await admin.get(`/api/reports/demand-forecast/runs/${run.run_id}`)).status).toBe('running');
    expect(await runChunk(deps, { run_id: run.run_id, chunk: 0 })).toEqual({ series: 0, counted: false });
    expect(ok(await admin.get(`/api/reports/demand-forecast/runs/${run.run_id}`))).toMatchObject({ status: 'completed', chunks: { total: 1, done: 1 }, summary: { series: 3 } });
    const second = await runToCompletion();
    expect(second.status).toBe('completed');
    expect(ok(await admin.get('/api/reports/demand-forecast?sku_id=steady&warehouse_id=wh-1')).run_id).toBe(second.run_id);
  });

  it('the nightly schedule requests one run a day per tenant whose lake closed yesterday, and no second one that day', async () => {
    const objects = lakeObjectsFromEnv();
    const deps = (tenantId: string) => ({ db, ctx: systemContext({ tenantId, actor: 'system:forecaster', requestId: 'nightly-test' }) });
    const first = await requestNightlyRuns(objects, deps, new Date());
    expect(first.requested).toContain(admin.tenantId);
    const second = await requestNightlyRuns(objects, deps, new Date());
    expect(second.requested).not.toContain(admin.tenantId);
    const nightly = await completed(`nightly-${today}`);
    expect(nightly).toMatchObject({ status: 'completed', trigger: 'schedule', requested_by: 'system:forecaster', series_total: 3 });
  }, 120_000);

  it('forecasts a tenant whose only history is imported (no ledger row has reached the lake), nightly too', async () => {
    const newcomer = await t.client();
    await setupCatalog(newcomer, { skuId: 'past', warehouses: ['wh-1'] });
    const rows = Array.from({ length: 70 }, (_, i) => ({ date: new Date(Date.parse(today) - (70 - i) * DAY_MS).toISOString().slice(0, 10), sku_id: 'past', warehouse_id: 'wh-1', quantity: 5 + (i % 7) }));
    expect(ok(await newcomer.post('/api/reports/demand-history', { rows }))).toMatchObject({ imported: 70, refused: [] });
    const newcomerPipeline = await startLocalPipeline(newcomer.tenantId);
    try {
      const deps = (tenantId: string) => ({ db, ctx: systemContext({ tenantId, actor: 'system:forecaster', requestId: 'nightly-imports' }) });
      expect((await requestNightlyRuns(lakeObjectsFromEnv(), deps, new Date())).requested).toContain(newcomer.tenantId);
      const deadline = Date.now() + 60_000;
      let run = ok(await newcomer.get(`/api/reports/demand-forecast/runs/nightly-${today}`));
      while (run.status !== 'completed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        run = ok(await newcomer.get(`/api/reports/demand-forecast/runs/nightly-${today}`));
      }
      expect(run).toMatchObject({ status: 'completed', series_total: 1 });
      const f = ok(await newcomer.get('/api/reports/demand-forecast?sku_id=past&warehouse_id=wh-1&horizon_days=7'));
      expect(f.history).toMatchObject({ days: 70, stocked_out_days: 0, total_demand: rows.reduce((a, r) => a + r.quantity, 0) });
      expect(f.class).toBe('smooth');
      for (const day of f.daily) expect(day.forecast).toBeGreaterThan(3);
    } finally {
      await newcomerPipeline.stop();
    }
  }, 120_000);
});
