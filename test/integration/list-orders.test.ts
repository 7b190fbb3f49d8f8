import { allocateOrder, expireHolds, listOrders } from '../../functions/orders/orders';
import { orderListResponse } from '../../functions/orders/schemas';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { contextFor, oneLineOrder, stockOneSku, testDb } from '../support/domain';

/**
 * GET /api/orders end to end on DynamoDB Local: the dashboard's "orders waiting" and the orders page.
 * Orders past their hold are listed from their status's index partition, oldest first, and move with
 * their status; held orders from the orders partition filtered; without a status, every order by id.
 */

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

type Listed = { order_id: string; status: string; created_at: string };
const shipTo = { latitude: 40, longitude: -75 };

const stocked = async (units = 100): Promise<Client> => {
  const c = await t.client();
  await setupCatalog(c, { warehouses: ['wh-1'] });
  ok(await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: units }));
  return c;
};
const allocate = async (c: Client, order_id: string, quantity = 1, extra: Record<string, unknown> = {}): Promise<Listed> =>
  ok(await c.post('/api/orders/allocate', { order_id, lines: [{ sku_id: 'sku-1', quantity }], ship_to: shipTo, ...extra }), 201);

/** Every page of a listing, following next_cursor; each page is checked against the response schema. */
const listAll = async (c: Client, query: string, limit = 200): Promise<Listed[]> => {
  const found: Listed[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const res = await c.get(`/api/orders?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const page = orderListResponse.parse(ok(res));
    found.push(...page.orders);
    cursor = page.next_cursor;
    if (cursor === null) return found;
  }
  throw new Error('more than 100 pages');
};
const idsOf = (orders: Listed[]): string[] => orders.map((o) => o.order_id);
/** Oldest first, ties by order_id: the index's sort key `created_at#order_id`. */
const oldestFirst = (orders: Listed[]): string[] =>
  idsOf([...orders].sort((x, y) => x.created_at.localeCompare(y.created_at) || x.order_id.localeCompare(y.order_id)));

test('each status lists exactly its orders, oldest first, and an order moves to its new status list when it changes', async () => {
  const c = await stocked();
  // Ids in reverse alphabetical order of creation: the status lists' order is the orders' age, not their ids.
  const made = [];
  for (const id of ['o-e', 'o-d', 'o-c', 'o-b', 'o-a']) made.push(await allocate(c, id, 2));
  const held = await allocate(c, 'o-hold', 1, { hold_seconds: 600 });
  expect(idsOf(await listAll(c, 'status=allocated'))).toEqual(oldestFirst(made));

  ok(await c.post('/api/orders/o-d/ship', { lines: [{ sku_id: 'sku-1', quantity: 1 }] }));
  ok(await c.post('/api/orders/o-c/ship', { lines: [{ sku_id: 'sku-1', quantity: 2 }] }));
  ok(await c.post('/api/orders/o-b/cancel'));
  ok(await c.post('/api/orders/o-hold/confirm'));

  const remaining = made.filter((o) => ['o-e', 'o-a'].includes(o.order_id));
  expect(idsOf(await listAll(c, 'status=allocated'))).toEqual(oldestFirst([...remaining, held]));
  expect(idsOf(await listAll(c, 'status=partially_shipped'))).toEqual(['o-d']);
  expect(idsOf(await listAll(c, 'status=shipped'))).toEqual(['o-c']);
  expect(idsOf(await listAll(c, 'status=cancelled'))).toEqual(['o-b']);
  expect(await listAll(c, 'status=held')).toEqual([]);
  const shipped = await listAll(c, 'status=shipped');
  expect(shipped[0]).toMatchObject({ status: 'shipped', allocations: [{ warehouse_id: 'wh-1', quantity: 2, shipped: 2 }] });
});

test('held orders are listed (from the orders partition, filtered) until confirmed or cancelled; without a status every order is listed by id', async () => {
  const c = await stocked();
  for (let i = 0; i < 7; i++) await allocate(c, `firm-${i}`);
  const holds = ['hold-1', 'hold-2', 'hold-3'];
  for (const id of holds) await allocate(c, id, 1, { hold_seconds: 300 });
  // A page of 2 from a partition of 10 orders, 3 of them held: short pages with cursors, but every hold exactly once.
  expect(idsOf(await listAll(c, 'status=held', 2)).sort()).toEqual(holds);
  ok(await c.post('/api/orders/hold-2/cancel'));
  expect(idsOf(await listAll(c, 'status=held', 2)).sort()).toEqual(['hold-1', 'hold-3']);
  const all = await listAll(c, '', 3);
  expect(idsOf(all)).toEqual([...holds, ...Array.from({ length: 7 }, (_, i) => `firm-${i}`)].sort());
});

test('pages of a status list hold every order exactly once, in order, and a cursor is bound to its status', async () => {
  const c = await stocked();
  const made = [];
  for (let i = 0; i < 7; i++) made.push(await allocate(c, `p-${String(9 - i)}`));
  const paged = await listAll(c, 'status=allocated', 3);
  expect(idsOf(paged)).toEqual(oldestFirst(made));
  const first = ok(await c.get('/api/orders?status=allocated&limit=3'));
  expect(first.next_cursor).toEqual(expect.any(String));
  // The same cursor with another status, or tampered with, is a 400 on query.cursor, never a 500 or another list's page.
  for (const query of [`status=shipped&cursor=${encodeURIComponent(first.next_cursor)}`, `cursor=${encodeURIComponent(first.next_cursor)}`, 'status=allocated&cursor=bm90LWEtY3Vyc29y']) {
    const res = await c.get(`/api/orders?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.fields).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'query', path: 'cursor' })]));
  }
});

test("another tenant's orders are never listed, and its cursor is refused", async () => {
  const a = await stocked();
  await allocate(a, 'shared-id');
  const b = await stocked();
  expect(await listAll(b, 'status=allocated')).toEqual([]);
  expect(await listAll(b, '')).toEqual([]);
  await allocate(a, 'shared-id-2');
  const page = ok(await a.get('/api/orders?status=allocated&limit=1'));
  expect(page.next_cursor).toEqual(expect.any(String));
  const res = await b.get(`/api/orders?status=allocated&cursor=${encodeURIComponent(page.next_cursor)}`);
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
});

test.each([
  ['an unknown status', 'status=lost', 'status'],
  ['a limit of 0', 'limit=0', 'limit'],
  ['a limit over 200', 'limit=201', 'limit'],
  ['a fractional limit', 'limit=1.5', 'limit'],
  ['a limit that is not a number', 'limit=ten', 'limit'],
  ['an unknown parameter (the whole query is refused)', 'warehouse=wh-1', ''],
])('%s is a 400 naming the field', async (_what, query, path) => {
  const c = await stocked();
  const res = await c.get(`/api/orders?${query}`);
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
  expect(res.body.error.details.fields).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'query', path })]));
});

test('a viewer may list orders (orders:read) and a role without it may not', async () => {
  const c = await stocked();
  await allocate(c, 'v-1');
  const viewer = await t.client({ tenantId: c.tenantId, role: 'viewer' });
  expect(idsOf(orderListResponse.parse(ok(await viewer.get('/api/orders?status=allocated'))).orders)).toEqual(['v-1']);
  const analyst = await t.client({ tenantId: c.tenantId, role: 'analyst' });
  expect((await analyst.get('/api/orders')).status).toBe(403);
});

test('a hold the sweeper expires is listed as expired, and no longer as held', async () => {
  const db = testDb();
  const anHourAgo = new Date(Date.now() - 3600_000);
  const past = contextFor(undefined, () => anHourAgo);
  await stockOneSku(db, past, { 'wh-1': 10 });
  await allocateOrder({ db, ctx: past }, oneLineOrder('lapsed-1', 3, 60));
  const now = contextFor(past.caller.tenantId);
  expect((await listOrders({ db, ctx: now }, { status: 'held' })).orders.map((o) => o.order_id)).toEqual(['lapsed-1']);
  await expireHolds(db);
  expect((await listOrders({ db, ctx: now }, { status: 'held' })).orders).toEqual([]);
  expect((await listOrders({ db, ctx: now }, { status: 'expired' })).orders).toEqual([expect.objectContaining({ order_id: 'lapsed-1', status: 'expired', allocations: [expect.objectContaining({ released: 3 })] })]);
});
