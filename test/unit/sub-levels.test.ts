import fc from 'fast-check';
import { distribute, isUneven, rebalanceMoves, spread, summed, type Part } from '../../functions/inventory/sub-levels';
import { emptyLevel } from '../../functions/inventory/model';
import type { IncrementType } from '../../functions/inventory/stock-rules';

const part = (index: number): fc.Arbitrary<Part> =>
  fc.record({ on_hand: fc.nat(500), reserved: fc.nat(500) }).map(({ on_hand, reserved }) => {
    const held = Math.min(on_hand, reserved);
    return { index, on_hand, reserved: held, available: on_hand - held };
  });
const parts: fc.Arbitrary<Part[]> = fc.integer({ min: 1, max: 10 }).chain((k) => fc.tuple(...Array.from({ length: k }, (_, i) => part(i))));
const total = (ps: readonly Part[], field: 'on_hand' | 'reserved' | 'available'): number => ps.reduce((n, p) => n + p[field], 0);

describe('distribute', () => {
  test('keeps every unit, never leaves a part below zero available, and shares differ by at most one', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(100_000), fc.integer({ min: 1, max: 10 }), (a, b, k) => {
        const onHand = Math.max(a, b);
        const reserved = Math.min(a, b);
        const out = distribute({ on_hand: onHand, reserved }, k);
        expect(out).toHaveLength(k);
        expect(total(out, 'on_hand')).toBe(onHand);
        expect(total(out, 'reserved')).toBe(reserved);
        for (const p of out) {
          expect(p.available).toBe(p.on_hand - p.reserved);
          expect(p.available).toBeGreaterThanOrEqual(0);
        }
        const shares = out.map((p) => p.on_hand);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('spread', () => {
  const guarded: { type: IncrementType; field: 'available' | 'reserved' }[] = [
    { type: 'sale', field: 'available' },
    { type: 'allocation', field: 'available' },
    { type: 'transfer_out', field: 'available' },
    { type: 'release', field: 'reserved' },
    { type: 'shipment', field: 'reserved' },
  ];

  test('covers a guarded change exactly when the parts together can, never taking more from a part than it holds', () => {
    fc.assert(
      fc.property(parts, fc.constantFrom(...guarded), fc.integer({ min: 1, max: 3000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (ps, { type, field }, quantity, r) => {
        const out = spread(ps, { type, quantity }, () => r);
        if (ps.length === 1) {
          // One part: it is sub-level 0, and the level's own guard decides.
          expect(out).toEqual([{ index: 0, quantity }]);
          return;
        }
        if (total(ps, field) < quantity) {
          expect(out).toBe('short');
          return;
        }
        expect(out).not.toBe('short');
        if (out === 'short') return;
        expect(out.reduce((n, piece) => n + piece.quantity, 0)).toBe(quantity);
        expect(new Set(out.map((piece) => piece.index)).size).toBe(out.length);
        for (const piece of out) {
          const from = ps.find((p) => p.index === piece.index);
          expect(piece.quantity).toBeGreaterThan(0);
          expect(piece.quantity).toBeLessThanOrEqual(from?.[field] ?? -1);
        }
        // A part that can take it whole takes it alone.
        if (ps.some((p) => p[field] >= quantity)) expect(out).toHaveLength(1);
      }),
    );
  });

  test('a negative adjustment is spread like a sale and keeps its sign; arrivals go to one part; incoming stays on sub-level 0', () => {
    fc.assert(
      fc.property(parts.filter((ps) => ps.length > 1), fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (ps, n, r) => {
        const adjusted = spread(ps, { type: 'adjustment', quantity: -n }, () => r);
        if (total(ps, 'available') < n) expect(adjusted).toBe('short');
        else if (adjusted !== 'short') {
          expect(adjusted.reduce((s, piece) => s + piece.quantity, 0)).toBe(-n);
          for (const piece of adjusted) expect(piece.quantity).toBeLessThan(0);
        }
        const restock = spread(ps, { type: 'restock', quantity: n }, () => r);
        expect(restock).toEqual([{ index: ps[Math.floor(r * ps.length)]!.index, quantity: n }]);
        for (const type of ['purchase_ordered', 'receipt', 'purchase_cancelled'] as const) expect(spread(ps, { type, quantity: n }, () => r)).toEqual([{ index: 0, quantity: n }]);
      }),
    );
  });
});

test('a split level is the sum of its parts, its version the sum of theirs, its last update the latest of any', () => {
  const header = { ...emptyLevel('s', 'w'), on_hand: 5, reserved: 2, available: 3, incoming: 7, version: 4, updated_at: '2026-01-01T00:00:00.000Z', sub_levels: 3 };
  const sub = (i: number, on_hand: number, reserved: number, version: number, updated_at: string) => ({
    sku_id: 's', warehouse_id: 'w', sub_level: i, generation: 1, on_hand, reserved, available: on_hand - reserved, version, updated_at,
  });
  expect(summed({ header, subs: [sub(1, 10, 1, 6, '2026-01-03T00:00:00.000Z'), sub(2, 0, 0, 2, '2026-01-02T00:00:00.000Z')] })).toMatchObject({
    on_hand: 15, reserved: 3, available: 12, incoming: 7, version: 12, updated_at: '2026-01-03T00:00:00.000Z', sub_levels: 3,
  });
});

describe('rebalanceMoves', () => {
  test('moves only available units, gains or loses none, never takes a part below zero, and leaves shares within one of each other', () => {
    fc.assert(
      fc.property(parts, (ps) => {
        const moves = rebalanceMoves(ps);
        expect(moves.reduce((n, m) => n + m.delta, 0)).toBe(0);
        const after = ps.map((p) => p.available + (moves.find((m) => m.index === p.index)?.delta ?? 0));
        for (const a of after) expect(a).toBeGreaterThanOrEqual(0);
        expect(Math.max(...after) - Math.min(...after)).toBeLessThanOrEqual(1);
        for (const m of moves) expect(m.delta).not.toBe(0);
        // Evened out, a level is no longer uneven and needs no further move.
        const evened = ps.map((p, i) => ({ ...p, available: after[i]! }));
        expect(rebalanceMoves(evened)).toEqual([]);
        if (ps.reduce((n, p) => n + p.available, 0) >= 2 * ps.length) expect(isUneven(evened)).toBe(false);
      }),
    );
  });
});
