import { getSkuInventory, listMovements } from '../../functions/inventory/stock';
import { allocateOrder, confirmOrder, expireHolds, readOrder } from '../../functions/orders/orders';
import { scheduledFunctions } from '../../functions/wiring';
import { contextFor, oneLineOrder, stockOneSku, testDb } from '../support/domain';

/**
 * Fault: clock skew between callers (issue 15, scope item 3). A checkout hold is confirmed by a
 * caller whose clock reads its expiry instant, or a millisecond either side of it, while the
 * scheduled sweeper (scheduledFunctions.expireHolds: `expireHolds`, the domain function its handler
 * calls) runs with its own clock at, or a millisecond either side of, the same instant. Whoever
 * wins, exactly one of confirmed and expired must come out of it, never both and never neither,
 * and the stock and the ledger must agree with the outcome.
 *
 * The sweeper sweeps every tenant's due holds. Each round's clocks are days in the past, so this
 * file's sweeps release no other file's holds; a sweep another file runs at the real time may release
 * this file's first (that is one more legitimate sweeper), so the counts asserted are the orders',
 * the stock's and the ledger's, and this file's sweeps released at most the holds that expired.
 */
const db = testDb();

afterAll(() => db.client.destroy());

const HOLD_SECONDS = 30;
/** (confirm's clock, sweeper's clock) in ms from the hold's expiry instant. */
const SKEWS: readonly (readonly [number, number])[] = [
  [0, 0],
  [0, 0],
  [0, 0],
  [-1, 0],
  [0, 1],
  [-1, 1],
  [1, -1],
  [0, -1],
  [1, 0],
];
/** Holds raced per skew pair (each round: one tenant, these holds, one sweep). */
const HOLDS = 5;

test('a hold confirmed at its expiry instant while the sweeper runs at that instant ends confirmed or expired, exactly one, and stock and ledger agree', async () => {
  const tally = { confirmed: 0, expired: 0 };
  for (const [round, [confirmSkew, sweepSkew]] of SKEWS.entries()) {
    const start = Date.now() - 3 * 86_400_000 - round * 60_000;
    const expiry = start + HOLD_SECONDS * 1000;
    const ctx = contextFor(undefined, () => new Date(start));
    const tenantId = ctx.caller.tenantId;
    await stockOneSku(db, ctx, { 'wh-1': 100 });
    const skew = [confirmSkew, sweepSkew] as const;
    const orders = Array.from({ length: HOLDS }, (_, i) => ({ id: `race-${i}`, skew }));
    for (const { id } of orders) await allocateOrder({ db, ctx }, oneLineOrder(id, 1, HOLD_SECONDS));

    // Every confirm and the sweep, all at once.
    const confirmCtx = contextFor(tenantId, () => new Date(expiry + confirmSkew));
    const [confirms, sweep] = await Promise.all([
      Promise.allSettled(orders.map(({ id }) => confirmOrder({ db, ctx: confirmCtx }, id))),
      expireHolds(db, new Date(expiry + sweepSkew)),
    ]);
    expect(sweep.failed).toBe(0);

    // Right after the race: wherever the sweeper's clock had reached the expiry, the race decided it.
    const raced = new Map<string, string>();
    for (const { id } of orders) raced.set(id, (await readOrder({ db, ctx }, id)).status);
    for (const { id } of orders) {
      if (sweepSkew >= 0) expect({ id, skew, status: raced.get(id) }).toEqual({ id, skew, status: expect.stringMatching(/^(allocated|expired)$/) });
    }
    // The next scheduled sweep (a period later) takes whatever a sweeper clock short of the expiry left held.
    const next = await expireHolds(db, new Date(expiry + scheduledFunctions.expireHolds.everySeconds * 1000));
    expect(next.failed).toBe(0);

    const later = contextFor(tenantId, () => new Date(expiry + 61_000));
    let expiredHere = 0;
    for (const [i, { id }] of orders.entries()) {
      const final = await readOrder({ db, ctx: later }, id);
      const confirm = confirms[i]!;
      // Never neither, and a decided order stays decided.
      expect({ id, skew, status: final.status }).toEqual({ id, skew, status: expect.stringMatching(/^(allocated|expired)$/) });
      if (raced.get(id) !== 'held') expect(final.status).toBe(raced.get(id));
      if (final.status === 'allocated') {
        expect(confirm.status).toBe('fulfilled');
        expect(final.allocations[0]).toMatchObject({ quantity: 1, released: 0 });
        tally.confirmed++;
      } else {
        // Refused, never told "confirmed" while the stock went back.
        expect(confirm).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT' } });
        expect(final.allocations[0]).toMatchObject({ quantity: 1, released: 1 });
        expiredHere++;
      }
    }
    tally.expired += expiredHere;
    expect(sweep.released + next.released).toBeLessThanOrEqual(expiredHere);
    const reserved = orders.length - expiredHere;
    expect((await getSkuInventory({ db, ctx: later }, 'sku-1')).totals).toMatchObject({ on_hand: 100, reserved, available: 100 - reserved });
    const movements = (await listMovements({ db, ctx: later }, 'sku-1', {})).movements;
    // Each expired hold gave its unit back exactly once; a confirmed one never did.
    const releases = movements.filter((m) => m.type === 'release');
    expect(releases).toHaveLength(expiredHere);
    for (const r of releases) expect(r.deltas).toEqual({ on_hand: 0, reserved: -1, available: 1, incoming: 0 });
    expect(movements.filter((m) => m.type === 'allocation')).toHaveLength(orders.length);
  }
  // Every order had exactly one outcome.
  expect(tally.confirmed + tally.expired).toBe(HOLDS * SKEWS.length);
});
