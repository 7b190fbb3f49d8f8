import fc from 'fast-check';
import { ok, startTestApi, type Client, type TestApi } from '../support/api';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

/**
 * The lake agrees with the ledger. Random runs of operations (stock changes of every kind,
 * transfers, orders allocated and then shipped, cancelled or left held), some concurrent and
 * some refused, go through the API; the stream and the lake feed carry every ledger row to
 * the local lake. Then, for the run's window, the stock-movement report per SKU, warehouse
 * and type equals the sums of the ledger rows read from DynamoDB, and the valuation's
 * quantity per level equals the level's on_hand in the table.
 */

const RUNS = 3;
const SKUS = ['sku-1', 'sku-2', 'sku-3'];
const WAREHOUSES = ['wh-1', 'wh-2'];
const SHIP_TO = { latitude: 40, longitude: -74 };

let t: TestApi;
let tenants: Client[];
let pipeline: LocalPipeline;

beforeAll(async () => {
  t = await startTestApi();
  tenants = await Promise.all(Array.from({ length: RUNS }, () => t.client()));
  pipeline = await startLocalPipeline(
    tenants.map((c) => c.tenantId),
    { lake: { root: t.lakeRoot, compactEveryMs: 0, flushEveryMs: 200 } },
  );
});

afterAll(async () => {
  await pipeline.stop();
  await t.close();
});

type Operation =
  | { kind: 'change'; sku_id: string; warehouse_id: string; transaction_type: 'restock' | 'sale' | 'count'; quantity: number }
  | { kind: 'adjust'; sku_id: string; warehouse_id: string; quantity: number }
  | { kind: 'transfer'; sku_id: string; from: string; to: string; quantity: number }
  | { kind: 'order'; sku_id: string; quantity: number; then: 'ship' | 'cancel' | 'hold' };

const sku = fc.constantFrom(...SKUS);
const warehouse = fc.constantFrom(...WAREHOUSES);
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('change' as const), sku_id: sku, warehouse_id: warehouse, transaction_type: fc.constant('restock' as const), quantity: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('change' as const), sku_id: sku, warehouse_id: warehouse, transaction_type: fc.constant('sale' as const), quantity: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('change' as const), sku_id: sku, warehouse_id: warehouse, transaction_type: fc.constant('count' as const), quantity: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('adjust' as const), sku_id: sku, warehouse_id: warehouse, quantity: fc.integer({ min: -5, max: 5 }).filter((n) => n !== 0) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('transfer' as const), sku_id: sku, from: warehouse, to: warehouse, quantity: fc.integer({ min: 1, max: 6 }) }).filter((op) => op.from !== op.to) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('order' as const), sku_id: sku, quantity: fc.integer({ min: 1, max: 6 }), then: fc.constantFrom('ship' as const, 'cancel' as const, 'hold' as const) }) },
);

/** Runs one operation; a refusal (409 for stock that is not there) is part of the run, anything 5xx fails it. */
const perform = async (client: Client, op: Operation, index: number): Promise<void> => {
  const expectHandled = (status: number) => expect(status).toBeLessThan(500);
  if (op.kind === 'change') {
    const { kind: _kind, ...change } = op;
    expectHandled((await client.post('/api/inventory/update', change)).status);
  } else if (op.kind === 'adjust') {
    expectHandled((await client.post('/api/inventory/update', { sku_id: op.sku_id, warehouse_id: op.warehouse_id, transaction_type: 'adjustment', quantity: op.quantity, reason: 'correction' })).status);
  } else if (op.kind === 'transfer') {
    expectHandled((await client.post('/api/inventory/transfer', { sku_id: op.sku_id, from_warehouse_id: op.from, to_warehouse_id: op.to, quantity: op.quantity })).status);
  } else {
    const orderId = `o-${index}`;
    const allocated = await client.post('/api/orders/allocate', { order_id: orderId, lines: [{ sku_id: op.sku_id, quantity: op.quantity }], ship_to: SHIP_TO, allow_split: true });
    expectHandled(allocated.status);
    if (allocated.status !== 201 && allocated.status !== 200) return;
    if (op.then === 'ship') expectHandled((await client.post(`/api/orders/${orderId}/ship`, { lines: [{ sku_id: op.sku_id, quantity: op.quantity }] })).status);
    if (op.then === 'cancel') expectHandled((await client.post(`/api/orders/${orderId}/cancel`)).status);
  }
};

interface LedgerRow { sku_id: string; warehouse_id: string; type: string; deltas: { on_hand: number } }
interface Sums { units_in: number; units_out: number; net: number; movements: number }

const ledgerOf = async (client: Client, skuId: string, from: string, to: string): Promise<LedgerRow[]> => {
  const rows: LedgerRow[] = [];
  let cursor: string | undefined;
  do {
    const page = ok(await client.get(`/api/inventory/sku/${skuId}/movements?from=${from}&to=${to}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
    rows.push(...page.movements);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return rows;
};

const add = (sums: Map<string, Sums>, key: string, delta: Sums): void => {
  const sum = sums.get(key) ?? { units_in: 0, units_out: 0, net: 0, movements: 0 };
  sums.set(key, { units_in: sum.units_in + delta.units_in, units_out: sum.units_out + delta.units_out, net: sum.net + delta.net, movements: sum.movements + delta.movements });
};

const sorted = (sums: Map<string, Sums>) => Object.fromEntries([...sums.entries()].sort(([a], [b]) => a.localeCompare(b)));

test('after random runs of operations, the stock-movement report equals the ledger per SKU, warehouse and type, and the valuation its on_hand', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 15, maxLength: 40 }), async (operations) => {
      const client = tenants[run];
      run += 1;
      if (!client) throw new Error('more runs than tenants');
      const from = new Date(Date.now() - 60_000).toISOString();
      ok(await client.post('/api/products', { product_id: 'p', name: 'P' }), 201);
      for (const skuId of SKUS) ok(await client.post('/api/skus', { sku_id: skuId, product_id: 'p', name: skuId }), 201);
      for (const [i, warehouseId] of WAREHOUSES.entries()) {
        ok(await client.post('/api/warehouses', { warehouse_id: warehouseId, name: warehouseId, latitude: 40, longitude: -74 - i }), 201);
      }
      // In fours, concurrently: the ledger and the lake must agree under contention too.
      for (let start = 0; start < operations.length; start += 4) {
        await Promise.all(operations.slice(start, start + 4).map((op, offset) => perform(client, op, start + offset)));
      }
      const to = new Date(Date.now() + 60_000).toISOString();

      const ledger = (await Promise.all(SKUS.map((skuId) => ledgerOf(client, skuId, from, to)))).flat();
      const expected = new Map<string, Sums>();
      for (const row of ledger) {
        const delta = row.deltas.on_hand;
        add(expected, `${row.sku_id}/${row.warehouse_id}/${row.type}`, { units_in: Math.max(delta, 0), units_out: Math.max(-delta, 0), net: delta, movements: 1 });
      }

      // The lake holds every row within 10 s.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const whole = ok(await client.get(`/api/reports/stock-movement?from=${from}&to=${to}&group_by=month`));
        const count = whole.rows.reduce((sum: number, row: Sums) => sum + row.movements, 0);
        if (count === ledger.length) break;
        if (Date.now() > deadline) throw new Error(`the lake holds ${count} of ${ledger.length} movements after 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }

      const reported = new Map<string, Sums>();
      for (const skuId of SKUS) {
        for (const warehouseId of WAREHOUSES) {
          const body = ok(await client.get(`/api/reports/stock-movement?from=${from}&to=${to}&group_by=day&sku_id=${skuId}&warehouse_id=${warehouseId}`));
          for (const row of body.rows) add(reported, `${skuId}/${warehouseId}/${row.type}`, row);
        }
      }
      expect(sorted(reported)).toEqual(sorted(expected));

      const onHand = new Map<string, number>();
      for (const skuId of SKUS) {
        for (const level of ok(await client.get(`/api/inventory/sku/${skuId}`)).levels) if (level.on_hand !== 0) onHand.set(`${skuId}/${level.warehouse_id}`, level.on_hand);
      }
      const valuation = ok(await client.get(`/api/reports/valuation?as_of=${to}`));
      const valued = new Map<string, number>(valuation.lines.filter((line: { quantity: number }) => line.quantity !== 0).map((line: { sku_id: string; warehouse_id: string; quantity: number }) => [`${line.sku_id}/${line.warehouse_id}`, line.quantity]));
      expect(Object.fromEntries([...valued].sort())).toEqual(Object.fromEntries([...onHand].sort()));
    }),
    { numRuns: RUNS, endOnFailure: true },
  );
});
