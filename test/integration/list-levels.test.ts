import { levelListResponse } from '../../functions/inventory/schemas';
import { ok, startTestApi, type Client, type Response, type TestApi } from '../support/api';

/**
 * GET /api/inventory/levels end to end on DynamoDB Local: the admin grid's SKU x warehouse levels, a
 * page of SKUs at a time. One hand-built tenant (every change through the API) and another tenant
 * with the same ids; each row is checked against what GET /api/inventory/sku/{sku_id} says of it.
 */

let t: TestApi;
let a: Client;
let b: Client;

type Row = { sku_id: string; warehouse_id: string; sku_name: string; available: number; reorder_point: number };
type Page = { levels: Row[]; next_cursor: string | null };

/**
 * Tenant A: eight SKUs (sku_id order: ABC-1 first, upper case sorting below lower), three warehouses.
 * - ABC-1 "Thing": 4 @ wh-a
 * - sku-01 "Blue Widget": 10 @ wh-a, 5 @ wh-b
 * - sku-02 "Red Widget": 6 @ wh-a; 8 @ wh-c under a reorder point of 10 (below it)
 * - sku-03 "Gadget": never stocked, so no rows
 * - sku-04 "Blue Gizmo": 1 @ wh-b
 * - sku-05 "Sprocket": 20 @ wh-c over a reorder point of 5
 * - sku-06 "widget XL": 2 @ wh-a, wh-b and wh-c
 * - sku-07 "Gear": 3 in and 3 sold @ wh-a (a stock-out) under a reorder point of 2 (so below it too); 5 @ wh-b
 */
const SKUS: [string, string][] = [
  ['ABC-1', 'Thing'],
  ['sku-01', 'Blue Widget'],
  ['sku-02', 'Red Widget'],
  ['sku-03', 'Gadget'],
  ['sku-04', 'Blue Gizmo'],
  ['sku-05', 'Sprocket'],
  ['sku-06', 'widget XL'],
  ['sku-07', 'Gear'],
];
const WAREHOUSES = ['wh-a', 'wh-b', 'wh-c'];

const restock = async (c: Client, sku_id: string, warehouse_id: string, quantity: number) =>
  ok(await c.post('/api/inventory/update', { sku_id, warehouse_id, transaction_type: 'restock', quantity }));
const thresholds = async (c: Client, sku_id: string, warehouse_id: string, reorder_point: number) =>
  ok(await c.put('/api/thresholds', { sku_id, warehouse_id, reorder_point, safety_stock: 0 }));

const catalogue = async (c: Client, skus: [string, string][], warehouses: string[]) => {
  ok(await c.post('/api/products', { product_id: 'prod-1', name: 'Things' }), 201);
  for (const [sku_id, name] of skus) ok(await c.post('/api/skus', { sku_id, product_id: 'prod-1', name }), 201);
  for (const [i, warehouse_id] of warehouses.entries()) ok(await c.post('/api/warehouses', { warehouse_id, name: `Warehouse ${warehouse_id}`, latitude: 40 + i, longitude: -74 - i }), 201);
};

beforeAll(async () => {
  t = await startTestApi();
  a = await t.client();
  await catalogue(a, SKUS, WAREHOUSES);
  await restock(a, 'ABC-1', 'wh-a', 4);
  await restock(a, 'sku-01', 'wh-a', 10);
  await restock(a, 'sku-01', 'wh-b', 5);
  await restock(a, 'sku-02', 'wh-a', 6);
  await restock(a, 'sku-02', 'wh-c', 8);
  await thresholds(a, 'sku-02', 'wh-c', 10);
  await restock(a, 'sku-04', 'wh-b', 1);
  await restock(a, 'sku-05', 'wh-c', 20);
  await thresholds(a, 'sku-05', 'wh-c', 5);
  for (const w of WAREHOUSES) await restock(a, 'sku-06', w, 2);
  await restock(a, 'sku-07', 'wh-a', 3);
  ok(await a.post('/api/inventory/update', { sku_id: 'sku-07', warehouse_id: 'wh-a', transaction_type: 'sale', quantity: 3 }));
  await thresholds(a, 'sku-07', 'wh-a', 2);
  await restock(a, 'sku-07', 'wh-b', 5);
  // Tenant B: the same ids, its own names and stock.
  b = await t.client();
  await catalogue(b, [['sku-01', 'Other tenant widget'], ['sku-99', 'Other tenant only']], ['wh-a', 'wh-z']);
  await restock(b, 'sku-01', 'wh-a', 77);
  await restock(b, 'sku-99', 'wh-z', 1);
}, 120_000);
afterAll(() => t.close());

const list = (c: Client, query = ''): Promise<Response> => c.get(`/api/inventory/levels${query ? `?${query}` : ''}`);

/** Every page of a query, following next_cursor from the first page until it is null. */
const allPages = async (c: Client, query = ''): Promise<Page[]> => {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams(query);
    if (cursor !== null) params.set('cursor', cursor);
    const page: Page = ok(await list(c, params.toString()));
    levelListResponse.parse(page);
    pages.push(page);
    cursor = page.next_cursor;
    if (pages.length > 50) throw new Error('more than 50 pages: the cursor does not advance');
  } while (cursor !== null);
  return pages;
};
const rowsOf = (pages: Page[]): Row[] => pages.flatMap((p) => p.levels);
const ids = (rows: Row[]): string[] => rows.map((r) => `${r.sku_id}@${r.warehouse_id}`);

/** What GET /api/inventory/sku/{sku_id} says of every SKU's levels (as `c` sees them), with the SKU's name: the rows the list must hold. */
const expectedRows = async (c: Client, skus: [string, string][] = SKUS): Promise<Row[]> => {
  const rows: Row[] = [];
  for (const [skuId, name] of skus) {
    const levels: Row[] = ok(await c.get(`/api/inventory/sku/${skuId}`)).levels;
    rows.push(...[...levels].sort((x, y) => (x.warehouse_id < y.warehouse_id ? -1 : 1)).map((l) => ({ ...l, sku_name: name })));
  }
  return rows;
};

const expectRefused = (res: Response, status: number, code: string, path?: string): void => {
  expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(typeof res.body.error.message).toBe('string');
  expect(typeof res.body.error.details).toBe('object');
  if (path !== undefined) expect(res.body.error.details.fields).toEqual([expect.objectContaining({ in: 'query', path })]);
};

describe('paging', () => {
  test("one page of 200 SKUs holds every level of the tenant, each as the SKU's inventory shows it plus its name, sorted by sku_id then warehouse_id", async () => {
    const page: Page = ok(await list(a, 'limit=200'));
    expect(page.next_cursor).toBeNull();
    const expected = await expectedRows(a);
    expect(page.levels).toEqual(expected);
    expect(ids(page.levels)).toEqual([
      'ABC-1@wh-a',
      'sku-01@wh-a', 'sku-01@wh-b',
      'sku-02@wh-a', 'sku-02@wh-c',
      'sku-04@wh-b',
      'sku-05@wh-c',
      'sku-06@wh-a', 'sku-06@wh-b', 'sku-06@wh-c',
      'sku-07@wh-a', 'sku-07@wh-b',
    ]);
    expect(page.levels.find((r) => r.sku_id === 'sku-02' && r.warehouse_id === 'wh-c')).toMatchObject({ sku_name: 'Red Widget', on_hand: 8, available: 8, reorder_point: 10 });
  });

  test.each([1, 2, 3, 50])('with limit=%i, following next_cursor returns every level exactly once, in order, a SKU never split across pages', async (limit) => {
    const pages = await allPages(a, `limit=${limit}`);
    const rows = rowsOf(pages);
    expect(rows).toEqual(await expectedRows(a));
    for (const page of pages) expect(new Set(page.levels.map((r) => r.sku_id)).size).toBeLessThanOrEqual(limit);
    // 7 SKUs have levels: a page of `limit` SKUs each, then perhaps an empty last one.
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(7 / limit));
    const skusOnPages = pages.map((p) => [...new Set(p.levels.map((r) => r.sku_id))]).flat();
    expect(skusOnPages).toEqual([...new Set(skusOnPages)]);
  });

  test('the default page is 50 SKUs: the whole tenant here', async () => {
    const page = ok(await list(a));
    expect(page.levels).toEqual(await expectedRows(a));
  });

  test('the page size may change between pages: limit is not part of the query a cursor is bound to', async () => {
    const first = ok(await list(a, 'limit=2'));
    expect(ids(first.levels)).toEqual(['ABC-1@wh-a', 'sku-01@wh-a', 'sku-01@wh-b']);
    const rest = rowsOf(await allPages(a, `limit=200&cursor=${first.next_cursor}`));
    expect([...first.levels, ...rest]).toEqual(await expectedRows(a));
  });
});

describe('filters', () => {
  test("warehouse_id keeps that warehouse's levels only", async () => {
    expect(ids(rowsOf(await allPages(a, 'warehouse_id=wh-b&limit=1')))).toEqual(['sku-01@wh-b', 'sku-04@wh-b', 'sku-06@wh-b', 'sku-07@wh-b']);
    expect(ids(rowsOf(await allPages(a, 'warehouse_id=wh-c')))).toEqual(['sku-02@wh-c', 'sku-05@wh-c', 'sku-06@wh-c']);
  });

  test('status=stock_out keeps levels with nothing available; status=all is no filter', async () => {
    const outs = rowsOf(await allPages(a, 'status=stock_out'));
    expect(ids(outs)).toEqual(['sku-07@wh-a']);
    expect(outs[0]).toMatchObject({ available: 0, sku_name: 'Gear' });
    expect(rowsOf(await allPages(a, 'status=all'))).toEqual(await expectedRows(a));
  });

  test('status=below_reorder_point keeps levels under a reorder point above 0, a stock-out with one included', async () => {
    const below = rowsOf(await allPages(a, 'status=below_reorder_point'));
    expect(ids(below)).toEqual(['sku-02@wh-c', 'sku-07@wh-a']);
    for (const row of below) expect(row.available).toBeLessThan(row.reorder_point);
  });

  test('a filtered page can come back short, even empty, with a cursor to the rest: followed to the end it holds every match once', async () => {
    // limit=1: one page reads at most 5 SKUs; the only stock-out is the eighth SKU.
    const pages = await allPages(a, 'status=stock_out&limit=1');
    expect(pages[0]).toEqual({ levels: [], next_cursor: expect.any(String) });
    expect(ids(rowsOf(pages))).toEqual(['sku-07@wh-a']);
  });

  test('q finds SKUs whose name contains it in any case', async () => {
    expect(ids(rowsOf(await allPages(a, 'q=blue')))).toEqual(['sku-01@wh-a', 'sku-01@wh-b', 'sku-04@wh-b']);
    // "Gadget" matches too, but it has no levels.
    expect([...new Set(rowsOf(await allPages(a, 'q=DGET&limit=1')).map((r) => r.sku_id))]).toEqual(['sku-01', 'sku-02', 'sku-06']);
  });

  test('q finds SKUs whose id starts with it (case-sensitive, as ids are), not ids that merely contain it', async () => {
    expect(ids(rowsOf(await allPages(a, 'q=ABC')))).toEqual(['ABC-1@wh-a']);
    expect(rowsOf(await allPages(a, 'q=abc'))).toEqual([]);
    expect([...new Set(rowsOf(await allPages(a, 'q=sku-0&limit=2')).map((r) => r.sku_id))]).toEqual(['sku-01', 'sku-02', 'sku-04', 'sku-05', 'sku-06', 'sku-07']);
    expect(rowsOf(await allPages(a, 'q=01'))).toEqual([]);
  });

  test('filters combine: q, warehouse_id and status together', async () => {
    expect(ids(rowsOf(await allPages(a, 'q=widget&warehouse_id=wh-a')))).toEqual(['sku-01@wh-a', 'sku-02@wh-a', 'sku-06@wh-a']);
    expect(ids(rowsOf(await allPages(a, 'q=gear&warehouse_id=wh-a&status=stock_out')))).toEqual(['sku-07@wh-a']);
    expect(rowsOf(await allPages(a, 'q=gear&warehouse_id=wh-b&status=stock_out'))).toEqual([]);
  });
});

describe('who sees what', () => {
  test('a viewer may read the list, and sees what the admin sees', async () => {
    const viewer = await t.client({ tenantId: a.tenantId, role: 'viewer' });
    expect(rowsOf(await allPages(viewer, 'limit=3'))).toEqual(await expectedRows(a));
  });

  test("a clerk scoped to some warehouses sees only their levels, paged; another warehouse_id is 403 naming it", async () => {
    const clerk = await t.client({ tenantId: a.tenantId, role: 'clerk', warehouseIds: ['wh-a', 'wh-c'] });
    const rows = rowsOf(await allPages(clerk, 'limit=1'));
    expect(rows).toEqual((await expectedRows(a)).filter((r) => r.warehouse_id !== 'wh-b'));
    expect(rows.some((r) => r.sku_id === 'sku-04')).toBe(false);
    expect(ids(rowsOf(await allPages(clerk, 'warehouse_id=wh-c')))).toEqual(['sku-02@wh-c', 'sku-05@wh-c', 'sku-06@wh-c']);
    const other = await list(clerk, 'warehouse_id=wh-b');
    expectRefused(other, 403, 'FORBIDDEN');
    expect(other.body.error.details).toEqual({ warehouse_ids: ['wh-b'] });
    expect(other.body.error.message).toContain("'wh-b'");
  });

  test("another tenant's levels never appear, though it uses the same ids; each tenant lists its own", async () => {
    const mine = rowsOf(await allPages(a, 'limit=1'));
    expect(mine.some((r) => r.sku_name.startsWith('Other tenant'))).toBe(false);
    expect(mine.find((r) => r.sku_id === 'sku-01' && r.warehouse_id === 'wh-a')?.available).toBe(10);
    const theirs = rowsOf(await allPages(b));
    expect(theirs.map((r) => [r.sku_id, r.warehouse_id, r.sku_name, r.available])).toEqual([
      ['sku-01', 'wh-a', 'Other tenant widget', 77],
      ['sku-99', 'wh-z', 'Other tenant only', 1],
    ]);
    // A's warehouse is unknown to B, and B's to A.
    expectRefused(await list(b, 'warehouse_id=wh-b'), 404, 'NOT_FOUND');
    expectRefused(await list(a, 'warehouse_id=wh-z'), 404, 'NOT_FOUND');
  });

  test("another tenant's cursor is a 400 on query.cursor, even for the same query", async () => {
    const cursor = ok(await list(a, 'limit=1')).next_cursor;
    expect(cursor).toEqual(expect.any(String));
    expectRefused(await list(b, `limit=1&cursor=${cursor}`), 400, 'VALIDATION_FAILED', 'cursor');
  });
});

describe('refused inputs, each a 4xx in the one error shape', () => {
  test.each(['0', '201', '1.5', 'abc', '', '-1'])('limit=%s is a 400 on query.limit', async (limit) => {
    expectRefused(await list(a, `limit=${limit}`), 400, 'VALIDATION_FAILED', 'limit');
  });

  test('limit=1 and limit=200 are the bounds, both accepted', async () => {
    expect((await list(a, 'limit=1')).status).toBe(200);
    expect((await list(a, 'limit=200')).status).toBe(200);
  });

  test('an unknown warehouse_id is a 404', async () => {
    const res = await list(a, 'warehouse_id=wh-nowhere');
    expectRefused(res, 404, 'NOT_FOUND');
    expect(res.body.error.message).toContain('wh-nowhere');
  });

  test.each([
    ['an unknown status', 'status=low', 'status'],
    ['an empty q', 'q=', 'q'],
    ['a q over 200 characters', `q=${'x'.repeat(201)}`, 'q'],
    ['a warehouse_id that is no id', 'warehouse_id=a%2Fb', 'warehouse_id'],
    ['an unknown parameter', 'colour=red', undefined],
  ])('%s is a 400', async (_name, query, path) => {
    const res = await list(a, query);
    expectRefused(res, 400, 'VALIDATION_FAILED');
    if (path !== undefined) expect(res.body.error.details.fields).toEqual([expect.objectContaining({ in: 'query', path })]);
  });

  test.each<[string, (cursor: string) => string]>([
    ['garbage', () => 'not-a-cursor'],
    ['one character changed', (cursor) => `${cursor.slice(0, 10)}${cursor[10] === 'A' ? 'B' : 'A'}${cursor.slice(11)}`],
    ['its inner SKU cursor alone', (cursor) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')).c],
    [
      'its inner SKU cursor pointed at another tenant',
      (cursor) => {
        const outer = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
        const inner = JSON.parse(Buffer.from(outer.c, 'base64url').toString('utf8'));
        inner.k.pk = inner.k.pk.replace(a.tenantId, b.tenantId);
        return Buffer.from(JSON.stringify({ ...outer, c: Buffer.from(JSON.stringify(inner)).toString('base64url') })).toString('base64url');
      },
    ],
  ])('a tampered cursor (%s) is a 400 on query.cursor', async (_name, tamper) => {
    const cursor = ok(await list(a, 'limit=1')).next_cursor as string;
    expectRefused(await list(a, `limit=1&cursor=${encodeURIComponent(tamper(cursor))}`), 400, 'VALIDATION_FAILED', 'cursor');
  });

  test("a cursor of another list (the SKU list's), or of this list with other filters or another warehouse scope, is a 400 on query.cursor", async () => {
    const skuCursor = ok(await a.get('/api/skus?limit=1')).next_cursor;
    expectRefused(await list(a, `cursor=${skuCursor}`), 400, 'VALIDATION_FAILED', 'cursor');
    const cursor = ok(await list(a, 'limit=1&q=sku')).next_cursor;
    expectRefused(await a.get(`/api/skus?cursor=${cursor}`), 400, 'VALIDATION_FAILED', 'cursor');
    for (const other of ['q=sk', 'status=stock_out&q=sku', 'warehouse_id=wh-a&q=sku', '']) {
      const res = await list(a, `limit=1&${other}&cursor=${cursor}`);
      expectRefused(res, 400, 'VALIDATION_FAILED', 'cursor');
      expect(res.body.error.details.fields[0].message).toBe('cursor of another query');
    }
    const clerk = await t.client({ tenantId: a.tenantId, role: 'clerk', warehouseIds: ['wh-a'] });
    expectRefused(await list(clerk, `limit=1&q=sku&cursor=${cursor}`), 400, 'VALIDATION_FAILED', 'cursor');
    // The same query goes on.
    expect((await list(a, `limit=1&q=sku&cursor=${cursor}`)).status).toBe(200);
  });
});
