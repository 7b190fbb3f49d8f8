import { productResponse, skuListResponse, skuResponse, warehouseListResponse, warehouseResponse } from '../../functions/inventory/schemas';
import { startTestApi, type TestApi } from '../support/api';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

describe('products', () => {
  test('a product created with a caller-chosen id is returned as stored', async () => {
    const c = await t.client();
    const created = await c.post('/api/products', { product_id: 'tee', name: 'T-shirt', brand: 'Acme', attributes: { material: 'cotton' } });
    expect(created.status).toBe(201);
    expect(productResponse.parse(created.body)).toMatchObject({ product_id: 'tee', name: 'T-shirt', attributes: { material: 'cotton' } });
    const read = await c.get('/api/products/tee');
    expect(read.body).toEqual(created.body);
  });

  test('a product created without an id gets a ULID', async () => {
    const c = await t.client();
    const created = await c.post('/api/products', { name: 'Mug' });
    expect(created.body.product_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  test('creating the same product id twice is 409 ALREADY_EXISTS and keeps the first', async () => {
    const c = await t.client();
    await c.post('/api/products', { product_id: 'p', name: 'First' });
    const again = await c.post('/api/products', { product_id: 'p', name: 'Second' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_EXISTS');
    expect((await c.get('/api/products/p')).body.name).toBe('First');
  });

  test('an unknown product is 404 in the error shape', async () => {
    const c = await t.client();
    const res = await c.get('/api/products/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String), details: { product_id: 'nope' } } });
  });
});

describe('skus', () => {
  test('a SKU keeps money exactly as a decimal string with its currency', async () => {
    const c = await t.client();
    await c.post('/api/products', { product_id: 'p1', name: 'P' });
    const sku = await c.post('/api/skus', { sku_id: 's1', product_id: 'p1', name: 'S', unit_cost: 0.1, price: '19.9900', currency: 'EUR', barcode: '4006381333931' });
    expect(sku.status).toBe(201);
    expect(skuResponse.parse(sku.body)).toMatchObject({ unit_cost: '0.10', price: '19.99', currency: 'EUR', version: 1 });
  });

  test('a SKU of an unknown product is 404 and nothing is stored', async () => {
    const c = await t.client();
    const res = await c.post('/api/skus', { sku_id: 'orphan', product_id: 'ghost', name: 'S' });
    expect(res.status).toBe(404);
    expect(res.body.error.details).toEqual({ product_id: 'ghost' });
    expect((await c.get('/api/skus/orphan')).status).toBe(404);
  });

  test('money without a currency is a 400 naming the currency field', async () => {
    const c = await t.client();
    const res = await c.post('/api/skus', { product_id: 'p1', name: 'S', price: 5 });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toContainEqual(expect.objectContaining({ in: 'body', path: 'currency' }));
  });

  test('PATCH changes only the given fields, bumps the version and null clears a field', async () => {
    const c = await t.client();
    await c.post('/api/products', { product_id: 'p1', name: 'P' });
    await c.post('/api/skus', { sku_id: 's1', product_id: 'p1', name: 'Old', barcode: 'ABC', price: '5', currency: 'USD' });
    const patched = await c.patch('/api/skus/s1', { name: 'New', barcode: null, price: '6.5' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'New', price: '6.50', currency: 'USD', version: 2, product_id: 'p1' });
    expect(patched.body.barcode).toBeUndefined();
    expect((await c.get('/api/skus/s1')).body).toEqual(patched.body);
  });

  test('PATCH of an unknown SKU is 404; an empty PATCH or product_id change is 400', async () => {
    const c = await t.client();
    expect((await c.patch('/api/skus/ghost', { name: 'x' })).status).toBe(404);
    await c.post('/api/products', { product_id: 'p1', name: 'P' });
    await c.post('/api/skus', { sku_id: 's1', product_id: 'p1', name: 'S' });
    expect((await c.patch('/api/skus/s1', {})).status).toBe(400);
    const moved = await c.patch('/api/skus/s1', { product_id: 'p2' });
    expect(moved.status).toBe(400);
    expect(moved.body.error.details.fields[0].message).toMatch(/unknown field/);
  });

  test('listing SKUs pages with an opaque cursor and filters by product', async () => {
    const c = await t.client();
    await c.post('/api/products', { product_id: 'a', name: 'A' });
    await c.post('/api/products', { product_id: 'b', name: 'B' });
    for (let i = 0; i < 5; i++) await c.post('/api/skus', { sku_id: `a-${i}`, product_id: 'a', name: `A${i}` });
    for (let i = 0; i < 2; i++) await c.post('/api/skus', { sku_id: `b-${i}`, product_id: 'b', name: `B${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { skus: { sku_id: string }[]; next_cursor: string | null } } = await c.get(
        `/api/skus?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      skuListResponse.parse(page.body);
      seen.push(...page.body.skus.map((s) => s.sku_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'b-0', 'b-1']);
    const ofB = await c.get('/api/skus?product_id=b');
    expect(ofB.body.skus.map((s: { sku_id: string }) => s.sku_id)).toEqual(['b-0', 'b-1']);
  });
});

describe('warehouses', () => {
  test('a warehouse defaults to active with priority 100, and PATCH can deactivate it', async () => {
    const c = await t.client();
    const created = await c.post('/api/warehouses', {
      warehouse_id: 'nyc',
      name: 'NYC',
      latitude: 40.7,
      longitude: -74,
      address: { line1: '1 Main St', city: 'New York', country: 'US' },
    });
    expect(created.status).toBe(201);
    expect(warehouseResponse.parse(created.body)).toMatchObject({ active: true, priority: 100, version: 1 });
    const patched = await c.patch('/api/warehouses/nyc', { active: false, priority: 5 });
    expect(patched.body).toMatchObject({ active: false, priority: 5, version: 2, name: 'NYC' });
    const list = await c.get('/api/warehouses');
    expect(warehouseListResponse.parse(list.body).warehouses).toEqual([patched.body]);
  });

  test('coordinates out of range are a 400 listing each failing field', async () => {
    const c = await t.client();
    const res = await c.post('/api/warehouses', { name: 'X', latitude: 91, longitude: -181 });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields.map((f: { path: string }) => f.path).sort()).toEqual(['latitude', 'longitude']);
  });
});
