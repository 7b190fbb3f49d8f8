import { acknowledgeAlert, evaluateLevelChange, listAlerts } from '../../functions/alerts/alerts';
import type { StockLevelChangedDetail } from '../../functions/events/model';
import { systemContext } from '../../functions/platform/context';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { contextFor, testDb } from '../support/domain';
import { stockLevelChanged as changed } from '../support/events';
import { reconcile } from '../support/ledger';
import { levelOf, levelsOf } from '../support/levels';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

let t: TestApi;
const db = testDb();
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
  db.client.destroy();
});

/** The consumer's domain function with the deps its handler builds for one message. */
const evaluate = (detail: StockLevelChangedDetail) =>
  evaluateLevelChange({ db, ctx: systemContext({ tenantId: detail.tenant_id, actor: 'system:alert-evaluator', requestId: detail.event_id }) }, detail);

const put = (c: Client, body: unknown) => c.put('/api/thresholds', body);
const sell = (c: Client, quantity: number) =>
  c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity });

describe('the consumer domain function', () => {
  test('a crossing opens one alert, further drops update it, a restock resolves it', async () => {
    const ctx = contextFor();
    const tenant = ctx.caller.tenantId;
    expect(await evaluate(changed(tenant, 1, 12))).toBe('record');
    expect(await evaluate(changed(tenant, 2, 9))).toBe('open');
    for (let v = 3; v <= 8; v++) await evaluate(changed(tenant, v, 12 - v));
    const active = await listAlerts({ db, ctx }, {});
    expect(active.alerts).toHaveLength(1);
    expect(active.alerts[0]).toMatchObject({ status: 'open', severity: 'high', available: 4, level_version: 8 });
    expect(await evaluate(changed(tenant, 9, 30))).toBe('resolve');
    expect((await listAlerts({ db, ctx }, {})).alerts).toHaveLength(0);
    expect((await listAlerts({ db, ctx }, { status: 'resolved' })).alerts).toHaveLength(1);
  });

  test('the same batch twice and in reverse order changes nothing', async () => {
    const batch = (tenant: string) => [changed(tenant, 1, 12), changed(tenant, 2, 8), changed(tenant, 3, 5), changed(tenant, 4, 1)];
    const run = async (order: (b: StockLevelChangedDetail[]) => StockLevelChangedDetail[]) => {
      const ctx = contextFor();
      for (const e of order(batch(ctx.caller.tenantId))) await evaluate(e);
      return { ctx, alerts: (await listAlerts({ db, ctx }, {})).alerts };
    };
    const inOrder = await run((b) => b);
    expect(inOrder.alerts).toHaveLength(1);
    const twice = await run((b) => [...b, ...b]);
    const reversed = await run((b) => [...b].reverse());
    const strip = (a: object[]) => a.map(({ alert_id: _a, opened_at: _o, updated_at: _u, version: _v, ...rest }: any) => rest);
    expect(strip(twice.alerts)).toEqual(strip(inOrder.alerts));
    // Reversed: the newest event comes first and opens the alert; the older ones are ignored.
    expect(strip(reversed.alerts)).toEqual(strip(inOrder.alerts));
    // A late event after a resolution does not reopen it.
    await evaluate(changed(reversed.ctx.caller.tenantId, 5, 40));
    await evaluate(changed(reversed.ctx.caller.tenantId, 3, 5));
    expect((await listAlerts({ db, ctx: reversed.ctx }, {})).alerts).toHaveLength(0);
  });

  test('acknowledge: open -> acknowledged, still updates and resolves; resolved is 409; unknown is 404', async () => {
    const ctx = contextFor();
    const tenant = ctx.caller.tenantId;
    await evaluate(changed(tenant, 1, 8));
    const [alert] = (await listAlerts({ db, ctx }, {})).alerts;
    expect((await acknowledgeAlert({ db, ctx }, alert!.alert_id)).status).toBe('acknowledged');
    await evaluate(changed(tenant, 2, 1));
    expect((await listAlerts({ db, ctx }, { status: 'acknowledged' })).alerts[0]).toMatchObject({ severity: 'critical', available: 1 });
    await evaluate(changed(tenant, 3, 11));
    await expect(acknowledgeAlert({ db, ctx }, alert!.alert_id)).rejects.toMatchObject({ status: 409 });
    await expect(acknowledgeAlert({ db, ctx }, 'nope')).rejects.toMatchObject({ status: 404 });
  });
});

describe('thresholds over HTTP', () => {
  test('validation: negative, fractional, safety_stock above reorder_point are 400; unknown SKU and another tenant are 404', async () => {
    const a = await t.client();
    await setupCatalog(a);
    const ok = { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 2 };
    expect((await put(a, { ...ok, reorder_point: -1 })).status).toBe(400);
    expect((await put(a, { ...ok, safety_stock: 1.5 })).status).toBe(400);
    expect((await put(a, { ...ok, safety_stock: 11 })).status).toBe(400);
    expect((await put(a, { items: [] })).status).toBe(400);
    expect((await put(a, { ...ok, sku_id: 'nope' })).status).toBe(404);
    expect((await put(a, { items: [ok, { ...ok, warehouse_id: 'nope' }] })).status).toBe(404);
    const b = await t.client();
    expect((await put(b, ok)).status).toBe(404);
    // Nothing was written by any of these.
    expect(await levelsOf(a)).toEqual([]);
  });

  test('a threshold is a versioned level change with a ledger row; the SKU default is inherited; the ledger reconciles', async () => {
    const a = await t.client();
    await setupCatalog(a, { warehouses: ['wh-1', 'wh-2'] });
    await a.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 20 });
    const res = await put(a, { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 2, reorder_quantity: 50 });
    expect(res.status).toBe(200);
    expect(res.body.items[0].levels[0]).toMatchObject({ version: 2, reorder_point: 10, safety_stock: 2, reorder_quantity: 50, thresholds_from: 'level', on_hand: 20 });
    // The same again changes nothing.
    expect((await put(a, { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 2, reorder_quantity: 50 })).body.items[0].levels).toEqual([]);
    // A default: wh-1 keeps its own; wh-2 (never stocked) inherits when it is first stocked.
    expect((await put(a, { sku_id: 'sku-1', reorder_point: 6, safety_stock: 1 })).status).toBe(200);
    await a.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-2', transaction_type: 'restock', quantity: 3 });
    expect(await levelOf(a, 'sku-1', 'wh-1')).toMatchObject({ reorder_point: 10, thresholds_from: 'level' });
    expect(await levelOf(a, 'sku-1', 'wh-2')).toMatchObject({ reorder_point: 6, safety_stock: 1, thresholds_from: 'sku_default' });
    // A new default moves the inheriting level, with its own ledger row; bulk sets several.
    const bulk = await put(a, { items: [{ sku_id: 'sku-1', reorder_point: 8, safety_stock: 2 }, { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 12, safety_stock: 3 }] });
    expect(bulk.status).toBe(200);
    expect(bulk.body.items[0].levels.map((l: any) => l.warehouse_id)).toEqual(['wh-2']);
    expect(await reconcile(a, 'sku-1')).toEqual([]);
  });
});

describe('end to end under the local runtime: HTTP -> table stream -> bus -> queue -> consumer', () => {
  let c: Client;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    c = await t.client();
    pipeline = await startLocalPipeline(c.tenantId);
  });
  afterAll(() => pipeline.stop());

  // Two rounds: under load DynamoDB Local can show a stream record a moment after the write,
  // after one round of draining has already looked.
  const settle = () => pipeline.settle(2);

  test('a sale crossing the reorder point opens exactly one alert; twenty more keep it one; a restock resolves it; thresholds alone open and resolve', async () => {
    await setupCatalog(c);
    await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 40 });
    expect((await put(c, { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 30, safety_stock: 5 })).status).toBe(200);
    await settle();
    expect((await c.get('/api/alerts')).body.alerts).toEqual([]);
    expect((await sell(c, 12)).status).toBe(200);
    await settle();
    const opened = (await c.get('/api/alerts')).body.alerts;
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ status: 'open', available: 28, severity: 'normal', sku_id: 'sku-1', warehouse_id: 'wh-1' });
    for (let i = 0; i < 20; i++) expect((await sell(c, 1)).status).toBe(200);
    await settle();
    const updated = (await c.get('/api/alerts')).body.alerts;
    expect(updated).toHaveLength(1);
    expect(updated[0]).toMatchObject({ alert_id: opened[0].alert_id, available: 8, severity: 'high' });
    expect(updated[0].days_of_cover).toBeGreaterThan(0);
    expect((await c.post(`/api/alerts/${opened[0].alert_id}/acknowledge`)).body.status).toBe('acknowledged');
    await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 50 });
    await settle();
    expect((await c.get('/api/alerts')).body.alerts).toEqual([]);
    expect((await c.get('/api/alerts?status=resolved')).body.alerts).toHaveLength(1);
    // A threshold change alone: raising the reorder point above 58 opens an alert, lowering it resolves it.
    await put(c, { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 100, safety_stock: 5 });
    await settle();
    expect((await c.get('/api/alerts')).body.alerts).toHaveLength(1);
    await put(c, { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 10, safety_stock: 5 });
    await settle();
    expect((await c.get('/api/alerts')).body.alerts).toEqual([]);
    expect((await c.get('/api/alerts?status=resolved')).body.alerts).toHaveLength(2);
    expect(Object.values(pipeline.consumers.queues).flatMap((q) => q.deadLetters)).toEqual([]);
    expect(await reconcile(c, 'sku-1')).toEqual([]);
  });
});
