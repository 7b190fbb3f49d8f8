import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { StockLevelChangedDetail } from '../../functions/events/model';
import { keys } from '../../functions/platform/keys';
import { testDb } from '../support/domain';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { reconcile } from '../support/ledger';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

/**
 * A level split into sub-levels, end to end: what callers read, what the
 * stream says of it, and the alerts that follow. Only the sum is ever seen.
 */
let t: TestApi;
let c: Client;
let pipeline: LocalPipeline;
beforeAll(async () => {
  t = await startTestApi();
  c = await t.client();
  await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
  pipeline = await startLocalPipeline(c.tenantId);
});
afterAll(async () => {
  await pipeline.stop();
  await t.close();
});

const update = (type: string, quantity: number, warehouse = 'wh-1') =>
  c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: warehouse, transaction_type: type, quantity });
const split = (count: number, warehouse = 'wh-1') => c.post('/api/inventory/sub-levels', { sku_id: 'sku-1', warehouse_id: warehouse, count });
const levelChanges = (warehouse: string): StockLevelChangedDetail[] =>
  pipeline.bus.log
    .filter((e) => e['detail-type'] === 'StockLevelChanged')
    .map((e) => e.detail as StockLevelChangedDetail)
    .filter((d) => d.tenant_id === c.tenantId && d.warehouse_id === warehouse);

test('a split level reads as its sum everywhere, sells more than any one part holds, and refuses only what the sum cannot cover', async () => {
  expect((await update('restock', 42)).status).toBe(200);
  const done = await split(4);
  expect(done.status).toBe(200);
  expect(done.body.level).toMatchObject({ on_hand: 42, reserved: 0, available: 42, sub_levels: 4 });
  expect(done.body.sub_levels.map((p: { on_hand: number }) => p.on_hand)).toEqual([11, 11, 10, 10]);

  // 30 is more than any part holds: the sale is split over parts in one transaction.
  const sold = await update('sale', 30);
  expect(sold.status).toBe(200);
  expect(sold.body).toMatchObject({ on_hand: 12, available: 12, sub_levels: 4 });
  const refused = await update('sale', 13);
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { available: 12, requested: 13 } });

  const inventory = await c.get('/api/inventory/sku/sku-1');
  expect(inventory.body.levels.find((l: { warehouse_id: string }) => l.warehouse_id === 'wh-1')).toMatchObject({ on_hand: 12, available: 12 });
  expect(inventory.body.totals).toMatchObject({ on_hand: 12, available: 12 });
  const listed = await c.get('/api/inventory/levels?warehouse_id=wh-1');
  expect(listed.body.levels[0]).toMatchObject({ sku_id: 'sku-1', on_hand: 12, available: 12 });

  // An order larger than any part, a cancel and a shipment: reserved moves between parts correctly.
  const order = await c.post('/api/orders/allocate', { order_id: 'o-split', lines: [{ sku_id: 'sku-1', quantity: 9 }], ship_to: { latitude: 40, longitude: -75 }, warehouse_ids: ['wh-1'] });
  expect(order.status).toBe(201);
  expect((await c.post('/api/orders/o-split/ship', { lines: [{ sku_id: 'sku-1', quantity: 4 }] })).status).toBe(200);
  expect((await c.post('/api/orders/o-split/cancel')).status).toBe(200);
  const after = await c.get('/api/inventory/sku/sku-1');
  expect(after.body.levels.find((l: { warehouse_id: string }) => l.warehouse_id === 'wh-1')).toMatchObject({ on_hand: 8, reserved: 0, available: 8 });

  // A count sets the sum and spreads it evenly again; joining the parts keeps every unit.
  expect((await update('count', 20)).body).toMatchObject({ on_hand: 20, available: 20 });
  const rebalanced = await split(4);
  expect(rebalanced.body.sub_levels.map((p: { available: number }) => p.available)).toEqual([5, 5, 5, 5]);
  const joined = await split(1);
  expect(joined.body.level).toMatchObject({ on_hand: 20, available: 20 });
  expect(joined.body.level.sub_levels).toBeUndefined();
  expect((await update('sale', 20)).body).toMatchObject({ on_hand: 0, available: 0 });
  expect(await reconcile(c, 'sku-1', { everSplit: ['wh-1'] })).toEqual([]);
});

test("the stream tells a split level's changes as the sum, so a low-stock alert opens once when the sum crosses the reorder point", async () => {
  expect((await update('restock', 60, 'wh-2')).status).toBe(200);
  expect((await c.put('/api/thresholds', { sku_id: 'sku-1', warehouse_id: 'wh-2', reorder_point: 30, safety_stock: 5 })).status).toBe(200);
  expect((await split(3, 'wh-2')).status).toBe(200);
  await pipeline.settle(2);
  // Single-unit sales land on random parts: no part alone falls below 30 until long after the sum does.
  for (let i = 0; i < 25; i++) expect((await update('sale', 1, 'wh-2')).status).toBe(200);
  await pipeline.settle(2);
  expect((await c.get('/api/alerts')).body.alerts).toEqual([]);
  for (let i = 0; i < 10; i++) expect((await update('sale', 1, 'wh-2')).status).toBe(200);
  await pipeline.settle(2);
  const alerts = (await c.get('/api/alerts')).body.alerts;
  expect(alerts).toHaveLength(1);
  expect(alerts[0]).toMatchObject({ status: 'open', warehouse_id: 'wh-2', available: 25 });

  const events = levelChanges('wh-2');
  const last = events.at(-1);
  expect(last).toMatchObject({ after: { on_hand: 25, available: 25 } });
  // Every event carries a sum (never one part's 8 or so), and versions never go back.
  for (const e of events) expect(e.after.on_hand).toBeGreaterThanOrEqual(25);
  const versions = events.map((e) => e.version);
  expect(versions).toEqual([...versions].sort((a, b) => a - b));
  expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  expect(Object.values(pipeline.consumers.queues).flatMap((q) => q.deadLetters)).toEqual([]);
  expect(await reconcile(c, 'sku-1', { everSplit: ['wh-1', 'wh-2'] })).toEqual([]);
});

test('a part emptied by a sale is refilled from the others right after it: the level rebalances itself with no unit gained or lost', async () => {
  const db = testDb();
  const parts = async (k: number): Promise<number[]> =>
    Promise.all(
      Array.from({ length: k }, async (_, i) => {
        const key = i === 0 ? keys.stockLevel(c.tenantId, 'sku-1', 'wh-1') : keys.stockSubLevel(c.tenantId, 'sku-1', 'wh-1', i);
        const out = await db.client.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
        return Number(out.Item?.available);
      }),
    );
  expect((await update('restock', 40)).status).toBe(200);
  expect((await split(4)).body.sub_levels.map((p: { available: number }) => p.available)).toEqual([10, 10, 10, 10]);
  // 10 fits one part whole, which it empties; the next sale finds the parts uneven and evens them out after itself.
  expect((await update('sale', 10)).body).toMatchObject({ available: 30 });
  expect((await parts(4)).sort()).toEqual([0, 10, 10, 10]);
  expect((await update('sale', 1)).body).toMatchObject({ available: 29 });
  const after = await parts(4);
  expect(after.reduce((n, a) => n + a, 0)).toBe(29);
  expect(Math.max(...after) - Math.min(...after)).toBeLessThanOrEqual(1);
  expect((await c.get('/api/inventory/sku/sku-1')).body.levels.find((l: { warehouse_id: string }) => l.warehouse_id === 'wh-1')).toMatchObject({ on_hand: 29, available: 29 });
  expect(await reconcile(c, 'sku-1', { everSplit: ['wh-1', 'wh-2'] })).toEqual([]);
  db.client.destroy();
});
