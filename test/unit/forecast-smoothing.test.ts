import fc from 'fast-check';
import fixtures from '../fixtures/forecast/smoothing.json';
import {
  fitHolt,
  fitHoltWinters,
  fitSes,
  holt,
  holtWinters,
  naive,
  seasonalNaive,
  ses,
  type SmoothingResult,
} from '../../functions/forecasting/smoothing';

// Fixtures: test/fixtures/forecast/make-smoothing-fixtures.py (statsmodels 0.13.5, known initial states, fixed params).
const cases = fixtures.cases;
const SSE_TOLERANCE = 0.05; // a fitter's SSE may exceed statsmodels' optimised SSE by at most 5%

let maxRelError = 0;
function expectClose(actual: readonly number[], expected: readonly number[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i] as number;
    const err = Math.abs(a - e);
    if (Math.abs(e) < 1e-3) {
      expect(err).toBeLessThanOrEqual(1e-9);
    } else {
      maxRelError = Math.max(maxRelError, err / Math.abs(e));
      expect(err / Math.abs(e)).toBeLessThanOrEqual(1e-6);
    }
  });
}
const allFinite = (r: SmoothingResult) => [...r.fitted, ...r.forecast, r.sse].every(Number.isFinite);

afterAll(() => {
  // Reported in the hand-over, not asserted beyond 1e-6.
  console.log(`max relative error against statsmodels: ${maxRelError.toExponential(2)}`);
});

describe('fixed-parameter methods equal statsmodels', () => {
  describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    test('ses fitted values, forecast and sse equal SimpleExpSmoothing', () => {
      const f = c.fixed.ses;
      const r = ses(c.series, f.params, c.horizon);
      expectClose(r.fitted, f.fitted);
      expectClose(r.forecast, f.forecast);
      expectClose([r.sse], [f.sse]);
    });
    test('holt fitted values, forecast and sse equal Holt', () => {
      const f = c.fixed.holt;
      const r = holt(c.series, f.params, c.horizon);
      expectClose(r.fitted, f.fitted);
      expectClose(r.forecast, f.forecast);
      expectClose([r.sse], [f.sse]);
    });
    test('holtWinters fitted values and sse equal additive ExponentialSmoothing, forecast equals its textbook (bug #9538 fixed) form', () => {
      const f = c.fixed.holtWinters;
      const r = holtWinters(c.series, f.params, c.horizon);
      expectClose(r.fitted, f.fitted);
      expectClose(r.forecast, f.forecast);
      expectClose([r.sse], [f.sse]);
      // statsmodels' raw forecast differs only where its last seasonal factor is stale: h a multiple of the period.
      const offSeason = (xs: number[]) => xs.filter((_, i) => (i + 1) % f.params.period !== 0);
      expectClose(offSeason(r.forecast), offSeason(f.forecast_statsmodels));
    });
  });
});

describe('naive methods', () => {
  test('naive repeats the last value for every horizon step', () => {
    expect(naive([3, 1, 4, 1, 5], 3)).toEqual([5, 5, 5]);
    expect(naive([2], 0)).toEqual([]);
  });
  test('seasonalNaive repeats the last full season, cycling past one period', () => {
    const week = [1, 2, 3, 4, 5, 6, 7, 10, 20, 30, 40, 50, 60, 70];
    expect(seasonalNaive(week, 9)).toEqual([10, 20, 30, 40, 50, 60, 70, 10, 20]);
    expect(seasonalNaive([1, 2, 3, 4, 5], 4, 2)).toEqual([4, 5, 4, 5]);
  });
  test('naive on an empty series and seasonalNaive shorter than a period throw a RangeError', () => {
    expect(() => naive([], 3)).toThrow(RangeError);
    expect(() => seasonalNaive([1, 2, 3], 3, 7)).toThrow(/at least 7/);
  });
});

describe('fitters', () => {
  describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    test('fitSes SSE is within 5% of statsmodels optimised SSE and alpha is in [0,1]', () => {
      const r = fitSes(c.series, c.horizon);
      expect(r.sse).toBeLessThanOrEqual(c.optimized.ses.sse * (1 + SSE_TOLERANCE) + 1e-9);
      expect(r.params.alpha).toBeGreaterThanOrEqual(0);
      expect(r.params.alpha).toBeLessThanOrEqual(1);
      expect(r.forecast).toHaveLength(c.horizon);
      expect(r.fitted).toHaveLength(c.series.length);
    });
    test('fitHolt SSE is within 5% of statsmodels optimised SSE and alpha, beta are in [0,1]', () => {
      const r = fitHolt(c.series, c.horizon);
      expect(r.sse).toBeLessThanOrEqual(c.optimized.holt.sse * (1 + SSE_TOLERANCE) + 1e-9);
      for (const p of [r.params.alpha, r.params.beta]) expect(p >= 0 && p <= 1).toBe(true);
    });
    test('fitHoltWinters SSE is within 5% of statsmodels optimised SSE and alpha, beta, gamma are in [0,1]', () => {
      const r = fitHoltWinters(c.series, c.horizon, 7);
      expect(r.sse).toBeLessThanOrEqual(c.optimized.holtWinters.sse * (1 + SSE_TOLERANCE) + 1e-9);
      for (const p of [r.params.alpha, r.params.beta, r.params.gamma]) expect(p >= 0 && p <= 1).toBe(true);
      expect(r.params.seasonal0).toHaveLength(7);
    });
  });
  test('fitters are deterministic: the same input gives the same output', () => {
    const y = cases[2]!.series;
    expect(fitSes(y, 7)).toEqual(fitSes(y, 7));
    expect(fitHolt(y, 7)).toEqual(fitHolt(y, 7));
    expect(fitHoltWinters(y, 7)).toEqual(fitHoltWinters(y, 7));
  });
  test('a warm start (the constants of an earlier, overlapping window) finds the cold fit SSE within 0.1%; a malformed one is ignored', () => {
    for (const c of cases) {
      const y = c.series;
      const cut = Math.floor(y.length * 0.75);
      const early = y.slice(0, cut);
      const late = y.slice(y.length - cut);
      const e = fitHoltWinters(early, 7);
      const warm = fitHoltWinters(late, 7, 7, { start: [e.params.alpha, e.params.beta, e.params.gamma] });
      expect(warm.sse).toBeLessThanOrEqual(fitHoltWinters(late, 7).sse * 1.001 + 1e-9);
      const h = fitHolt(early, 7);
      expect(fitHolt(late, 7, { start: [h.params.alpha, h.params.beta] }).sse).toBeLessThanOrEqual(fitHolt(late, 7).sse * 1.001 + 1e-9);
      const s = fitSes(early, 7);
      expect(fitSes(late, 7, { start: [s.params.alpha] }).sse).toBeLessThanOrEqual(fitSes(late, 7).sse * 1.001 + 1e-9);
    }
    const y = cases[0]!.series;
    expect(fitHoltWinters(y, 7, 7, { start: [2, 0, 0] })).toEqual(fitHoltWinters(y, 7));
    expect(fitSes(y, 7, { start: [0.1, 0.2] })).toEqual(fitSes(y, 7));
  });
  test('long series (the coarse grid and one local search): SSE within 0.1% of the best of a multi-start search', () => {
    // The statsmodels fixtures are short (< 120 days), so they exercise the fine grid; the 182-day windows that
    // forecastSeries fits use the coarse one. The reference here: the local search warm-started from every point
    // of a 5^k grid, the best of them.
    let seed = 17;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const week = [0, 3, 5, 2, 9, -7, -12];
    const shapes = [
      (t: number) => 20 + (week[t % 7] as number) + 4 * (rand() - 0.5),
      (t: number) => 5 + 0.08 * t + (week[t % 7] as number) * 0.4 + 3 * rand(),
      (t: number) => (t < 120 ? 10 : 22) + (week[t % 7] as number) * (t / 182) + 4 * rand(),
    ];
    const starts = [0, 0.25, 0.5, 0.75, 1];
    for (const shape of shapes) {
      const y = Array.from({ length: 182 }, (_, t) => Math.max(0, shape(t)));
      let best = Infinity;
      for (const a of starts) for (const b of starts) for (const g of starts) best = Math.min(best, fitHoltWinters(y, 7, 7, { start: [a, b, g] }).sse);
      expect(fitHoltWinters(y, 7).sse).toBeLessThanOrEqual(best * 1.001);
      let bestHolt = Infinity;
      for (const a of starts) for (const b of starts) bestHolt = Math.min(bestHolt, fitHolt(y, 7, { start: [a, b] }).sse);
      expect(fitHolt(y, 7).sse).toBeLessThanOrEqual(bestHolt * 1.001);
      let bestSes = Infinity;
      for (const a of starts) bestSes = Math.min(bestSes, fitSes(y, 7, { start: [a] }).sse);
      expect(fitSes(y, 7).sse).toBeLessThanOrEqual(bestSes * 1.001);
    }
  });
  test('a fitter returns the fixed-parameter method evaluated at its chosen params', () => {
    const y = cases[2]!.series;
    const r = fitHoltWinters(y, 14);
    const { params, ...rest } = r;
    expect(holtWinters(y, params, 14)).toEqual(rest);
  });
});

describe('degenerate inputs', () => {
  test('empty series: fitters throw a RangeError', () => {
    expect(() => fitSes([], 3)).toThrow(RangeError);
    expect(() => fitHolt([], 3)).toThrow(RangeError);
    expect(() => fitHoltWinters([], 3)).toThrow(RangeError);
  });
  test('one value: fitSes gives finite outputs that forecast that value; fitHolt throws a RangeError', () => {
    const r = fitSes([4], 3);
    expect(allFinite(r)).toBe(true);
    r.forecast.forEach((v) => expect(v).toBeCloseTo(4, 9));
    expect(() => fitHolt([4], 3)).toThrow(/at least 2/);
  });
  test('too short for Holt-Winters (under 2 full seasons): fitHoltWinters throws a RangeError naming the need', () => {
    expect(() => fitHoltWinters([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 7)).toThrow(/at least 14/);
    expect(() => fitHoltWinters([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], 7)).not.toThrow();
  });
  test.each([
    ['all zeros', new Array<number>(21).fill(0), 0],
    ['constant', new Array<number>(21).fill(12.5), 12.5],
  ])('%s: every fitter gives finite outputs, zero SSE and a flat forecast at the value', (_n, y, value) => {
    for (const r of [fitSes(y, 10), fitHolt(y, 10), fitHoltWinters(y, 10)]) {
      expect(allFinite(r)).toBe(true);
      expect(r.sse).toBeLessThan(1e-12);
      r.forecast.forEach((v) => expect(v).toBeCloseTo(value, 6));
    }
  });
  test('fixed-parameter methods on an empty series give finite forecasts from the initial states', () => {
    expect(ses([], { alpha: 0.5, level0: 3 }, 2)).toEqual({ fitted: [], forecast: [3, 3], sse: 0 });
    expect(holt([], { alpha: 0.5, beta: 0.5, level0: 3, trend0: 1 }, 2).forecast).toEqual([4, 5]);
  });
  test('invalid parameters and inputs throw a RangeError, never a NaN', () => {
    expect(() => ses([1, 2], { alpha: 1.5, level0: 0 }, 1)).toThrow(RangeError);
    expect(() => ses([1, Number.NaN], { alpha: 0.5, level0: 0 }, 1)).toThrow(RangeError);
    expect(() => ses([1, -2], { alpha: 0.5, level0: 0 }, 1)).toThrow(RangeError);
    expect(() => fitSes([1, 2], -1)).toThrow(RangeError);
    expect(() => holtWinters([1], { alpha: 0.1, beta: 0.1, gamma: 0.1, period: 7, level0: 0, trend0: 0, seasonal0: [0] }, 1)).toThrow(/seasonal0/);
  });
});

describe('property', () => {
  test('forecasts (and fitted values, SSE) are finite for any non-negative series of length >= 14 with values up to 1e6', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 14, maxLength: 60 }), (y) => {
        expect([...naive(y, 7), ...seasonalNaive(y, 7)].every(Number.isFinite)).toBe(true);
        for (const r of [fitSes(y, 7), fitHolt(y, 7), fitHoltWinters(y, 7)]) expect(allFinite(r)).toBe(true);
      }),
      { numRuns: 25, seed: 10 },
    );
  });
});
