import fc from 'fast-check';
import { LOOKBACK_PERIODS, uncensor } from '../../functions/forecasting/censored';

describe('stock-out days in a demand series', () => {
  it('drops the leading stocked-out days (listed before it was ever in stock) and keeps the rest as they are when nothing is censored', () => {
    expect(uncensor([0, 0, 5, 6, 7], [true, true, false, false, false])).toEqual({ demand: [5, 6, 7], dropped: 2, estimated: 0 });
    expect(uncensor([1, 2, 3], [false, false, false])).toEqual({ demand: [1, 2, 3], dropped: 0, estimated: 0 });
    expect(uncensor([0, 0], [true, true])).toEqual({ demand: [], dropped: 2, estimated: 0 });
  });

  it('estimates a censored day from the same weekday of the previous weeks in stock, never below what it did sell', () => {
    // Period 7; day 14 is censored: days 7 and 0 (same weekday) sold 10 and 20 -> 15.
    const demand: number[] = Array.from({ length: 15 }, (_, i) => (i === 0 ? 20 : i === 7 ? 10 : 3));
    const stockedOut = demand.map((_, i) => i === 14);
    demand[14] = 2;
    expect(uncensor(demand, stockedOut, 7).demand[14]).toBe(15);
    // A sold-out day that sold more than the estimate keeps its sales: they are a floor of demand.
    demand[14] = 40;
    expect(uncensor(demand, stockedOut, 7).demand[14]).toBe(40);
  });

  it('falls back to the recent in-stock days when no same weekday was in stock, and to the observed value with nothing to learn from', () => {
    // Day 0 is censored (and dropped, leading); day 7 is censored and its weekday's only earlier day is gone:
    // the mean of the in-stock days before it (days 1..6, all 4) is its estimate.
    const demand = [0, 4, 4, 4, 4, 4, 4, 1];
    const stockedOut = [true, false, false, false, false, false, false, true];
    expect(uncensor(demand, stockedOut, 7)).toEqual({ demand: [4, 4, 4, 4, 4, 4, 4], dropped: 1, estimated: 1 });
    // A censored day with no in-stock day before it at all keeps what it sold.
    expect(uncensor([3, 0, 2], [false, true, true], 7).demand).toEqual([3, 3, 3]);
    expect(uncensor([5, 1], [true, false], 7).demand).toEqual([1]);
  });

  it('never lowers a value, never touches an in-stock day, and only looks back (a property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(50), fc.boolean()), { maxLength: 120 }), fc.integer({ min: 1, max: 14 }), (days, period) => {
        const demand = days.map(([d]) => d);
        const out = days.map(([, o]) => o);
        const result = uncensor(demand, out, period);
        const kept = demand.slice(result.dropped);
        expect(result.demand).toHaveLength(kept.length);
        result.demand.forEach((value, i) => {
          expect(value).toBeGreaterThanOrEqual(kept[i] as number);
          if (!out[result.dropped + i]) expect(value).toBe(kept[i]);
          expect(Number.isFinite(value)).toBe(true);
        });
        // Changing a later day never changes an earlier estimate.
        if (result.demand.length > 1) {
          const changed = [...demand];
          changed[demand.length - 1] = (changed[demand.length - 1] as number) + 100;
          expect(uncensor(changed, out, period).demand.slice(0, -1)).toEqual(result.demand.slice(0, -1));
        }
      }),
    );
    expect(LOOKBACK_PERIODS).toBe(4);
  });
});
