import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';

/**
 * Inputs that used to reach DynamoDB or the marshaller and answer 500: cursors
 * that fit no query (or another query), ledger time bounds no ULID can carry,
 * reserved names in free-form records; and money returned with its currency's
 * minor-unit digits. All through the real handlers against DynamoDB Local.
 */
let t: TestApi;
let c: Client;

/** sku-1 has five movements: three in wh-1, then two in wh-2. */
beforeAll(async () => {
  t = await startTestApi();
  c = await t.client();
  await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
  for (const id of ['sku-2', 'sku-3']) ok(await c.post('/api/skus', { sku_id: id, product_id: 'prod-1', name: id }), 201);
  ok(await c.post('/api/products', { product_id: 'prod-2', name: 'Gadget' }), 201);
  ok(await c.post('/api/skus', { sku_id: 'sku-9', product_id: 'prod-2', name: 'Gadget' }), 201);
  for (const warehouse of ['wh-1', 'wh-1', 'wh-1', 'wh-2', 'wh-2']) {
    ok(await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: warehouse, transaction_type: 'restock', quantity: 1 }));
  }
});
afterAll(() => t.close());

type Envelope = { k: Record<string, unknown>; q: string };
const opened = (cursor: string): Envelope => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const sealed = (payload: unknown): string => Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');

/** The next_cursor of the first page of `path`. */
const firstCursor = async (path: string): Promise<string> => {
  const cursor = ok(await c.get(path)).next_cursor;
  if (typeof cursor !== 'string') throw new Error(`${path} returned no cursor`);
  return cursor;
};

const expectCursorRefused = (res: { status: number; body: any }): void => {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
  expect(res.body.error.details.fields).toEqual([expect.objectContaining({ in: 'query', path: 'cursor' })]);
};

describe('a cursor whose key does not fit the list it is given to', () => {
  const skuList = '/api/skus?limit=1';
  const skusOfProduct = '/api/skus?product_id=prod-1&limit=1';
  const cases: [string, string, (key: Record<string, unknown>, tenant: string) => Record<string, unknown>][] = [
    ['an empty sort key', skuList, (k) => ({ ...k, sk: '' })],
    ['only the partition key', skuList, (k) => ({ pk: k.pk })],
    ['an extra attribute', skuList, (k) => ({ ...k, colour: 'red' })],
    ['a numeric sort key', skuList, (k) => ({ ...k, sk: 7 })],
    ['a DynamoDB-typed value', skuList, (k) => ({ ...k, sk: { S: 'sku-2' } })],
    ['a partition of the same tenant but another list', skuList, (_k, tenant) => ({ pk: `T#${tenant}#WAREHOUSE`, sk: 'wh-1' })],
    ['the tenant prefix with more after it', skuList, (k) => ({ ...k, pk: `${String(k.pk)}#X` })],
    ['an index cursor without pk', skusOfProduct, ({ pk: _pk, ...rest }) => rest],
    ['an index cursor without gsi1pk', skusOfProduct, ({ gsi1pk: _gsi1pk, ...rest }) => rest],
    ['an index cursor for another product', skusOfProduct, (k, tenant) => ({ ...k, gsi1pk: `T#${tenant}#PRODUCT#prod-2#SKUS` })],
    ['an index cursor positioned by another tenant\'s item', skusOfProduct, (k) => ({ ...k, pk: 'T#someone-else#SKU' })],
    ['a ledger key outside the time range read', '/api/inventory/sku/sku-1/movements?limit=2', (k) => ({ ...k, sk: 'zzzz' })],
  ];

  test.each(cases)('%s is a 400 on query.cursor, not a DynamoDB error', async (_name, path, tamper) => {
    const real = opened(await firstCursor(path));
    const forged = sealed({ k: tamper(real.k, c.tenantId), q: real.q });
    expectCursorRefused(await c.get(`${path}&cursor=${forged}`));
  });

  test.each([
    ['an empty sort key', (tenant: string) => ({ pk: `T#${tenant}#SKU`, sk: '' })],
    ['only the partition key', (tenant: string) => ({ pk: `T#${tenant}#SKU` })],
  ])('a bare key with %s (the shape the issue sent) is a 400 on query.cursor', async (_name, key) => {
    expectCursorRefused(await c.get(`/api/skus?cursor=${sealed(key(c.tenantId))}`));
  });

  test('the untampered cursor still reads the next page', async () => {
    const cursor = await firstCursor(skusOfProduct);
    const next = ok(await c.get(`${skusOfProduct}&cursor=${cursor}`));
    expect(next.skus).toHaveLength(1);
  });
});

describe('a cursor is bound to the query that returned it', () => {
  const movements = '/api/inventory/sku/sku-1/movements';

  test.each([
    ['an earlier `to` (the issue\'s case)', '&to=2000-01-01T00:00:00Z'],
    ['a `from`', '&from=2000-01-01T00:00:00Z'],
    ['a warehouse filter (another index)', '&warehouse_id=wh-1'],
  ])('reused with %s it is a 400 naming query.cursor', async (_name, filter) => {
    const cursor = await firstCursor(`${movements}?limit=2`);
    const res = await c.get(`${movements}?limit=2${filter}&cursor=${cursor}`);
    expectCursorRefused(res);
    expect(res.body.error.message).toMatch(/another query/);
  });

  test('a cursor of one list given to another list of the tenant is a 400', async () => {
    const cursor = await firstCursor('/api/skus?limit=1');
    expectCursorRefused(await c.get(`/api/warehouses?cursor=${cursor}`));
    expectCursorRefused(await c.get(`/api/skus?product_id=prod-1&cursor=${cursor}`));
  });

  test('a cursor of one SKU\'s ledger given to another SKU\'s is a 400', async () => {
    const cursor = await firstCursor(`${movements}?limit=2`);
    expectCursorRefused(await c.get(`/api/inventory/sku/sku-2/movements?limit=2&cursor=${cursor}`));
  });

  test('a purchase order cursor read with one supplier filter is a 400 with another, and works with its own', async () => {
    for (const supplier of ['sup-a', 'sup-b']) {
      ok(await c.post('/api/suppliers', { supplier_id: supplier, name: supplier, lead_time_days: 1, currency: 'EUR' }), 201);
      for (const n of [1, 2]) {
        ok(await c.post('/api/purchase-orders', { purchase_order_id: `po-${supplier}-${n}`, supplier_id: supplier, warehouse_id: 'wh-1', lines: [{ sku_id: 'sku-3', quantity: 1, unit_cost: '1' }] }), 201);
      }
    }
    const cursor = await firstCursor('/api/purchase-orders?supplier_id=sup-a&limit=1');
    expectCursorRefused(await c.get(`/api/purchase-orders?supplier_id=sup-b&limit=1&cursor=${cursor}`));
    expectCursorRefused(await c.get(`/api/purchase-orders?limit=1&cursor=${cursor}`));
    const next = ok(await c.get(`/api/purchase-orders?supplier_id=sup-a&limit=1&cursor=${cursor}`));
    expect(next.purchase_orders.map((po: { supplier_id: string }) => po.supplier_id)).toEqual(['sup-a']);
  });

  test('the page size may change between pages: limit is not part of the query a cursor is bound to', async () => {
    const all = ok(await c.get(movements)).movements.map((m: { movement_id: string }) => m.movement_id);
    const cursor = await firstCursor(`${movements}?limit=2`);
    const rest = ok(await c.get(`${movements}?limit=3&cursor=${cursor}`));
    expect(rest.movements.map((m: { movement_id: string }) => m.movement_id)).toEqual(all.slice(2, 5));
  });

  test.each([
    ['the ledger of a SKU (table)', `${movements}?limit=2`, 5],
    ['the ledger of a SKU in one warehouse (index) within a time range', `${movements}?limit=2&warehouse_id=wh-1&from=2000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z`, 3],
    ['the SKUs of a product (index)', '/api/skus?product_id=prod-1&limit=1', 3],
  ])('following every next_cursor of %s reads each item exactly once', async (_name, path, expected) => {
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page: any = ok(await c.get(cursor ? `${path}&cursor=${cursor}` : path));
      seen.push(...(page.movements ?? page.skus).map((item: { movement_id?: string; sku_id: string }) => item.movement_id ?? item.sku_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(expected);
    expect(new Set(seen).size).toBe(expected);
  });
});

describe('ledger time bounds a ULID cannot carry', () => {
  const movements = '/api/inventory/sku/sku-1/movements';

  test.each([
    ['from', '1969-12-31T23:59:59Z'],
    ['from', '0000-01-01T00:00:00Z'],
    ['from', '1970-01-01T00:30:00+01:00'],
    ['to', '1969-12-31T23:59:59Z'],
    ['to', '0000-01-01T00:00:00Z'],
  ])('%s=%s is a 400 naming the field', async (field, time) => {
    const res = await c.get(`${movements}?${field}=${encodeURIComponent(time)}`);
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toEqual([expect.objectContaining({ in: 'query', path: field, message: expect.stringContaining('1970-01-01T00:00:00Z') })]);
  });

  test('the first and the last instants of the four-digit years are accepted and bound the whole ledger', async () => {
    const res = ok(await c.get(`${movements}?from=1970-01-01T00:00:00Z&to=${encodeURIComponent('9999-12-31T23:59:59-23:59')}`));
    expect(res.movements).toHaveLength(5);
  });
});

describe('reserved names in free-form records', () => {
  const productBody = (attributes: string) => `{"name":"Thing","attributes":${attributes}}`;
  const postRaw = (path: string, body: string) => c.raw(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  test.each(['__proto__', 'constructor', 'prototype'])('"%s" as a product attribute is a 400 naming it, and nothing is created', async (name) => {
    const res = await postRaw('/api/products', `{"product_id":"p-${name.replace(/_/g, 'u')}","name":"Thing","attributes":{"${name}":"x","colour":"red"}}`);
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toEqual([expect.objectContaining({ in: 'body', path: `attributes.${name}` })]);
    expect((await c.get(`/api/products/p-${name.replace(/_/g, 'u')}`)).status).toBe(404);
  });

  test('"constructor" as a SKU attribute is a 400, not a marshalling error', async () => {
    const res = await postRaw('/api/skus', '{"sku_id":"sku-c","product_id":"prod-1","name":"S","attributes":{"constructor":"y"}}');
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].path).toBe('attributes.constructor');
    expect((await c.get('/api/skus/sku-c')).status).toBe(404);
  });

  test('a PATCH whose only attribute is "__proto__" is a 400 and leaves the SKU and its version as they were', async () => {
    const before = ok(await c.get('/api/skus/sku-2'));
    const res = await c.raw('/api/skus/sku-2', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"attributes":{"__proto__":"x"}}' });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].path).toBe('attributes.__proto__');
    expect(ok(await c.get('/api/skus/sku-2'))).toEqual(before);
  });

  test('"__proto__" as a top-level field is an unknown field (400), not dropped', async () => {
    const res = await postRaw('/api/products', '{"name":"Thing","__proto__":{"admin":true}}');
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].message).toContain('__proto__');
  });

  test('other names every object has (toString, valueOf, hasOwnProperty) are stored and returned faithfully', async () => {
    const attributes = { toString: 'a', valueOf: 'b', hasOwnProperty: 'c', colour: 'red' };
    const created = ok(await postRaw('/api/products', `{"product_id":"p-names",${productBody(JSON.stringify(attributes)).slice(1)}`), 201);
    expect(created.attributes).toEqual(attributes);
    expect(ok(await c.get('/api/products/p-names')).attributes).toEqual(attributes);
    const patched = ok(await c.patch('/api/skus/sku-3', { attributes }));
    expect(ok(await c.get('/api/skus/sku-3')).attributes).toEqual(attributes);
    expect(patched.attributes).toEqual(attributes);
  });
});

describe('money is returned with its currency\'s minor-unit digits', () => {
  const sku = (id: string, extra: Record<string, unknown>) => c.post('/api/skus', { sku_id: id, product_id: 'prod-1', name: id, ...extra });

  test.each([
    ['4.20 USD', { unit_cost: '4.20', price: 4.2, currency: 'USD' }, { unit_cost: '4.20', price: '4.20' }],
    ['whole USD', { unit_cost: 4, price: '0', currency: 'USD' }, { unit_cost: '4.00', price: '0.00' }],
    ['four decimals kept', { unit_cost: '4.1234', price: '4.2000', currency: 'EUR' }, { unit_cost: '4.1234', price: '4.20' }],
    ['JPY without decimals', { unit_cost: '400', price: 1000, currency: 'JPY' }, { unit_cost: '400', price: '1000' }],
    ['JPY with given decimals', { unit_cost: '400.50', currency: 'JPY' }, { unit_cost: '400.5' }],
    ['BHD (three digits)', { price: '1.5', currency: 'BHD' }, { price: '1.500' }],
  ])('a SKU priced in %s comes back as created, read and listed in that form', async (_name, input, expected) => {
    const id = `money-${_name.replace(/[^a-z0-9]/gi, '')}`;
    expect(ok(await sku(id, input), 201)).toMatchObject(expected);
    expect(ok(await c.get(`/api/skus/${id}`))).toMatchObject(expected);
  });

  test('changing only the currency rewrites the amounts in its minor unit, and a new amount follows the current currency', async () => {
    ok(await sku('money-switch', { unit_cost: '4.20', price: '10', currency: 'USD' }), 201);
    expect(ok(await c.patch('/api/skus/money-switch', { currency: 'JPY' }))).toMatchObject({ unit_cost: '4.2', price: '10', currency: 'JPY' });
    expect(ok(await c.patch('/api/skus/money-switch', { currency: 'EUR', price: '5.5' }))).toMatchObject({ unit_cost: '4.20', price: '5.50' });
    expect(ok(await c.patch('/api/skus/money-switch', { unit_cost: 3 }))).toMatchObject({ unit_cost: '3.00', currency: 'EUR' });
  });

  test.each(['XYZ', 'usd', 'US', 'XXX'])('currency %p is a 400 naming currency, and nothing is created', async (currency) => {
    const res = await sku(`money-bad-${currency}`, { price: '1', currency });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toEqual([expect.objectContaining({ path: 'currency' })]);
    expect((await c.get(`/api/skus/money-bad-${currency}`)).status).toBe(404);
  });

  test('purchase order lines, and the receipt rows they write, carry the order currency\'s digits', async () => {
    ok(await c.post('/api/suppliers', { supplier_id: 'sup-usd', name: 'Dollar Ltd', lead_time_days: 3, currency: 'USD' }), 201);
    const po = ok(await c.post('/api/purchase-orders', { purchase_order_id: 'po-usd', supplier_id: 'sup-usd', warehouse_id: 'wh-1', lines: [{ sku_id: 'sku-2', quantity: 2, unit_cost: '3.5' }] }), 201);
    expect(po).toMatchObject({ currency: 'USD', lines: [expect.objectContaining({ unit_cost: '3.50' })] });
    const yen = ok(await c.post('/api/purchase-orders', { purchase_order_id: 'po-jpy', supplier_id: 'sup-usd', warehouse_id: 'wh-1', currency: 'JPY', lines: [{ sku_id: 'sku-2', quantity: 1, unit_cost: '300.00' }] }), 201);
    expect(yen.lines[0].unit_cost).toBe('300');
    ok(await c.post('/api/purchase-orders/po-usd/submit'));
    ok(await c.post('/api/purchase-orders/po-usd/receive', { lines: [{ sku_id: 'sku-2', quantity: 2 }] }));
    const receipt = ok(await c.get('/api/inventory/sku/sku-2/movements')).movements.find((m: { type: string }) => m.type === 'receipt');
    expect(receipt).toMatchObject({ unit_cost: '3.50', currency: 'USD' });
    expect(ok(await c.get('/api/purchase-orders/po-usd')).lines[0].unit_cost).toBe('3.50');
  });

  test('a supplier with an unknown currency is a 400', async () => {
    const res = await c.post('/api/suppliers', { supplier_id: 'sup-bad', name: 'Nowhere', lead_time_days: 3, currency: 'ABC' });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].path).toBe('currency');
    expect((await c.get('/api/suppliers/sup-bad')).status).toBe(404);
  });
});
