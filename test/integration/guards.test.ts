import type { Db } from '../../functions/platform/db';
import { AppError } from '../../functions/platform/errors';
import type { RequestContext } from '../../functions/platform/context';
import { getSkuInventory, listMovements, updateStock } from '../../functions/inventory/stock';
import { allocateOrder, confirmOrder, expireHold, readOrder } from '../../functions/orders/orders';
import { startTestApi, type TestApi } from '../support/api';
import { contextFor, holdFirstTransaction, oneLineOrder, stockOneSku, testDb, type HeldDb } from '../support/domain';
import { reconcile } from '../support/ledger';

/**
 * The two guards that concurrency tests only catch by luck, made
 * deterministic: a database client whose first TransactWriteItems waits
 * while another change is applied, so the write goes out planned from a
 * snapshot that is no longer true. Only the write's own condition can then
 * keep the books straight. The hook is on the transaction, not on how the
 * snapshot is read, so it holds whatever the read pattern.
 */
const db = testDb();
let t: TestApi;
/** The clients the held Dbs made, closed at the end. */
const heldClients: Db['client'][] = [];
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  for (const client of heldClients) client.destroy();
  await t.close();
});

const holdingFirstTransaction = (meanwhile: () => Promise<unknown>): HeldDb => {
  const held = holdFirstTransaction(meanwhile);
  heldClients.push(held.db.client);
  return held;
};

/** The AppError a call rejects with (code and HTTP status), or 'fulfilled'; anything else is rethrown. */
const outcomeOf = async (promise: Promise<unknown>): Promise<{ code: string; status: number } | 'fulfilled'> => {
  try {
    await promise;
    return 'fulfilled';
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, status: error.status };
    throw error;
  }
};

const setup = (ctx: RequestContext, stock: Record<string, number>): Promise<void> => stockOneSku(db, ctx, stock);
const order = oneLineOrder;

const ledgerProblems = async (tenantId: string): Promise<string[]> => reconcile(await t.client({ tenantId }), 'sku-1');

describe('an allocation planned from a stale snapshot', () => {
  test('is refused by its own write condition when the level was drained in between: 409 INSUFFICIENT_STOCK, nothing reserved, nothing oversold', async () => {
    const ctx = contextFor();
    await setup(ctx, { 'wh-1': 10 });
    // Between the allocation's read (10 available) and its transaction, a sale takes all 10.
    const held = holdingFirstTransaction(() =>
      updateStock({ db, ctx }, { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 10 }),
    );

    const outcome = await outcomeOf(allocateOrder({ db: held.db, ctx }, order('stale-1', 6)));

    expect(held.interleaved()).toBe(1);
    // The planned transaction did go out, and DynamoDB refused it on the level's condition;
    // the re-plan from what the cancellation returned found nothing to reserve.
    expect(held.transactions[0]).toBe('TransactionCanceledException');
    expect(held.transactions).not.toContain('committed');
    expect(outcome).toEqual({ code: 'INSUFFICIENT_STOCK', status: 409 });
    const { levels } = await getSkuInventory({ db, ctx }, 'sku-1');
    expect(levels).toEqual([expect.objectContaining({ warehouse_id: 'wh-1', on_hand: 0, reserved: 0, available: 0 })]);
    expect(await outcomeOf(readOrder({ db, ctx }, 'stale-1'))).toEqual({ code: 'NOT_FOUND', status: 404 });
    const types = (await listMovements({ db, ctx }, 'sku-1', {})).movements.map((m) => m.type);
    expect(types.sort()).toEqual(['restock', 'sale']);
    expect(await ledgerProblems(ctx.caller.tenantId)).toEqual([]);
  });

  test('re-plans onto the warehouse that still has stock when its first choice was drained in between, reserving each unit once', async () => {
    const ctx = contextFor();
    // wh-1 is nearest and alone can fill the order; wh-2 can too, further away.
    await setup(ctx, { 'wh-1': 10, 'wh-2': 10 });
    const held = holdingFirstTransaction(() =>
      updateStock({ db, ctx }, { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 8 }),
    );

    const allocated = await allocateOrder({ db: held.db, ctx }, { ...order('stale-2', 6), strategy: 'nearest' });

    expect(held.interleaved()).toBe(1);
    expect(held.transactions).toEqual(['TransactionCanceledException', 'committed']);
    const reservedPerWarehouse = Object.fromEntries(allocated.allocations.map((leg) => [leg.warehouse_id, leg.quantity]));
    expect(Object.values(reservedPerWarehouse).reduce((sum, n) => sum + n, 0)).toBe(6);
    const { levels, totals } = await getSkuInventory({ db, ctx }, 'sku-1');
    expect(totals).toMatchObject({ on_hand: 12, reserved: 6, available: 6 });
    for (const level of levels) {
      expect(level.available).toBeGreaterThanOrEqual(0);
      expect(level.reserved).toBe(reservedPerWarehouse[level.warehouse_id] ?? 0);
    }
    expect(await ledgerProblems(ctx.caller.tenantId)).toEqual([]);
  });
});

describe('a confirm and an expiry of the same order version', () => {
  const holdSeconds = 60;
  /** A held order of 3 units created at `start`; the confirm comes just before expiry, the sweeper just after. */
  const heldOrder = async () => {
    const start = Date.now() - 120_000;
    const ctx = contextFor(undefined, () => new Date(start));
    await setup(ctx, { 'wh-1': 10 });
    await allocateOrder({ db, ctx }, order('hold-1', 3, holdSeconds));
    const tenantId = ctx.caller.tenantId;
    return {
      tenantId,
      ctx,
      beforeExpiry: contextFor(tenantId, () => new Date(start + (holdSeconds - 1) * 1000)),
      afterExpiry: contextFor(tenantId, () => new Date(start + (holdSeconds + 1) * 1000)),
    };
  };
  const releases = async (ctx: RequestContext) =>
    (await listMovements({ db, ctx }, 'sku-1', {})).movements.filter((m) => m.type === 'release');

  test('expiry applied while the confirm is on its way: the expiry wins, the confirm is a 409 CONFLICT, the stock is released once', async () => {
    const { ctx, beforeExpiry, afterExpiry, tenantId } = await heldOrder();
    let expired: unknown;
    const held = holdingFirstTransaction(async () => {
      expired = await expireHold({ db, ctx: afterExpiry }, 'hold-1');
    });

    const confirm = await outcomeOf(confirmOrder({ db: held.db, ctx: beforeExpiry }, 'hold-1'));

    expect(held.interleaved()).toBe(1);
    // The confirm read version 1 and wrote against it: the order's version condition refused it.
    expect(held.transactions[0]).toBe('TransactionCanceledException');
    expect(held.transactions).not.toContain('committed');
    expect(expired).toMatchObject({ status: 'expired', version: 2 });
    expect(confirm).toEqual({ code: 'CONFLICT', status: 409 });
    expect(await readOrder({ db, ctx }, 'hold-1')).toMatchObject({ status: 'expired', version: 2, allocations: [{ quantity: 3, released: 3 }] });
    expect(await releases(ctx)).toEqual([expect.objectContaining({ correlation_id: 'hold-1', deltas: { on_hand: 0, reserved: -3, available: 3, incoming: 0 } })]);
    expect((await getSkuInventory({ db, ctx }, 'sku-1')).totals).toMatchObject({ on_hand: 10, reserved: 0, available: 10 });
    expect(await ledgerProblems(tenantId)).toEqual([]);
  });

  test('confirm applied while the expiry is on its way: the confirm wins, the expiry releases nothing', async () => {
    const { ctx, beforeExpiry, afterExpiry, tenantId } = await heldOrder();
    let confirmed: unknown;
    const held = holdingFirstTransaction(async () => {
      confirmed = await confirmOrder({ db, ctx: beforeExpiry }, 'hold-1');
    });

    const swept = await expireHold({ db: held.db, ctx: afterExpiry }, 'hold-1');

    expect(held.interleaved()).toBe(1);
    // The sweeper read version 1 and wrote against it: refused; re-read, it finds the order firm and leaves it.
    expect(held.transactions).toEqual(['TransactionCanceledException']);
    expect(confirmed).toMatchObject({ status: 'allocated', version: 2 });
    expect(swept).toMatchObject({ status: 'allocated', version: 2 });
    expect(await readOrder({ db, ctx }, 'hold-1')).toMatchObject({ status: 'allocated', version: 2, allocations: [{ quantity: 3, released: 0 }] });
    expect(await releases(ctx)).toEqual([]);
    expect((await getSkuInventory({ db, ctx }, 'sku-1')).totals).toMatchObject({ on_hand: 10, reserved: 3, available: 7 });
    expect(await ledgerProblems(tenantId)).toEqual([]);
  });
});
