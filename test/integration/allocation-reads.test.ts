import type { Db } from '../../functions/platform/db';
import { createDocumentClient } from '../../functions/platform/db';
import { keys } from '../../functions/platform/keys';
import { tableName } from '../../functions/platform/table';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createProduct, createSku, createWarehouse, patchWarehouse, WAREHOUSES_FRESH_MS } from '../../functions/inventory/catalog';
import { getSkuInventory, updateStock } from '../../functions/inventory/stock';
import { allocateOrder, cancelOrder } from '../../functions/orders/orders';
import type { AllocateInput } from '../../functions/orders/schemas';
import { codeOf, contextFor, holdFirstTransaction, testDb, type HeldDb } from '../support/domain';

/**
 * An allocation reads its snapshot in as few calls as it can: the tenant's
 * warehouses from this container's recent read, then one BatchGetItem of the
 * SKUs and their levels, then the transaction. Counted on the wire, with a
 * middleware that records every command the client sends.
 */
const db = testDb();
const counted: { db: Db; calls: string[] } = (() => {
  const client = createDocumentClient();
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return { db: { client, table: tableName() }, calls };
})();
afterAll(() => counted.db.client.destroy());

const order = (id: string, skus: string[], extra: Partial<AllocateInput> = {}): AllocateInput => ({
  order_id: id,
  lines: skus.map((sku_id) => ({ sku_id, quantity: 1 })),
  ship_to: { latitude: 40.7, longitude: -74 },
  strategy: 'fewest_shipments',
  allow_split: true,
  ...extra,
});

const setup = async (warehouses: { id: string; latitude: number }[], skus: string[], units = 10) => {
  const ctx = contextFor();
  const deps = { db, ctx };
  await createProduct(deps, { product_id: 'p-1', name: 'Product' });
  for (const w of warehouses) await createWarehouse(deps, { warehouse_id: w.id, name: w.id, latitude: w.latitude, longitude: -74, priority: 1, active: true });
  for (const sku of skus) {
    await createSku(deps, { sku_id: sku, product_id: 'p-1', name: sku });
    for (const w of warehouses) await updateStock(deps, { sku_id: sku, warehouse_id: w.id, transaction_type: 'restock', quantity: units });
  }
  return ctx;
};

test('a 3-line order with the warehouses recently read makes two DynamoDB calls: one BatchGetItem and the transaction', async () => {
  const ctx = await setup([{ id: 'wh-1', latitude: 40 }, { id: 'wh-2', latitude: 41 }], ['a', 'b', 'c']);
  await allocateOrder({ db: counted.db, ctx }, order('warm-up', ['a']));
  counted.calls.length = 0;
  await allocateOrder({ db: counted.db, ctx }, order('o-1', ['a', 'b', 'c']));
  expect(counted.calls).toEqual(['BatchGetItemCommand', 'TransactWriteItemsCommand']);
});

test('a warehouse deactivated through the API is never chosen by the next allocation, however recent the cached list', async () => {
  const ctx = await setup([{ id: 'near', latitude: 40.7 }, { id: 'far', latitude: 30 }], ['a']);
  const deps = { db, ctx };
  expect((await allocateOrder(deps, order('o-1', ['a'], { strategy: 'nearest' }))).allocations[0]?.warehouse_id).toBe('near');
  await patchWarehouse(deps, 'near', { active: false });
  expect((await allocateOrder(deps, order('o-2', ['a'], { strategy: 'nearest' }))).allocations[0]?.warehouse_id).toBe('far');
});

const heldDb = (meanwhile: () => Promise<unknown>): HeldDb => {
  const held = holdFirstTransaction(meanwhile);
  heldClients.push(held.db.client);
  return held;
};
const heldClients: Db['client'][] = [];
afterAll(() => heldClients.forEach((client) => client.destroy()));

test('a warehouse deactivated by another container is never chosen once the cached list here is older than WAREHOUSES_FRESH_MS', async () => {
  let now = Date.parse('2026-06-01T12:00:00Z');
  const ctx = await setup([{ id: 'near', latitude: 40.7 }, { id: 'far', latitude: 30 }], ['a']);
  const clocked = { db, ctx: { ...ctx, now: () => new Date(now) } };
  expect((await allocateOrder(clocked, order('o-1', ['a'], { strategy: 'nearest' }))).allocations[0]?.warehouse_id).toBe('near');
  // Written behind this container's back, as another Lambda's PATCH would be.
  await db.client.send(
    new UpdateCommand({ TableName: db.table, Key: keys.warehouse(ctx.caller.tenantId, 'near'), UpdateExpression: 'SET active = :f', ExpressionAttributeValues: { ':f': false } }),
  );
  // Within the window the list read here a moment ago still stands: the documented staleness.
  now += WAREHOUSES_FRESH_MS - 1;
  expect((await allocateOrder(clocked, order('o-2', ['a'], { strategy: 'nearest' }))).allocations[0]?.warehouse_id).toBe('near');
  now += 1;
  expect((await allocateOrder(clocked, order('o-3', ['a'], { strategy: 'nearest' }))).allocations[0]?.warehouse_id).toBe('far');
});

test('a batch read DynamoDB keeps leaving unprocessed (throttling) is 503 UNAVAILABLE, not a conflict, and reserves nothing', async () => {
  const ctx = await setup([{ id: 'wh-1', latitude: 40 }], ['a']);
  const client = createDocumentClient();
  heldClients.push(client);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchGetItemCommand') return next(args);
      const input = args.input as { RequestItems: Record<string, { Keys: unknown[] }> };
      return { output: { Responses: {}, UnprocessedKeys: input.RequestItems, $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'throttleBatchGets' },
  );
  await expect(allocateOrder({ db: { client, table: tableName() }, ctx }, order('o-1', ['a']))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  expect((await getSkuInventory({ db, ctx }, 'a')).totals).toMatchObject({ reserved: 0, available: 10 });
});

test('releasing a reservation whose level has vanished is refused at once with 409 CONFLICT, not retried', async () => {
  const ctx = await setup([{ id: 'wh-1', latitude: 40 }], ['a']);
  await allocateOrder({ db, ctx }, order('o-1', ['a']));
  await db.client.send(new DeleteCommand({ TableName: db.table, Key: keys.stockLevel(ctx.caller.tenantId, 'a', 'wh-1') }));
  const transactions = heldDb(async () => undefined);
  await expect(cancelOrder({ db: transactions.db, ctx }, 'o-1')).rejects.toMatchObject({ code: 'CONFLICT', details: { sku_id: 'a', warehouse_id: 'wh-1' } });
  expect(transactions.transactions).toEqual(['TransactionCanceledException']);
});

test('an unknown SKU in an order is 404 (looked up only because no level of it was found), and nothing is reserved', async () => {
  const ctx = await setup([{ id: 'wh-1', latitude: 40 }], ['a']);
  expect(await codeOf(allocateOrder({ db, ctx }, order('o-1', ['a', 'nope'])))).toBe('NOT_FOUND');
  expect(await codeOf(allocateOrder({ db, ctx }, order('o-2', ['a'], { lines: [{ sku_id: 'a', quantity: 10 }] })))).toBeUndefined();
});

describe('the same order_id again', () => {
  test('with the same order answers with the existing order and reserves nothing more', async () => {
    const ctx = await setup([{ id: 'wh-1', latitude: 40 }], ['a'], 5);
    const first = await allocateOrder({ db, ctx }, order('o-1', ['a']));
    expect(await allocateOrder({ db, ctx }, order('o-1', ['a']))).toEqual(first);
    const rest = await allocateOrder({ db, ctx }, order('o-2', ['a'], { lines: [{ sku_id: 'a', quantity: 4 }] }));
    expect(rest.allocations[0]?.quantity).toBe(4);
  });

  test('with the same lines listed in another order is the same order', async () => {
    const ctx = await setup([{ id: 'wh-1', latitude: 40 }], ['a', 'b'], 5);
    const first = await allocateOrder({ db, ctx }, order('o-1', ['a', 'b']));
    expect(await allocateOrder({ db, ctx }, order('o-1', ['b', 'a']))).toEqual(first);
  });

  test('with other lines is 409 ALREADY_EXISTS showing the existing order, and reserves nothing', async () => {
    const ctx = await setup([{ id: 'wh-1', latitude: 40 }], ['a', 'b'], 5);
    const first = await allocateOrder({ db, ctx }, order('o-1', ['a']));
    for (const other of [order('o-1', ['a', 'b']), order('o-1', ['a'], { lines: [{ sku_id: 'a', quantity: 2 }] }), order('o-1', ['a'], { ship_to: { latitude: 1, longitude: 1 } })]) {
      await expect(allocateOrder({ db, ctx }, other)).rejects.toMatchObject({ code: 'ALREADY_EXISTS', details: { order_id: 'o-1', order: first } });
    }
    // All 4 remaining units of 'a' are still available: the refused requests reserved nothing.
    const rest = await allocateOrder({ db, ctx }, order('o-2', ['a'], { lines: [{ sku_id: 'a', quantity: 4 }] }));
    expect(rest.allocations[0]?.quantity).toBe(4);
  });
});
