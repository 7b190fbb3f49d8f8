import fc from 'fast-check';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { allMovements, reconcile } from '../support/ledger';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

const sale = (warehouseId = 'wh-1') => ({ sku_id: 'sku-1', warehouse_id: warehouseId, transaction_type: 'sale', quantity: 1 });

test('50 concurrent one-unit sales against 20 available: exactly 20 succeed, the rest get 409, the ledger holds 20 sales', async () => {
  const c = await t.client();
  await setupCatalog(c);
  await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 20 });
  const results = await Promise.all(Array.from({ length: 50 }, () => c.post('/api/inventory/update', sale())));
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status === 409);
  expect(ok).toHaveLength(20);
  expect(refused).toHaveLength(30);
  expect(new Set(refused.map((r) => r.body.error.code))).toEqual(new Set(['INSUFFICIENT_STOCK']));
  // Every sale bumped the version exactly once (the restock made version 1).
  expect((await c.get('/api/inventory/sku/sku-1')).body.levels[0].version).toBe(21);
  const inventory = (await c.get('/api/inventory/sku/sku-1')).body;
  expect(inventory.totals).toMatchObject({ on_hand: 0, available: 0 });
  const sales = (await allMovements(c, 'sku-1')).filter((m) => m.type === 'sale');
  expect(sales).toHaveLength(20);
  expect(await reconcile(c, 'sku-1')).toEqual([]);
});

test('200 concurrent one-unit sales against 1,000 units all succeed and leave 800, one ledger row each', async () => {
  const c = await t.client();
  await setupCatalog(c);
  await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1000 });
  const results = await Promise.all(Array.from({ length: 200 }, () => c.post('/api/inventory/update', sale())));
  expect(results.filter((r) => r.status !== 200).map((r) => r.body)).toEqual([]);
  const level = (await c.get('/api/inventory/sku/sku-1')).body.levels[0];
  expect(level).toMatchObject({ on_hand: 800, available: 800, version: 201 });
  expect((await allMovements(c, 'sku-1')).filter((m) => m.type === 'sale')).toHaveLength(200);
  expect(await reconcile(c, 'sku-1')).toEqual([]);
});

test("the first movements of a level that does not exist yet, concurrent, all land: the level is created once, with the SKU's default thresholds", async () => {
  const c = await t.client();
  await setupCatalog(c);
  await c.put('/api/thresholds', { sku_id: 'sku-1', reorder_point: 7, safety_stock: 2 });
  const results = await Promise.all(
    Array.from({ length: 20 }, () => c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 5 })),
  );
  expect(results.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
  const level = (await c.get('/api/inventory/sku/sku-1')).body.levels[0];
  expect(level).toMatchObject({ on_hand: 100, version: 20, reorder_point: 7, safety_stock: 2, thresholds_from: 'sku_default' });
  expect(await reconcile(c, 'sku-1')).toEqual([]);
});

test('concurrent transfers both ways, sales and restocks never lose or invent a unit', async () => {
  const c = await t.client();
  await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
  await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 30 });
  await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-2', transaction_type: 'restock', quantity: 30 });
  const requests = Array.from({ length: 60 }, (_, i) => {
    const [from, to] = i % 2 ? ['wh-1', 'wh-2'] : ['wh-2', 'wh-1'];
    if (i % 5 === 0) return c.post('/api/inventory/update', sale(from));
    if (i % 7 === 0) return c.post('/api/inventory/update', { ...sale(to), transaction_type: 'restock', quantity: 2 });
    return c.post('/api/inventory/transfer', { sku_id: 'sku-1', from_warehouse_id: from, to_warehouse_id: to, quantity: 3 });
  });
  const results = await Promise.all(requests);
  expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
  const movements = await allMovements(c, 'sku-1');
  const sold = movements.filter((m) => m.type === 'sale').length;
  const restocked = movements.filter((m) => m.type === 'restock').reduce((s, m) => s + m.deltas.on_hand, 0);
  const totals = (await c.get('/api/inventory/sku/sku-1')).body.totals;
  expect(totals.on_hand).toBe(restocked - sold);
  const outs = movements.filter((m) => m.type === 'transfer_out').map((m) => m.correlation_id).sort();
  const ins = movements.filter((m) => m.type === 'transfer_in').map((m) => m.correlation_id).sort();
  expect(outs).toEqual(ins);
  expect(await reconcile(c, 'sku-1')).toEqual([]);
});

type Op =
  | { kind: 'update'; warehouse: number; type: 'sale' | 'restock' | 'count'; quantity: number }
  | { kind: 'update'; warehouse: number; type: 'adjustment'; quantity: number }
  | { kind: 'transfer'; from: number; to: number; quantity: number };

const warehouses = ['wh-1', 'wh-2', 'wh-3'];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('update' as const), warehouse: fc.nat(2), type: fc.constantFrom('sale' as const, 'restock' as const), quantity: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('update' as const), warehouse: fc.nat(2), type: fc.constant('count' as const), quantity: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ kind: fc.constant('update' as const), warehouse: fc.nat(2), type: fc.constant('adjustment' as const), quantity: fc.integer({ min: -5, max: 5 }).filter((n) => n !== 0) }),
  fc.record({ kind: fc.constant('transfer' as const), from: fc.nat(2), to: fc.nat(2), quantity: fc.integer({ min: 1, max: 6 }) }).filter((o) => o.from !== o.to),
);

const run = (c: Client, op: Op) =>
  op.kind === 'transfer'
    ? c.post('/api/inventory/transfer', { sku_id: 'sku-1', from_warehouse_id: warehouses[op.from], to_warehouse_id: warehouses[op.to], quantity: op.quantity })
    : c.post('/api/inventory/update', {
        sku_id: 'sku-1',
        warehouse_id: warehouses[op.warehouse],
        transaction_type: op.type,
        quantity: op.quantity,
        ...(op.type === 'adjustment' ? { reason: 'correction' } : {}),
      });

test('property: for any operations, run in concurrent waves, the ledger adds up and nothing goes negative', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }), async (waves) => {
      const c = await t.client();
      await setupCatalog(c, { warehouses });
      for (const wave of waves) {
        const results = await Promise.all(wave.map((op) => run(c, op)));
        // Every outcome is a success or a clean refusal (stock or a count below reserved).
        for (const r of results) expect([200, 409]).toContain(r.status);
      }
      expect(await reconcile(c, 'sku-1')).toEqual([]);
    }),
    { numRuns: 12 },
  );
});
