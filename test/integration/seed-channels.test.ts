import { seedDemoChannels, DEMO_SKUS } from '../../bin/local/seed-channels';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import { locationGid } from '../fakes/shopify-admin';
import { ok, startTestApi, type TestApi } from '../support/api';

/** `npm start -- --seed`'s channel part: the demo tenant connected to local fakes, its SKUs pushed, and again on the next start. */
process.env[LOCAL_MODE_ENV] = '1';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

test('the demo connections are made on fakes, the first SKUs mapped and pushed (available less the buffer), and a restart points them at new fakes and pushes again', async () => {
  const c = await t.client({ role: 'admin' });
  ok(await c.post('/api/products', { product_id: 'p', name: 'Demo' }), 201);
  for (const [i, id] of ['wh-newark', 'wh-dallas', 'wh-reno', 'wh-toronto'].entries()) ok(await c.post('/api/warehouses', { warehouse_id: id, name: id, latitude: 40 + i, longitude: -80 + i }), 201);
  const skus = Array.from({ length: DEMO_SKUS + 2 }, (_, i) => `demo-${String(i).padStart(2, '0')}`);
  for (const sku of skus) ok(await c.post('/api/skus', { sku_id: sku, product_id: 'p', name: sku }), 201);
  ok(await c.post('/api/inventory/update', { sku_id: 'demo-00', warehouse_id: 'wh-newark', transaction_type: 'restock', quantity: 10 }));
  ok(await c.post('/api/inventory/update', { sku_id: 'demo-00', warehouse_id: 'wh-dallas', transaction_type: 'restock', quantity: 5 }));
  // Toronto is not sold on the demo channels.
  ok(await c.post('/api/inventory/update', { sku_id: 'demo-00', warehouse_id: 'wh-toronto', transaction_type: 'restock', quantity: 100 }));

  const first = await seedDemoChannels(c.tenantId);
  try {
    expect(first).toMatchObject({ skus: DEMO_SKUS, pushed: 2 * DEMO_SKUS });
    const variant = first.shopify.variants.find((v) => v.sku === 'demo-00');
    expect(first.shopify.getQuantity(variant?.inventoryItemId ?? '', locationGid('1'))).toBe(13);
    expect(first.amazon.getQuantity('A1DEMOSELLER', 'demo-00')).toBe(13);
    expect(first.amazon.getQuantity('A1DEMOSELLER', `demo-${DEMO_SKUS}`)).toBeUndefined();
  } finally {
    await first.stop();
  }
  const second = await seedDemoChannels(c.tenantId);
  try {
    const channels = ok(await c.get('/api/channels'));
    expect(channels.channels.map((ch: { channel_id: string; api_base_url: string }) => [ch.channel_id, ch.api_base_url]).sort()).toEqual([
      ['demo-amazon', second.amazon.url],
      ['demo-shopify', second.shopify.url],
    ]);
    const variant = second.shopify.variants.find((v) => v.sku === 'demo-00');
    expect(second.shopify.getQuantity(variant?.inventoryItemId ?? '', locationGid('1'))).toBe(13);
    expect(second.amazon.getQuantity('A1DEMOSELLER', 'demo-00')).toBe(13);
  } finally {
    await second.stop();
  }
});
