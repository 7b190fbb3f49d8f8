import { setupCatalog, startTestApi, type TestApi } from '../support/api';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

test('a restock then a sale leave the level and the ledger in step', async () => {
  const c = await t.client();
  const { skuId } = await setupCatalog(c);
  const restock = await c.post('/api/inventory/update', { sku_id: skuId, warehouse_id: 'wh-1', quantity: 10, transaction_type: 'restock' });
  expect(restock.status).toBe(200);
  const sale = await c.post('/api/inventory/update', { sku_id: skuId, warehouse_id: 'wh-1', quantity: 3, transaction_type: 'sale' });
  expect(sale.body).toMatchObject({ on_hand: 7, available: 7, version: 2 });
  const moves = await c.get(`/api/inventory/sku/${skuId}/movements`);
  expect(moves.body.movements.map((m: { type: string }) => m.type)).toEqual(['sale', 'restock']);
});
