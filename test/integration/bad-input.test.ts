import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';

/**
 * Bad input gets a clear 4xx in the one error shape and writes nothing. Each
 * case below runs against a tenant with stock, then proves the level and the
 * ledger are exactly as they were.
 */
let t: TestApi;
let c: Client;
beforeAll(async () => {
  t = await startTestApi();
  c = await t.client();
  await setupCatalog(c);
  await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 10 });
});
afterAll(() => t.close());

const valid = { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 1 };

const snapshot = async () => ({
  inventory: (await c.get('/api/inventory/sku/sku-1')).body,
  movements: (await c.get('/api/inventory/sku/sku-1/movements')).body.movements.length,
});

const bodyCases: [string, unknown, string[]][] = [
  ['quantity as a string', { ...valid, quantity: '1' }, ['quantity']],
  ['a negative sale', { ...valid, quantity: -1 }, ['quantity']],
  ['a zero sale', { ...valid, quantity: 0 }, ['quantity']],
  ['a fractional quantity', { ...valid, quantity: 1.5 }, ['quantity']],
  ['an absurdly large quantity', { ...valid, quantity: 1e12 }, ['quantity']],
  ['a null quantity', { ...valid, quantity: null }, ['quantity']],
  ['a zero adjustment', { ...valid, transaction_type: 'adjustment', quantity: 0, reason: 'lost' }, ['quantity']],
  ['an adjustment with an unknown reason', { ...valid, transaction_type: 'adjustment', quantity: -1, reason: 'gremlins' }, ['reason']],
  ['a negative count', { ...valid, transaction_type: 'count', quantity: -1 }, ['quantity']],
  ['an unknown transaction type', { ...valid, transaction_type: 'steal' }, ['transaction_type']],
  ['an unknown field', { ...valid, discount: 5 }, ['']],
  ['a sku id with a key separator', { ...valid, sku_id: 'sku-1#x' }, ['sku_id']],
  ['another tenant prefix smuggled in an id', { ...valid, warehouse_id: 'T#other#WAREHOUSE' }, ['warehouse_id']],
  ['a numeric id', { ...valid, sku_id: 42 }, ['sku_id']],
  ['a negative expected_version', { ...valid, expected_version: -1 }, ['expected_version']],
  ['a missing body field', { sku_id: 'sku-1', transaction_type: 'sale', quantity: 1 }, ['warehouse_id']],
  ['an array instead of an object', [valid], ['']],
  ['null', null, ['']],
];

test.each(bodyCases)('%s is a 400 naming the failing fields and writes nothing', async (_name, body, paths) => {
  const before = await snapshot();
  const res = await c.raw('/api/inventory/update', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
  expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(paths));
  expect(await snapshot()).toEqual(before);
});

test('a quantity beyond double precision (1e400 parses to Infinity) is a 400 and writes nothing', async () => {
  const before = await snapshot();
  const body = '{"sku_id":"sku-1","warehouse_id":"wh-1","transaction_type":"restock","quantity":1e400}';
  const res = await c.raw('/api/inventory/update', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(res.status).toBe(400);
  expect(res.body.error.details.fields[0].path).toBe('quantity');
  expect(await snapshot()).toEqual(before);
});

test('malformed JSON is a 400 MALFORMED_JSON and writes nothing', async () => {
  const before = await snapshot();
  const res = await c.raw('/api/inventory/update', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku_id": "sku-1",' });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('MALFORMED_JSON');
  expect(await snapshot()).toEqual(before);
});

test('a missing body is a 400', async () => {
  const res = await c.raw('/api/inventory/update', { method: 'POST' });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
});

test('a non-JSON content type is a 415 and writes nothing', async () => {
  const before = await snapshot();
  const res = await c.raw('/api/inventory/update', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(valid) });
  expect(res.status).toBe(415);
  expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  expect(await snapshot()).toEqual(before);
});

test('a body over 1 MiB is a 413 and writes nothing', async () => {
  const before = await snapshot();
  const res = await c.raw('/api/inventory/update', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...valid, note: 'x'.repeat(1024 * 1024) }),
  });
  expect(res.status).toBe(413);
  expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  expect(await snapshot()).toEqual(before);
});

test('a path id outside the safe set is a 400 on the path, not a 404 or 500', async () => {
  const res = await c.get(`/api/inventory/sku/${encodeURIComponent('a#b')}`);
  expect(res.status).toBe(400);
  expect(res.body.error.details.fields).toEqual([expect.objectContaining({ in: 'path', path: 'sku_id' })]);
});

test('an unknown query parameter and a bad limit are 400', async () => {
  const res = await c.get('/api/inventory/sku/sku-1/movements?limit=0&colour=red');
  expect(res.status).toBe(400);
  expect(res.body.error.details.fields.map((f: { in: string }) => f.in)).toEqual(['query', 'query']);
});

test('a time range that ends before it starts is 400', async () => {
  const res = await c.get('/api/inventory/sku/sku-1/movements?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z');
  expect(res.status).toBe(400);
  expect(res.body.error.details.fields[0].path).toBe('to');
});

test('an invalid Idempotency-Key is 400 and writes nothing', async () => {
  const before = await snapshot();
  const res = await c.post('/api/inventory/update', valid, { 'idempotency-key': 'has spaces & #' });
  expect(res.status).toBe(400);
  expect(res.body.error.details.fields[0]).toMatchObject({ in: 'header', path: 'Idempotency-Key' });
  expect(await snapshot()).toEqual(before);
});

test('an unknown route is a 404 in the same error shape', async () => {
  const res = await c.get('/api/nothing-here');
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe('ROUTE_NOT_FOUND');
});

describe('coordinates too small for DynamoDB (it cannot store a magnitude below 1e-130)', () => {
  test('a warehouse at longitude 5e-324 is stored at 0 (coordinates are kept to 1e-9 degrees), not a 500', async () => {
    const created = await c.post('/api/warehouses', { warehouse_id: 'wh-tiny', name: 'Tiny', latitude: 1e-200, longitude: 5e-324 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ latitude: 0, longitude: 0 });
    const patched = await c.patch('/api/warehouses/wh-tiny', { latitude: 40.1234567891234, longitude: -3.35e-239 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ latitude: 40.123456789, longitude: 0 });
  });

  test('an order shipped to latitude -3.35e-239 is planned as at 0, not a 500', async () => {
    const res = await c.post('/api/orders/allocate', {
      order_id: 'tiny-ship-to',
      lines: [{ sku_id: 'sku-1', quantity: 1 }],
      ship_to: { latitude: -3.3508209141750127e-239, longitude: -74 },
    });
    expect(res.status).toBe(201);
    expect(res.body.ship_to).toEqual({ latitude: 0, longitude: -74 });
    await c.post('/api/orders/tiny-ship-to/cancel');
  });
});
