import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { levelsOf } from '../support/levels';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

const restock = { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 5 };
const movements = async (c: Client) => (await c.get('/api/inventory/sku/sku-1/movements')).body.movements;

test('a repeated stock update with the same key applies once and returns the first response', async () => {
  const c = await t.client();
  await setupCatalog(c);
  const first = await c.post('/api/inventory/update', restock, { 'idempotency-key': 'k-1' });
  const second = await c.post('/api/inventory/update', restock, { 'idempotency-key': 'k-1' });
  expect(second.status).toBe(first.status);
  expect(second.body).toEqual(first.body);
  expect(await movements(c)).toHaveLength(1);
});

test('the same key with the same JSON in another key order or spacing still replays', async () => {
  const c = await t.client();
  await setupCatalog(c);
  await c.post('/api/inventory/update', restock, { 'idempotency-key': 'k-1' });
  const reordered = await c.raw('/api/inventory/update', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
    body: '{ "quantity": 5, "transaction_type": "restock", "warehouse_id": "wh-1", "sku_id": "sku-1" }',
  });
  expect(reordered.status).toBe(200);
  expect(await movements(c)).toHaveLength(1);
});

test('the same key with a different body is 422 and writes nothing', async () => {
  const c = await t.client();
  await setupCatalog(c);
  await c.post('/api/inventory/update', restock, { 'idempotency-key': 'k-1' });
  const other = await c.post('/api/inventory/update', { ...restock, quantity: 6 }, { 'idempotency-key': 'k-1' });
  expect(other.status).toBe(422);
  expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(await movements(c)).toHaveLength(1);
});

test('a key used on one route is 422 on another route', async () => {
  const c = await t.client();
  await setupCatalog(c);
  await c.post('/api/inventory/update', restock, { 'idempotency-key': 'k-x' });
  const res = await c.post('/api/products', { name: 'P' }, { 'idempotency-key': 'k-x' });
  expect(res.status).toBe(422);
});

test('a replay returns the stored answer even when the operation would now be refused', async () => {
  const c = await t.client();
  await setupCatalog(c);
  await c.post('/api/inventory/update', restock);
  const sale = { ...restock, transaction_type: 'sale', quantity: 5 };
  const first = await c.post('/api/inventory/update', sale, { 'idempotency-key': 'sell-all' });
  expect(first.status).toBe(200);
  const retry = await c.post('/api/inventory/update', sale, { 'idempotency-key': 'sell-all' });
  expect(retry).toEqual(first);
});

test('20 concurrent duplicates with one key apply exactly once and all get the same answer', async () => {
  const c = await t.client();
  await setupCatalog(c);
  const results = await Promise.all(
    Array.from({ length: 20 }, () => c.post('/api/inventory/update', restock, { 'idempotency-key': 'burst' })),
  );
  expect(new Set(results.map((r) => r.status))).toEqual(new Set([200]));
  expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
  expect(await movements(c)).toHaveLength(1);
  expect((await c.get('/api/inventory/sku/sku-1')).body.totals.on_hand).toBe(5);
});

test('creates honour the key: a repeated product create returns the same product, not 409', async () => {
  const c = await t.client();
  const first = await c.post('/api/products', { name: 'No id given' }, { 'idempotency-key': 'create-1' });
  const again = await c.post('/api/products', { name: 'No id given' }, { 'idempotency-key': 'create-1' });
  expect(first.status).toBe(201);
  expect(again).toEqual(first);
});

test('transfers honour the key', async () => {
  const c = await t.client();
  await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
  await c.post('/api/inventory/update', restock);
  const move = { sku_id: 'sku-1', from_warehouse_id: 'wh-1', to_warehouse_id: 'wh-2', quantity: 2 };
  const [x, y] = await Promise.all([
    c.post('/api/inventory/transfer', move, { 'idempotency-key': 'tr' }),
    c.post('/api/inventory/transfer', move, { 'idempotency-key': 'tr' }),
  ]);
  expect(x).toEqual(y);
  expect((await levelsOf(c)).map((l) => l.on_hand)).toEqual([3, 2]);
});

test('a retried non-atomic batch replays what was applied and retries what was refused', async () => {
  const c = await t.client();
  await setupCatalog(c);
  const batch = {
    updates: [
      { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 1 },
      { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 3 },
    ],
  };
  const first = await c.post('/api/inventory/bulk-update', batch, { 'idempotency-key': 'batch-1' });
  expect(first.body).toMatchObject({ applied: 1, rejected: 1 });
  const retry = await c.post('/api/inventory/bulk-update', batch, { 'idempotency-key': 'batch-1' });
  // The restock replays (not applied again); the sale, refused before, now finds stock and applies.
  expect(retry.body.results.map((r: { status: string }) => r.status)).toEqual(['applied', 'applied']);
  const kinds = (await movements(c)).map((m: { type: string }) => m.type);
  expect(kinds.sort()).toEqual(['restock', 'sale']);
  const changed = await c.post('/api/inventory/bulk-update', { updates: [batch.updates[1]] }, { 'idempotency-key': 'batch-1' });
  expect(changed.status).toBe(422);
});

test('an atomic batch with the same key applies once', async () => {
  const c = await t.client();
  await setupCatalog(c);
  const batch = { atomic: true, updates: [restock, restock] };
  const first = await c.post('/api/inventory/bulk-update', batch, { 'idempotency-key': 'ab' });
  const again = await c.post('/api/inventory/bulk-update', batch, { 'idempotency-key': 'ab' });
  expect(again).toEqual(first);
  expect(await movements(c)).toHaveLength(2);
});

test('one key reused on another order is a different request (422), not a replay of the first', async () => {
  const c = await t.client();
  await setupCatalog(c);
  await c.post('/api/inventory/update', restock);
  for (const id of ['o-1', 'o-2']) {
    await c.post('/api/orders/allocate', { order_id: id, lines: [{ sku_id: 'sku-1', quantity: 1 }], ship_to: { latitude: 0, longitude: 0 } });
  }
  expect((await c.post('/api/orders/o-1/cancel', undefined, { 'idempotency-key': 'cancel-k' })).body.order_id).toBe('o-1');
  const other = await c.post('/api/orders/o-2/cancel', undefined, { 'idempotency-key': 'cancel-k' });
  expect(other.status).toBe(422);
  expect((await c.get('/api/orders/status/o-2')).body.status).toBe('allocated');
});

test('one request sent twice at once with the same key gets the same answer twice, even when the copy that loses finds the state already moved (found by the history checker)', async () => {
  const c = await t.client();
  await setupCatalog(c);
  await c.post('/api/inventory/update', { ...restock, quantity: 100 });
  const answers: [number, number][] = [];
  for (let trial = 0; trial < 15; trial += 1) {
    const orderId = `dup-ship-${trial}`;
    expect((await c.post('/api/orders/allocate', { order_id: orderId, lines: [{ sku_id: 'sku-1', quantity: 2 }], ship_to: { latitude: 40, longitude: -74 } })).status).toBe(201);
    const ship = () => c.post(`/api/orders/${orderId}/ship`, { lines: [{ sku_id: 'sku-1', quantity: 2 }] }, { 'idempotency-key': `ship-${orderId}` });
    const [first, second] = await Promise.all([ship(), ship()]);
    answers.push([first.status, second.status]);
    expect(second.body).toEqual(first.body);
  }
  expect(answers).toEqual(Array.from({ length: 15 }, () => [200, 200]));
  // Each order shipped once: 15 orders x 2 units left the level, no more.
  expect((await levelsOf(c, 'sku-1'))[0]).toMatchObject({ on_hand: 100 - 30, reserved: 0 });
});
