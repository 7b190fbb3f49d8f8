import { getSkuInventory, listMovements } from '../../functions/inventory/stock';
import { allocateOrder, confirmOrder, expireHold, expireHolds, readOrder } from '../../functions/orders/orders';
import type { Db } from '../../functions/platform/db';
import type { RequestContext } from '../../functions/platform/context';
import { contextFor, oneLineOrder, stockOneSku, testDb } from '../support/domain';

const db = testDb();

const setup = (ctx: RequestContext, stock: Record<string, number>): Promise<void> => stockOneSku(db, ctx, stock);
const order = oneLineOrder;
const totals = async (ctx: RequestContext) => (await getSkuInventory({ db, ctx }, 'sku-1')).totals;

test('the scheduled sweeper releases an unconfirmed hold after it expires, with release ledger rows, once', async () => {
  const anHourAgo = new Date(Date.now() - 3600_000);
  const ctx = contextFor(undefined, () => anHourAgo);
  await setup(ctx, { 'wh-1': 10 });
  await allocateOrder({ db, ctx }, order('hold-1', 3, 60));
  await allocateOrder({ db, ctx }, order('firm-1', 2));
  expect(await totals(ctx)).toMatchObject({ reserved: 5, available: 5 });

  const first = await expireHolds(db);
  expect(first.released).toBeGreaterThanOrEqual(1);
  const now = contextFor(ctx.caller.tenantId);
  expect(await readOrder({ db, ctx: now }, 'hold-1')).toMatchObject({ status: 'expired', allocations: [{ released: 3 }] });
  expect(await readOrder({ db, ctx: now }, 'firm-1')).toMatchObject({ status: 'allocated' });
  expect(await totals(now)).toMatchObject({ reserved: 2, available: 8 });
  const releases = (await listMovements({ db, ctx: now }, 'sku-1', {})).movements.filter((m) => m.type === 'release');
  expect(releases).toEqual([expect.objectContaining({ correlation_id: 'hold-1', actor: 'system:hold-sweeper', deltas: { on_hand: 0, reserved: -3, available: 3, incoming: 0 } })]);
  // Running it again (or concurrently) releases nothing more.
  await Promise.all([expireHolds(db), expireHolds(db)]);
  expect(await totals(now)).toMatchObject({ reserved: 2, available: 8 });
});

test('a hold that has not expired is left alone by the sweeper', async () => {
  const ctx = contextFor();
  await setup(ctx, { 'wh-1': 10 });
  await allocateOrder({ db, ctx }, order('hold-1', 3, 600));
  await expireHolds(db);
  expect(await readOrder({ db, ctx }, 'hold-1')).toMatchObject({ status: 'held' });
});

test('a confirm racing the sweeper leaves exactly one outcome for every order, and the stock agrees', async () => {
  const start = Date.now();
  const ctx = contextFor(undefined, () => new Date(start));
  await setup(ctx, { 'wh-1': 60 });
  const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
  for (const id of ids) await allocateOrder({ db, ctx }, order(id, 1, 30));
  // The confirm arrives just before expiry, the sweeper just after: both are legitimate, only one may win.
  const beforeExpiry = contextFor(ctx.caller.tenantId, () => new Date(start + 29_000));
  const afterExpiry = contextFor(ctx.caller.tenantId, () => new Date(start + 31_000));
  const outcomes = await Promise.all(
    ids.map(async (id) => {
      const [confirm, sweep] = await Promise.allSettled([confirmOrder({ db, ctx: beforeExpiry }, id), expireHold({ db, ctx: afterExpiry }, id)]);
      const final = await readOrder({ db, ctx }, id);
      // The sweeper never fails; it either released the hold or found it already confirmed.
      expect(sweep.status).toBe('fulfilled');
      const swept = (sweep as PromiseFulfilledResult<{ status: string }>).value.status;
      if (final.status === 'allocated') {
        expect(confirm.status).toBe('fulfilled');
        expect(swept).toBe('allocated');
      } else {
        expect(final.status).toBe('expired');
        expect(swept).toBe('expired');
        expect(confirm).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT' } });
      }
      return final;
    }),
  );
  const stillReserved = outcomes.filter((o) => o.status === 'allocated').length;
  expect(await totals(ctx)).toMatchObject({ on_hand: 60, reserved: stillReserved, available: 60 - stillReserved });
});

test('a confirm after the hold expired is refused even before the sweeper runs', async () => {
  const start = Date.now();
  const ctx = contextFor(undefined, () => new Date(start));
  await setup(ctx, { 'wh-1': 5 });
  await allocateOrder({ db, ctx }, order('late', 1, 30));
  const late = contextFor(ctx.caller.tenantId, () => new Date(start + 31_000));
  await expect(confirmOrder({ db, ctx: late }, 'late')).rejects.toMatchObject({ code: 'CONFLICT' });
  expect(await readOrder({ db, ctx }, 'late')).toMatchObject({ status: 'held' });
});

/** A client whose first `failures` TransactWriteItems calls are cancelled with TransactionConflict, as AWS does under contention. */
const conflictingDb = (failures: number): Db & { injected: () => number } => {
  const base = testDb();
  let injected = 0;
  base.client.middlewareStack.add(
    (next) => async (args) => {
      if (args.input && 'TransactItems' in (args.input as object) && injected < failures) {
        injected++;
        const items = (args.input as { TransactItems: unknown[] }).TransactItems;
        throw Object.assign(new Error('Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]'), {
          name: 'TransactionCanceledException',
          CancellationReasons: items.map((_, i) => ({ Code: i === 0 ? 'TransactionConflict' : 'None' })),
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectTransactionConflict' },
  );
  return Object.assign(base, { injected: () => injected });
};

test('injected TransactionConflict cancellations are retried with a fresh plan and still never oversell', async () => {
  const ctx = contextFor();
  await setup(ctx, { 'wh-1': 6, 'wh-2': 4 });
  const flaky = conflictingDb(25);
  const results = await Promise.allSettled(Array.from({ length: 15 }, (_, i) => allocateOrder({ db: flaky, ctx }, order(`c-${i}`, 1))));
  expect(flaky.injected()).toBe(25);
  const ok = results.filter((r) => r.status === 'fulfilled');
  expect(ok).toHaveLength(10);
  for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'INSUFFICIENT_STOCK' });
  expect(await totals(ctx)).toMatchObject({ on_hand: 10, reserved: 10, available: 0 });
});
