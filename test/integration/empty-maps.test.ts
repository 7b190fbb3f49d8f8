import { ok, setupCatalog, startTestApi, type TestApi } from '../support/api';
import { startLocalPipeline } from '../support/pipeline';

/**
 * DynamoDB Local's GetRecords hangs for good on a stream record holding an empty map, which would
 * stop the local stream (alerts, notifications, the lake feed) until a restart. The platform's
 * writes never store a top-level empty map (functions/platform/writes.ts), so an `attributes: {}`
 * sent by a client cannot do that.
 */
let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

test('a product and a SKU with empty attributes do not stop the local stream, and read back without attributes', async () => {
  const c = await t.client();
  const pipeline = await startLocalPipeline(c.tenantId);
  try {
    await setupCatalog(c, { skuId: 'sku-1', warehouses: ['wh-1'] });
    ok(await c.post('/api/products', { product_id: 'bare', name: 'Bare', attributes: {} }), 201);
    ok(await c.post('/api/skus', { sku_id: 'bare-1', product_id: 'bare', name: 'Bare one', attributes: {} }), 201);
    ok(await c.patch('/api/skus/sku-1', { attributes: {} }));
    ok(await c.post('/api/inventory/update', { sku_id: 'bare-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 5 }));
    // The stream is read past every one of those records (this throws after 10 s if the poller hangs).
    await pipeline.poller.drain(10_000);
    expect(pipeline.bus.find({ 'detail-type': ['StockLevelChanged'], detail: { sku_id: ['bare-1'] } })).toHaveLength(1);
    expect(ok(await c.get('/api/products/bare')).attributes).toBeUndefined();
    expect(ok(await c.get('/api/skus/sku-1')).attributes).toBeUndefined();
  } finally {
    await pipeline.stop();
  }
}, 60_000);
