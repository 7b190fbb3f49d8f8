import fc from 'fast-check';
import {
  ADI_CUTOFF,
  CV2_CUTOFF,
  GRID,
  classify,
  croston,
  fitCroston,
  fitSba,
  fitTsb,
  sba,
  tsb,
  type ForecastResult,
} from '../../functions/forecasting/intermittent';

const TOL = 1e-12;

const expectNear = (actual: readonly number[], expected: readonly number[]): void => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    if (Math.abs(a - (expected[i] as number)) > TOL) throw new Error(`index ${i}: ${a} is not within ${TOL} of ${expected[i]}`);
  });
};

const sse = (series: readonly number[], fitted: readonly number[]): number => series.reduce((acc, y, t) => acc + (y - (fitted[t] as number)) ** 2, 0);

// Periods:       1  2  3  4  5  6  7  8  9  10
// Index t:       0  1  2  3  4  5  6  7  8  9
const S: readonly number[] = [0, 0, 3, 0, 0, 0, 2, 0, 5, 0];

describe('Croston on [0,0,3,0,0,0,2,0,5,0], by hand', () => {
  test('alpha 0.1: fitted 0 up to the first demand, then z/p updated only on demand periods', () => {
    // fitted[0..2] = 0: no demand seen before or at t=2.
    // t=2, y=3: init z=3 (first size), p=3 (first interval, periods 1..3). Ratio 3/3 = 1.
    // fitted[3..6] = 1 (zeros change nothing).
    // t=6, y=2, q=6-2=4: z = 3 + 0.1(2-3) = 2.9; p = 3 + 0.1(4-3) = 3.1. Ratio 29/31 ≈ 0.935483870968.
    // fitted[7], fitted[8] = 29/31.
    // t=8, y=5, q=8-6=2: z = 2.9 + 0.1(5-2.9) = 3.11; p = 3.1 + 0.1(2-3.1) = 2.99. Ratio 311/299 ≈ 1.040133779264.
    // fitted[9] = 311/299; t=9 is zero, so forecast = 311/299.
    // sse = 9 (t=2) + 1+1+1 (t=3..5) + 1 (t=6: 2-1) + (29/31)^2 + (5-29/31)^2 + (311/299)^2 ≈ 31.477299714771.
    const r = croston(S, { alpha: 0.1 }, 3);
    const fitted = [0, 0, 0, 1, 1, 1, 1, 29 / 31, 29 / 31, 311 / 299];
    expectNear(r.fitted, fitted);
    expectNear(r.forecast, [311 / 299, 311 / 299, 311 / 299]);
    expectNear([r.sse], [13 + (29 / 31) ** 2 + (5 - 29 / 31) ** 2 + (311 / 299) ** 2]);
    expectNear([r.sse], [31.477299714771]);
  });

  test('alpha 0.5: the same recurrence with a larger step', () => {
    // t=2: z=3, p=3, ratio 1; fitted[3..6] = 1.
    // t=6, y=2, q=4: z = 3 + 0.5(2-3) = 2.5; p = 3 + 0.5(4-3) = 3.5. Ratio 5/7 ≈ 0.714285714286.
    // t=8, y=5, q=2: z = 2.5 + 0.5(5-2.5) = 3.75; p = 3.5 + 0.5(2-3.5) = 2.75. Ratio 15/11 ≈ 1.363636363636.
    // sse = 9 + 1+1+1 + 1 + (5/7)^2 + (5-5/7)^2 + (15/11)^2.
    const r = croston(S, { alpha: 0.5 }, 2);
    expectNear(r.fitted, [0, 0, 0, 1, 1, 1, 1, 5 / 7, 5 / 7, 15 / 11]);
    expectNear(r.forecast, [15 / 11, 15 / 11]);
    expectNear([r.sse], [13 + (5 / 7) ** 2 + (5 - 5 / 7) ** 2 + (15 / 11) ** 2]);
  });
});

describe('SBA on [0,0,3,0,0,0,2,0,5,0], by hand', () => {
  test('alpha 0.1: Croston ratios times 0.95, errors against the scaled forecasts', () => {
    // Factor 1 - 0.1/2 = 0.95 on the Croston ratios above: 1 -> 0.95, 29/31 -> 0.95*29/31, 311/299 -> 0.95*311/299.
    // sse = 9 + 3(0.95)^2 + (2-0.95)^2 + (0.95*29/31)^2 + (5-0.95*29/31)^2 + (0.95*311/299)^2.
    const r = sba(S, { alpha: 0.1 }, 1);
    const a = (0.95 * 29) / 31;
    const b = (0.95 * 311) / 299;
    expectNear(r.fitted, [0, 0, 0, 0.95, 0.95, 0.95, 0.95, a, a, b]);
    expectNear(r.forecast, [b]);
    expectNear([r.sse], [9 + 3 * 0.95 ** 2 + 1.05 ** 2 + a ** 2 + (5 - a) ** 2 + b ** 2]);
  });

  test('alpha 0.5: Croston ratios times 0.75', () => {
    // Factor 1 - 0.5/2 = 0.75: 1 -> 0.75, 5/7 -> 15/28, 15/11 -> 45/44.
    const r = sba(S, { alpha: 0.5 }, 1);
    expectNear(r.fitted, [0, 0, 0, 0.75, 0.75, 0.75, 0.75, 15 / 28, 15 / 28, 45 / 44]);
    expectNear(r.forecast, [45 / 44]);
    expectNear([r.sse], [9 + 3 * 0.75 ** 2 + 1.25 ** 2 + (15 / 28) ** 2 + (5 - 15 / 28) ** 2 + (45 / 44) ** 2]);
  });
});

describe('TSB on [0,0,3,0,0,0,2,0,5,0], by hand', () => {
  test('alphaDemand 0.1, alphaProbability 0.5: probability every period, size on demand periods only', () => {
    // t=2, y=3: init z=3, p=1/3 (one over the first interval). Forecast p*z = 1.
    // t=3, y=0: p = 1/3 + 0.5(0-1/3) = 1/6; forecast 0.5.      fitted[4] = 0.5
    // t=4, y=0: p = 1/12; forecast 0.25.                        fitted[5] = 0.25
    // t=5, y=0: p = 1/24; forecast 0.125.                       fitted[6] = 0.125
    // t=6, y=2: p = 1/24 + 0.5(1-1/24) = 25/48; z = 3 + 0.1(2-3) = 2.9; forecast 2.9*25/48 ≈ 1.510416666667.
    // t=7, y=0: p = 25/96; forecast 2.9*25/96 ≈ 0.755208333333.
    // t=8, y=5: p = 25/96 + 0.5(1-25/96) = 121/192; z = 2.9 + 0.1(5-2.9) = 3.11; forecast 3.11*121/192 ≈ 1.959947916667.
    // t=9, y=0: p = 121/384; forecast = 3.11*121/384 ≈ 0.979973958333 (the last zero lowers it, unlike Croston).
    const r = tsb(S, { alphaDemand: 0.1, alphaProbability: 0.5 }, 2);
    const fitted = [0, 0, 0, 1, 0.5, 0.25, 0.125, (2.9 * 25) / 48, (2.9 * 25) / 96, (3.11 * 121) / 192];
    expectNear(r.fitted, fitted);
    expectNear(r.forecast, [(3.11 * 121) / 384, (3.11 * 121) / 384]);
    expectNear([r.sse], [sse(S, fitted)]);
    // sse by hand: 9 + 1 + 0.25 + 0.0625 + (2-0.125)^2 + 1.510416666667^2 + (5-0.755208333333)^2 + 1.959947916667^2
    expectNear([r.sse], [9 + 1 + 0.25 + 0.0625 + 1.875 ** 2 + ((2.9 * 25) / 48) ** 2 + (5 - (2.9 * 25) / 96) ** 2 + ((3.11 * 121) / 192) ** 2]);
  });

  test('alphaDemand 0.5, alphaProbability 0.1: the two constants are not swapped', () => {
    // t=2: z=3, p=1/3, forecast 1.
    // t=3: p = 0.9/3 = 0.3, forecast 0.9.    t=4: p = 0.27, forecast 0.81.    t=5: p = 0.243, forecast 0.729.
    // t=6, y=2: p = 0.243 + 0.1(1-0.243) = 0.3187; z = 3 + 0.5(2-3) = 2.5; forecast 0.79675.
    // t=7: p = 0.28683; forecast 0.717075.
    // t=8, y=5: p = 0.28683 + 0.1(1-0.28683) = 0.358147; z = 2.5 + 0.5(5-2.5) = 3.75; forecast 1.34305125.
    // t=9: p = 0.3223323; forecast 3.75 * 0.3223323 = 1.208746125.
    const r = tsb(S, { alphaDemand: 0.5, alphaProbability: 0.1 }, 1);
    const fitted = [0, 0, 0, 1, 0.9, 0.81, 0.729, 0.79675, 0.717075, 1.34305125];
    expectNear(r.fitted, fitted);
    expectNear(r.forecast, [1.208746125]);
    // sse = 9 (t=2) + 1 (t=3) + 0.81 + 0.6561 + (2-0.729)^2 + 0.79675^2 + (5-0.717075)^2 + 1.34305125^2
    expectNear([r.sse], [9 + 1 + 0.81 + 0.6561 + 1.271 ** 2 + 0.79675 ** 2 + 4.282925 ** 2 + 1.34305125 ** 2]);
  });
});

const value = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 1e6, noNaN: true }));
const seriesArb = fc.oneof(
  fc.array(value, { maxLength: 200 }),
  fc.nat({ max: 200 }).map((n) => new Array<number>(n).fill(0)),
);
const alphaArb = fc.double({ min: 0, max: 1, noNaN: true });

describe('SBA and Croston', () => {
  test('SBA is Croston times (1 - alpha/2), in-sample and out of sample, on any series', () => {
    fc.assert(
      fc.property(seriesArb, alphaArb, fc.nat({ max: 20 }), (series, alpha, horizon) => {
        const c = croston(series, { alpha }, horizon);
        const s = sba(series, { alpha }, horizon);
        const k = 1 - alpha / 2;
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
        expect(s.fitted.every((f, i) => close(f, (c.fitted[i] as number) * k))).toBe(true);
        expect(s.forecast.every((f, i) => close(f, (c.forecast[i] as number) * k))).toBe(true);
      }),
    );
  });
});

describe('after demand stops', () => {
  const series = [...new Array<number>(10).fill(4), ...new Array<number>(60).fill(0)];

  test("TSB's forecast decays toward zero over a run of zeros, by (1 - alphaProbability) per period", () => {
    const r = tsb(series, { alphaDemand: 0.2, alphaProbability: 0.2 }, 5);
    const run = r.fitted.slice(10);
    for (let i = 1; i < run.length; i++) {
      expect(run[i]).toBeLessThan(run[i - 1] as number);
      expect((run[i] as number) / (run[i - 1] as number)).toBeCloseTo(0.8, 12);
    }
    expect(r.forecast[0]).toBeLessThan(4 * 0.8 ** 59);
    expect(r.forecast.every((f) => f === r.forecast[0])).toBe(true);
  });

  test("Croston's forecast stays flat at its last ratio over the same run", () => {
    const r = croston(series, { alpha: 0.2 }, 5);
    // Every period a demand of 4, every interval 1: z = 4, p = 1, ratio 4 until the end.
    expect(r.fitted.slice(10).every((f) => f === 4)).toBe(true);
    expect(r.forecast).toEqual([4, 4, 4, 4, 4]);
  });
});

const repeat = (pattern: readonly number[], times: number): number[] => Array.from({ length: times }, () => pattern).flat();

describe('classification', () => {
  test('smooth: a demand every period with steady sizes', () => {
    const c = classify(repeat([5, 6], 10));
    expect(c.class).toBe('smooth');
    expect(c.adi).toBe(1);
    expect(c.nonzero).toBe(20);
    expect(c.cv2).toBeCloseTo(0.25 / 30.25, 12);
  });

  test('erratic: a demand every period with sizes varying a lot', () => {
    // sizes 1 and 10: mean 5.5, population variance 20.25, CV² = 20.25 / 30.25 ≈ 0.669.
    const c = classify(repeat([1, 10], 10));
    expect(c.class).toBe('erratic');
    expect(c.cv2).toBeCloseTo(20.25 / 30.25, 12);
  });

  test('intermittent: a demand every other period with steady sizes', () => {
    const c = classify(repeat([0, 5, 0, 6], 5));
    expect(c).toEqual({ class: 'intermittent', adi: 2, cv2: expect.closeTo(0.25 / 30.25, 12), nonzero: 10 });
  });

  test('lumpy: a demand every other period with sizes varying a lot', () => {
    const c = classify(repeat([0, 1, 0, 10], 5));
    expect(c.class).toBe('lumpy');
    expect(c.adi).toBe(2);
  });

  test('ADI is series length over the count of demands, trailing zeros included', () => {
    expect(classify([5, 0, 0, 0]).adi).toBe(4);
    expect(classify([0, 0, 0, 5]).adi).toBe(4);
    expect(classify([5, 0, 5, 0]).adi).toBe(2);
  });

  test('ADI exactly 1.32 is intermittent, just below is smooth', () => {
    // 33 periods, 25 demands of 5: ADI 33/25 = 1.32.
    const at = classify([...repeat([0, 5], 8), ...new Array<number>(17).fill(5)]);
    expect(at).toEqual({ class: 'intermittent', adi: ADI_CUTOFF, cv2: 0, nonzero: 25 });
    // 33 periods, 26 demands: ADI ≈ 1.269.
    expect(classify([...repeat([0, 5], 7), ...new Array<number>(19).fill(5)]).class).toBe('smooth');
  });

  test('CV² exactly 0.49 is erratic, just below is smooth', () => {
    // sizes 3 and 17: mean 10, population variance 49, CV² = 49/100 = 0.49.
    const at = classify(repeat([3, 17], 6));
    expect(at.cv2).toBe(CV2_CUTOFF);
    expect(at.class).toBe('erratic');
    // sizes 4 and 16: mean 10, variance 36, CV² 0.36.
    expect(classify(repeat([4, 16], 6)).class).toBe('smooth');
  });

  test('ADI exactly 1.32 and CV² exactly 0.49 together is lumpy', () => {
    // 66 periods, 50 demands (25 of 3, 25 of 17): ADI 66/50 = 1.32, CV² 0.49.
    const c = classify([...repeat([0, 3, 0, 17], 8), ...repeat([3, 17], 17)]);
    expect(c).toEqual({ class: 'lumpy', adi: 1.32, cv2: 0.49, nonzero: 50 });
  });

  test('no_history for an empty or all-zero series, with null ADI and CV²', () => {
    expect(classify([])).toEqual({ class: 'no_history', adi: null, cv2: null, nonzero: 0 });
    expect(classify([0, 0, 0])).toEqual({ class: 'no_history', adi: null, cv2: null, nonzero: 0 });
  });

  test('a single demand has CV² 0 and is classed by ADI alone: smooth or intermittent', () => {
    expect(classify([7])).toEqual({ class: 'smooth', adi: 1, cv2: 0, nonzero: 1 });
    expect(classify([0, 0, 0, 4])).toEqual({ class: 'intermittent', adi: 4, cv2: 0, nonzero: 1 });
  });

  test('CV² is scale-free and finite even for the tiniest sizes', () => {
    expect(classify([5e-324, 5e-324])).toEqual({ class: 'smooth', adi: 1, cv2: 0, nonzero: 2 });
    expect(classify([1e6, 5e-324]).cv2).toBeCloseTo(1, 12);
  });
});

const finite = (r: ForecastResult, n: number, horizon: number): void => {
  expect(r.fitted).toHaveLength(n);
  expect(r.forecast).toHaveLength(horizon);
  for (const x of [...r.fitted, ...r.forecast, r.sse]) {
    if (!Number.isFinite(x) || x < 0) throw new Error(`not a finite non-negative number: ${x}`);
  }
};

describe('degenerate inputs', () => {
  test('no method or classification gives NaN or Infinity on any non-negative series, all zeros and empty included', () => {
    fc.assert(
      fc.property(seriesArb, alphaArb, alphaArb, fc.nat({ max: 30 }), (series, a, b, horizon) => {
        finite(croston(series, { alpha: a }, horizon), series.length, horizon);
        finite(sba(series, { alpha: a }, horizon), series.length, horizon);
        finite(tsb(series, { alphaDemand: a, alphaProbability: b }, horizon), series.length, horizon);
        const c = classify(series);
        for (const x of [c.adi, c.cv2]) if (x !== null && !Number.isFinite(x)) throw new Error(`classification gave ${x}`);
        expect(c.adi === null).toBe(c.nonzero === 0);
      }),
    );
  });

  test('a series without demand forecasts 0 everywhere with sse 0', () => {
    for (const r of [croston([0, 0, 0], { alpha: 0.3 }, 2), sba([], { alpha: 0.3 }, 2), tsb([0, 0], { alphaDemand: 0.3, alphaProbability: 0.3 }, 2)]) {
      expect(r.forecast).toEqual([0, 0]);
      expect(r.fitted.every((f) => f === 0)).toBe(true);
      expect(r.sse).toBe(0);
    }
  });

  test('invalid demand, smoothing constants or horizon are RangeErrors', () => {
    expect(() => croston([1, -1], { alpha: 0.1 }, 1)).toThrow(RangeError);
    expect(() => classify([1, Number.NaN])).toThrow(RangeError);
    expect(() => sba([1], { alpha: 1.5 }, 1)).toThrow(RangeError);
    expect(() => tsb([1], { alphaDemand: 0.1, alphaProbability: -0.1 }, 1)).toThrow(RangeError);
    expect(() => croston([1], { alpha: 0.1 }, 1.5)).toThrow(RangeError);
    expect(() => tsb([1], { alphaDemand: 0.1, alphaProbability: 0.1 }, -1)).toThrow(RangeError);
  });
});

describe('fitting', () => {
  test('the grid is 0.05 to 0.5 in steps of 0.05', () => {
    expect(GRID).toEqual([0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]);
  });

  test('fits are deterministic, pick params on the grid, and no grid point has a smaller in-sample error', () => {
    fc.assert(
      fc.property(seriesArb, (series) => {
        const c = fitCroston(series, 3);
        const s = fitSba(series, 3);
        const t = fitTsb(series, 3);
        expect(fitCroston(series, 3)).toEqual(c);
        expect(fitSba(series, 3)).toEqual(s);
        expect(fitTsb(series, 3)).toEqual(t);
        expect(GRID).toContain(c.params.alpha);
        expect(GRID).toContain(s.params.alpha);
        expect(GRID).toContain(t.params.alphaDemand);
        expect(GRID).toContain(t.params.alphaProbability);
        for (const a of GRID) {
          expect(c.result.sse).toBeLessThanOrEqual(croston(series, { alpha: a }, 3).sse);
          expect(s.result.sse).toBeLessThanOrEqual(sba(series, { alpha: a }, 3).sse);
          for (const b of GRID) expect(t.result.sse).toBeLessThanOrEqual(tsb(series, { alphaDemand: a, alphaProbability: b }, 3).sse);
        }
        expect(c.mse).toBe(series.length === 0 ? 0 : c.result.sse / series.length);
      }),
      { numRuns: 40 },
    );
  });

  test('the fitted result is the method run with the chosen params', () => {
    const c = fitCroston(S, 4);
    expect(c.result).toEqual(croston(S, c.params, 4));
    const s = fitSba(S, 4);
    expect(s.result).toEqual(sba(S, s.params, 4));
    const t = fitTsb(S, 4);
    expect(t.result).toEqual(tsb(S, t.params, 4));
  });

  test('ties keep the smallest constants: a series without demand fits 0.05', () => {
    expect(fitCroston([0, 0, 0], 1).params).toEqual({ alpha: 0.05 });
    expect(fitSba([], 1).params).toEqual({ alpha: 0.05 });
    expect(fitTsb([0, 0], 1).params).toEqual({ alphaDemand: 0.05, alphaProbability: 0.05 });
  });
});
