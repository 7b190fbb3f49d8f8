import fc from 'fast-check';
import { AppError } from '../../functions/platform/errors';
import { emptyLevel, type StockLevel } from '../../functions/inventory/model';
import { applyChange, checkExpectations, incrementEffect, MAX_ON_HAND, refusalFor, type IncrementType, type LevelChange } from '../../functions/inventory/stock-rules';

const NOW = '2026-01-01T00:00:00.000Z';
const stocked = (on_hand: number, reserved = 0): StockLevel => ({
  ...emptyLevel('sku', 'wh'),
  on_hand,
  reserved,
  available: on_hand - reserved,
  version: 3,
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
};

describe('applyChange', () => {
  test('a sale takes units from on_hand and available and bumps the version', () => {
    const { level, deltas } = applyChange(stocked(10), { type: 'sale', quantity: 4 }, NOW);
    expect(level).toMatchObject({ on_hand: 6, available: 6, reserved: 0, version: 4, updated_at: NOW });
    expect(deltas).toEqual({ on_hand: -4, reserved: 0, available: -4, incoming: 0 });
  });

  test('a sale of exactly what is available empties the level', () => {
    expect(applyChange(stocked(5), { type: 'sale', quantity: 5 }, NOW).level.available).toBe(0);
  });

  test('a sale of more than is available is refused with INSUFFICIENT_STOCK and its figures', () => {
    try {
      applyChange(stocked(5, 2), { type: 'sale', quantity: 4 }, NOW);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('INSUFFICIENT_STOCK');
      expect((error as AppError).details).toMatchObject({ available: 3, requested: 4 });
    }
  });

  test('reserved units cannot be sold', () => {
    expect(codeOf(() => applyChange(stocked(5, 5), { type: 'sale', quantity: 1 }, NOW))).toBe('INSUFFICIENT_STOCK');
  });

  test('a restock of a never-stocked level creates version 1', () => {
    const { level } = applyChange(emptyLevel('sku', 'wh'), { type: 'restock', quantity: 7 }, NOW);
    expect(level).toMatchObject({ on_hand: 7, available: 7, version: 1 });
  });

  test('a negative adjustment cannot take available below zero', () => {
    expect(codeOf(() => applyChange(stocked(3), { type: 'adjustment', quantity: -4 }, NOW))).toBe('INSUFFICIENT_STOCK');
    expect(applyChange(stocked(3), { type: 'adjustment', quantity: -3 }, NOW).level.on_hand).toBe(0);
  });

  test('a count sets on_hand to the counted figure and records the difference', () => {
    const up = applyChange(stocked(10, 2), { type: 'count', quantity: 13 }, NOW);
    expect(up.level).toMatchObject({ on_hand: 13, reserved: 2, available: 11 });
    expect(up.deltas.on_hand).toBe(3);
    const down = applyChange(stocked(10), { type: 'count', quantity: 0 }, NOW);
    expect(down.deltas.on_hand).toBe(-10);
    expect(down.level.available).toBe(0);
  });

  test('a count below the reserved units is refused instead of leaving available negative', () => {
    expect(codeOf(() => applyChange(stocked(10, 6), { type: 'count', quantity: 5 }, NOW))).toBe('CONFLICT');
  });

  test('on_hand cannot grow past the documented ceiling', () => {
    expect(codeOf(() => applyChange(stocked(MAX_ON_HAND), { type: 'restock', quantity: 1 }, NOW))).toBe('CONFLICT');
  });

  test('transfer_out and transfer_in move units like a sale and a restock', () => {
    expect(applyChange(stocked(4), { type: 'transfer_out', quantity: 4 }, NOW).level.on_hand).toBe(0);
    expect(applyChange(stocked(4), { type: 'transfer_in', quantity: 4 }, NOW).level.on_hand).toBe(8);
  });
});

describe('reservations', () => {
  test('an allocation moves units from available to reserved, never below zero available', () => {
    const { level, deltas } = applyChange(stocked(5), { type: 'allocation', quantity: 3 }, NOW);
    expect(level).toMatchObject({ on_hand: 5, reserved: 3, available: 2 });
    expect(deltas).toEqual({ on_hand: 0, reserved: 3, available: -3, incoming: 0 });
    expect(codeOf(() => applyChange(level, { type: 'allocation', quantity: 3 }, NOW))).toBe('INSUFFICIENT_STOCK');
  });
  test('a release gives reserved units back to available; more than reserved is refused', () => {
    expect(applyChange(stocked(5, 3), { type: 'release', quantity: 3 }, NOW).level).toMatchObject({ reserved: 0, available: 5 });
    expect(codeOf(() => applyChange(stocked(5, 3), { type: 'release', quantity: 4 }, NOW))).toBe('CONFLICT');
  });
  test('a shipment takes reserved units off on_hand, leaving available unchanged', () => {
    const { level, deltas } = applyChange(stocked(5, 3), { type: 'shipment', quantity: 2 }, NOW);
    expect(level).toMatchObject({ on_hand: 3, reserved: 1, available: 2 });
    expect(deltas.available).toBe(0);
    expect(codeOf(() => applyChange(stocked(5, 1), { type: 'shipment', quantity: 2 }, NOW))).toBe('CONFLICT');
  });
});

describe('checkExpectations (compare-and-set)', () => {
  test('matching expected values pass', () => {
    expect(() => checkExpectations(stocked(5), { expected_available: 5, expected_version: 3 })).not.toThrow();
  });
  test('a stale expected_version is a VERSION_CONFLICT carrying the current level', () => {
    try {
      checkExpectations(stocked(5), { expected_version: 2 });
      throw new Error('expected a conflict');
    } catch (error) {
      expect((error as AppError).code).toBe('VERSION_CONFLICT');
      expect((error as AppError).details).toMatchObject({ current: { version: 3, available: 5 } });
    }
  });
  test('a stale expected_available is a VERSION_CONFLICT', () => {
    expect(codeOf(() => checkExpectations(stocked(5), { expected_available: 4 }))).toBe('VERSION_CONFLICT');
  });
});

const changeArb: fc.Arbitrary<LevelChange> = fc.oneof(
  fc.record({ type: fc.constant('sale' as const), quantity: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ type: fc.constant('restock' as const), quantity: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ type: fc.constant('adjustment' as const), quantity: fc.integer({ min: -50, max: 50 }).filter((n) => n !== 0) }),
  fc.record({ type: fc.constant('count' as const), quantity: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ type: fc.constant('transfer_out' as const), quantity: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ type: fc.constant('transfer_in' as const), quantity: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ type: fc.constantFrom('allocation' as const, 'release' as const, 'shipment' as const), quantity: fc.integer({ min: 1, max: 30 }) }),
);

test('for any sequence of changes (reservations included), on_hand and reserved are the sums of applied deltas, available = on_hand - reserved, nothing goes negative', () => {
  fc.assert(
    fc.property(fc.array(changeArb, { maxLength: 60 }), (changes) => {
      let level = emptyLevel('sku', 'wh');
      let sumOfDeltas = 0;
      let reservedDeltas = 0;
      let applied = 0;
      for (const change of changes) {
        try {
          const result = applyChange(level, change, NOW);
          level = result.level;
          sumOfDeltas += result.deltas.on_hand;
          reservedDeltas += result.deltas.reserved;
          applied++;
        } catch (error) {
          // Refusals change nothing and are always domain errors.
          expect(error).toBeInstanceOf(AppError);
        }
        expect(level.on_hand).toBe(sumOfDeltas);
        expect(level.reserved).toBe(reservedDeltas);
        expect(level.reserved).toBeGreaterThanOrEqual(0);
        expect(level.available).toBe(level.on_hand - level.reserved);
        expect(level.on_hand).toBeGreaterThanOrEqual(0);
        expect(level.available).toBeGreaterThanOrEqual(0);
        expect(level.version).toBe(applied);
      }
    }),
    { numRuns: 300 },
  );
});

describe('increments (the blind write and the read path agree)', () => {
  const INCREMENT_TYPES: IncrementType[] = ['sale', 'restock', 'adjustment', 'transfer_out', 'transfer_in', 'allocation', 'release', 'shipment', 'purchase_ordered', 'purchase_cancelled', 'receipt'];
  // Levels near zero and near the ceiling, where the guards bite.
  const edge = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: MAX_ON_HAND - 20, max: MAX_ON_HAND }));
  const levelArb = fc
    .record({ on_hand: edge, reservedShare: fc.integer({ min: 0, max: 20 }), incoming: edge })
    .map(({ on_hand, reservedShare, incoming }) => ({ ...stocked(on_hand, Math.min(on_hand, reservedShare)), incoming }));
  const changeArb = fc
    .record({ type: fc.constantFrom(...INCREMENT_TYPES), quantity: fc.integer({ min: 1, max: 25 }), negative: fc.boolean() })
    .map(({ type, quantity, negative }) => ({ type, quantity: type === 'adjustment' && negative ? -quantity : quantity }));
  const valid = (q: { on_hand: number; reserved: number; available: number; incoming: number }): boolean =>
    q.on_hand >= 0 && q.reserved >= 0 && q.available >= 0 && q.incoming >= 0 && q.on_hand <= MAX_ON_HAND && q.incoming <= MAX_ON_HAND && q.available === q.on_hand - q.reserved;

  test('property: a change is refused exactly when the level it would leave is invalid, by the same error on both paths, and its deltas are the increment written blind', () => {
    fc.assert(
      fc.property(levelArb, changeArb, (level, change) => {
        const { deltas } = incrementEffect(change);
        const after = {
          on_hand: level.on_hand + deltas.on_hand,
          reserved: level.reserved + deltas.reserved,
          available: level.available + deltas.available,
          incoming: level.incoming + deltas.incoming,
        };
        const refused = refusalFor(level, change);
        expect(refused === undefined).toBe(valid(after));
        if (refused) {
          // The read path (applyChange) throws the very error the failed write condition is explained with.
          expect(() => applyChange(level, change, NOW)).toThrow(refused.message);
          expect(['INSUFFICIENT_STOCK', 'CONFLICT']).toContain(refused.code);
        } else {
          const applied = applyChange(level, change, NOW);
          expect(applied.deltas).toEqual(deltas);
          expect(applied.level).toMatchObject({ ...after, version: level.version + 1 });
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('a sale the level cannot cover is explained as INSUFFICIENT_STOCK with what is available', () => {
    expect(refusalFor(stocked(3, 1), { type: 'sale', quantity: 5 })).toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { available: 2, requested: 5 } });
  });
});
