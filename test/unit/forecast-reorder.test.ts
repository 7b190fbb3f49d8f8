import fc from 'fast-check';
import { DEFAULT_SERVICE_LEVEL, leadTimeStats, normalQuantile, reorderPoint, type ReorderInput } from '../../functions/forecasting/reorder';

const near = (actual: number, expected: number, tol: number): void => {
  if (!(Math.abs(actual - expected) <= tol)) throw new Error(`${actual} is not within ${tol} of ${expected}`);
};

describe('normalQuantile (Wichura AS241)', () => {
  test.each([
    [0.5, 0],
    [0.95, 1.6448536269514722],
    [0.975, 1.959963984540054],
    [0.99, 2.3263478740408408],
    [0.999, 3.090232306167813],
    [0.98, 2.0537489106318225],
    [0.9, 1.2815515655446004],
  ])('q(%p) matches the reference quantile to 1e-9', (p, expected) => {
    near(normalQuantile(p), expected, 1e-9);
  });

  test('far tail (the third AS241 branch) matches the reference to 1e-12 relative', () => {
    // References: scipy.stats.norm.ppf.
    near(normalQuantile(1e-12), -7.034483825301131, 7.03e-12);
    near(normalQuantile(1e-300), -37.0470962993612, 3.7e-11);
    near(normalQuantile(1 - 1e-12), 7.034483825301131, 1e-3); // 1 - 1e-12 is itself inexact in binary
  });

  test('is antisymmetric: q(1 - p) = -q(p)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1 - 1e-6, noNaN: true }), (p) => {
        // 1 - p rounds, so compare with a tolerance scaled by the slope of q at p.
        near(normalQuantile(1 - p) + normalQuantile(p), 0, 1e-9);
      }),
    );
  });

  test('is non-decreasing in p (adjacent doubles may share a quantile)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-9, max: 1 - 1e-9, noNaN: true }), fc.double({ min: 1e-9, max: 1 - 1e-9, noNaN: true }), (a, b) => {
        fc.pre(a < b);
        expect(normalQuantile(a)).toBeLessThanOrEqual(normalQuantile(b));
      }),
    );
  });

  test.each([0, 1, -0.1, 1.5, Number.NaN, Infinity, -Infinity])('rejects p = %p with a RangeError', (p) => {
    expect(() => normalQuantile(p)).toThrow(RangeError);
  });
});

describe('leadTimeStats', () => {
  test('delays [2, -1, 3, 0] on a 10-day lead time, by hand', () => {
    // Observed lead times: 12, 9, 13, 10. Mean = 44/4 = 11 = 10 + mean delay (4/4 = 1).
    // Deviations from 11: 1, -2, 2, -1; squares 1 + 4 + 4 + 1 = 10; sample variance 10/3;
    // sd = sqrt(10/3) ≈ 1.8257418583505538.
    const s = leadTimeStats(10, [2, -1, 3, 0]);
    expect(s.observations).toBe(4);
    near(s.mean_days, 11, 1e-12);
    near(s.sd_days, Math.sqrt(10 / 3), 1e-12);
    near(s.sd_days, 1.8257418583505538, 1e-12);
  });

  test('without observations the stated lead time is used and the sd is 0', () => {
    expect(leadTimeStats(7, [])).toEqual({ mean_days: 7, sd_days: 0, observations: 0 });
  });

  test('a single observation shifts the mean but gives sd 0 (no spread to estimate)', () => {
    expect(leadTimeStats(7, [-2])).toEqual({ mean_days: 5, sd_days: 0, observations: 1 });
  });

  test('early deliveries (negative delays) shorten the mean lead time', () => {
    const s = leadTimeStats(10, [-3, -1]);
    near(s.mean_days, 8, 1e-12);
    near(s.sd_days, Math.SQRT2, 1e-12); // deviations ±1, variance 2/1
  });

  test.each<[number, number[]]>([
    [-1, []],
    [Number.NaN, []],
    [Infinity, []],
    [10, [Number.NaN]],
    [10, [Infinity]],
    [10, [-11]], // would arrive a day before it was ordered
  ])('rejects lead time %p with delays %p with a RangeError', (lt, delays) => {
    expect(() => leadTimeStats(lt, delays)).toThrow(RangeError);
  });
});

describe('reorderPoint, hand-computed examples', () => {
  test('constant lead time: d=10, sigma_d=3, L=5, sigma_L=0, 95% -> SS 12, ROP 62', () => {
    // z(0.95) = 1.6448536269514722.
    // LTD = 10 * 5 = 50.
    // sigma_LTD = sqrt(5 * 3^2 + 10^2 * 0^2) = sqrt(45) ≈ 6.7082039325.
    // SS = 1.6448536 * 6.7082039 ≈ 11.0340135687 -> rounded up 12.
    // ROP = 50 + 11.0340 = 61.0340 -> rounded up 62.
    const r = reorderPoint({ dailyForecast: [10, 10, 10, 10, 10, 10, 10], dailySigma: 3, leadTime: { mean_days: 5, sd_days: 0 }, serviceLevel: 0.95 });
    near(r.z, 1.6448536269514722, 1e-9);
    near(r.lead_time_demand, 50, 1e-12);
    near(r.sigma_ltd, Math.sqrt(45), 1e-12);
    near(r.basis.safety_stock, 11.034013568701717, 1e-8);
    near(r.basis.reorder_point, 61.034013568701717, 1e-8);
    expect(r.safety_stock).toBe(12);
    expect(r.reorder_point).toBe(62);
    expect(r.basis).toMatchObject({ d: 10, sigma_d: 3, L: 5, sigma_L: 0, days_averaged: 5 });
    expect(r.basis.formula).toContain('sqrt(L*sigma_d^2 + d^2*sigma_L^2)');
  });

  test('variable lead time: d=20, sigma_d=5, L=7, sigma_L=2, 98% -> SS 87, ROP 227', () => {
    // z(0.98) = 2.0537489106318225.
    // LTD = 20 * 7 = 140.
    // sigma_LTD = sqrt(7 * 25 + 400 * 4) = sqrt(175 + 1600) = sqrt(1775) ≈ 42.1307488659.
    // SS = 2.0537489 * 42.1307489 ≈ 86.5259795874 -> 87.
    // ROP = 140 + 86.526 = 226.526 -> 227.
    const r = reorderPoint({ dailyForecast: [20], dailySigma: 5, leadTime: { mean_days: 7, sd_days: 2 }, serviceLevel: 0.98 });
    near(r.lead_time_demand, 140, 1e-12);
    near(r.sigma_ltd, Math.sqrt(1775), 1e-12);
    near(r.basis.safety_stock, 86.52597958740762, 1e-8);
    expect(r.safety_stock).toBe(87);
    expect(r.reorder_point).toBe(227);
  });

  test('non-flat forecast with fractional L: d averages the first ceil(L) days, LTD = d * L', () => {
    // Forecast 10, 12, 14, 16, ... ; L = 2.5 -> ceil = 3 days: d = (10 + 12 + 14) / 3 = 12.
    // LTD = 12 * 2.5 = 30.
    // sigma_d = 2, sigma_L = 0.5: sigma_LTD = sqrt(2.5 * 4 + 144 * 0.25) = sqrt(10 + 36) = sqrt(46) ≈ 6.7823299831.
    // z(0.90) = 1.2815515655446004; SS = 8.6919056079 -> 9; ROP = 38.6919 -> 39.
    const r = reorderPoint({ dailyForecast: [10, 12, 14, 16, 18, 20, 22], dailySigma: 2, leadTime: { mean_days: 2.5, sd_days: 0.5 }, serviceLevel: 0.9 });
    near(r.basis.d, 12, 1e-12);
    expect(r.basis.days_averaged).toBe(3);
    near(r.lead_time_demand, 30, 1e-12);
    near(r.sigma_ltd, Math.sqrt(46), 1e-12);
    near(r.basis.safety_stock, 8.69190560791427, 1e-8);
    expect(r.safety_stock).toBe(9);
    expect(r.reorder_point).toBe(39);
  });

  test('a forecast shorter than the lead time repeats its last value', () => {
    // [4, 6] over L = 4 -> 4, 6, 6, 6: d = 22 / 4 = 5.5; LTD = 22. sigma 0 -> SS 0, ROP 22.
    const r = reorderPoint({ dailyForecast: [4, 6], dailySigma: 0, leadTime: { mean_days: 4, sd_days: 0 } });
    near(r.basis.d, 5.5, 1e-12);
    near(r.lead_time_demand, 22, 1e-12);
    expect(r.safety_stock).toBe(0);
    expect(r.reorder_point).toBe(22);
  });

  test('an empty forecast means d = 0', () => {
    const r = reorderPoint({ dailyForecast: [], dailySigma: 0, leadTime: { mean_days: 5, sd_days: 3 } });
    expect(r.basis.d).toBe(0);
    expect(r.reorder_point).toBe(0);
    expect(r.safety_stock).toBe(0);
  });

  test('the default service level is 0.95', () => {
    expect(DEFAULT_SERVICE_LEVEL).toBe(0.95);
    const r = reorderPoint({ dailyForecast: [10], dailySigma: 3, leadTime: { mean_days: 5, sd_days: 0 } });
    near(r.z, 1.6448536269514722, 1e-9);
    expect(r.safety_stock).toBe(12);
  });

  test('service level 0.5 gives safety stock 0 and ROP = ceil(LTD)', () => {
    const r = reorderPoint({ dailyForecast: [3.2], dailySigma: 4, leadTime: { mean_days: 3, sd_days: 1 }, serviceLevel: 0.5 });
    expect(r.z).toBe(0);
    expect(r.safety_stock).toBe(0);
    expect(r.reorder_point).toBe(10); // 9.6 rounded up
  });

  test('zero demand gives reorder point 0 and safety stock 0', () => {
    const r = reorderPoint({ dailyForecast: [0, 0, 0], dailySigma: 0, leadTime: { mean_days: 6, sd_days: 2 }, serviceLevel: 0.99 });
    expect(r.reorder_point).toBe(0);
    expect(r.safety_stock).toBe(0);
    expect(Object.is(r.safety_stock, -0)).toBe(false);
  });

  test('floating-point noise does not round up a whole number', () => {
    // 0.1/day over L = 30: summing 30 x 0.1 gives d = 0.10000000000000005, so d * L = 3.0000000000000013.
    // That is 3 units, not 4.
    const r = reorderPoint({ dailyForecast: [0.1], dailySigma: 0, leadTime: { mean_days: 30, sd_days: 0 } });
    expect(r.basis.reorder_point).toBeGreaterThan(3);
    expect(r.reorder_point).toBe(3);
  });

  test('a service level below 0.5 gives a negative safety stock but the reorder point never goes below 0', () => {
    const r = reorderPoint({ dailyForecast: [0], dailySigma: 5, leadTime: { mean_days: 4, sd_days: 0 }, serviceLevel: 0.1 });
    expect(r.basis.safety_stock).toBeLessThan(0);
    expect(r.safety_stock).toBeLessThan(0);
    expect(r.reorder_point).toBe(0);
  });
});

describe('reorderPoint, properties', () => {
  const forecast = fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { maxLength: 60 });
  const sigma = fc.double({ min: 0, max: 1e3, noNaN: true });
  const leadMean = fc.double({ min: 0, max: 120, noNaN: true });
  const leadSd = fc.double({ min: 0, max: 30, noNaN: true });
  const level = fc.double({ min: 1e-6, max: 1 - 1e-6, noNaN: true });
  const input = fc.record({ dailyForecast: forecast, dailySigma: sigma, leadTime: fc.record({ mean_days: leadMean, sd_days: leadSd }), serviceLevel: level });

  const ss = (i: ReorderInput): number => reorderPoint(i).basis.safety_stock;

  test('safety stock grows with the service level', () => {
    fc.assert(
      fc.property(input, level, (i, other) => {
        const [lo, hi] = [Math.min(i.serviceLevel ?? 0.95, other), Math.max(i.serviceLevel ?? 0.95, other)];
        expect(ss({ ...i, serviceLevel: hi })).toBeGreaterThanOrEqual(ss({ ...i, serviceLevel: lo }));
      }),
    );
  });

  test('safety stock grows with sigma_d at a service level of at least 0.5', () => {
    fc.assert(
      fc.property(input, sigma, fc.double({ min: 0.5, max: 1 - 1e-6, noNaN: true }), (i, other, sl) => {
        const [lo, hi] = [Math.min(i.dailySigma, other), Math.max(i.dailySigma, other)];
        expect(ss({ ...i, serviceLevel: sl, dailySigma: hi })).toBeGreaterThanOrEqual(ss({ ...i, serviceLevel: sl, dailySigma: lo }));
      }),
    );
  });

  test('safety stock grows with sigma_L at a service level of at least 0.5', () => {
    fc.assert(
      fc.property(input, leadSd, fc.double({ min: 0.5, max: 1 - 1e-6, noNaN: true }), (i, other, sl) => {
        const [lo, hi] = [Math.min(i.leadTime.sd_days, other), Math.max(i.leadTime.sd_days, other)];
        const at = (sd: number): number => ss({ ...i, serviceLevel: sl, leadTime: { ...i.leadTime, sd_days: sd } });
        expect(at(hi)).toBeGreaterThanOrEqual(at(lo));
      }),
    );
  });

  test('zero sigmas give safety stock 0 and ROP = ceil(d * L)', () => {
    fc.assert(
      fc.property(forecast, leadMean, level, (f, L, sl) => {
        const r = reorderPoint({ dailyForecast: f, dailySigma: 0, leadTime: { mean_days: L, sd_days: 0 }, serviceLevel: sl });
        expect(r.safety_stock).toBe(0);
        expect(r.basis.safety_stock === 0).toBe(true);
        expect(r.reorder_point).toBe(Math.max(0, Math.ceil(r.lead_time_demand - 1e-9)));
      }),
    );
  });

  test('outputs are finite, rounded up and consistent for any valid input', () => {
    fc.assert(
      fc.property(input, (i) => {
        const r = reorderPoint(i);
        const numbers = [r.reorder_point, r.safety_stock, r.lead_time_demand, r.sigma_ltd, r.z, r.basis.d, r.basis.L, r.basis.sigma_L, r.basis.sigma_d, r.basis.safety_stock, r.basis.reorder_point];
        for (const x of numbers) expect(Number.isFinite(x)).toBe(true);
        expect(Number.isInteger(r.reorder_point) && Number.isInteger(r.safety_stock)).toBe(true);
        expect(r.reorder_point).toBeGreaterThanOrEqual(0);
        expect(r.safety_stock).toBeGreaterThanOrEqual(r.basis.safety_stock - 1e-9);
        expect(r.reorder_point).toBeGreaterThanOrEqual(r.basis.reorder_point - 1e-9);
        near(r.lead_time_demand, r.basis.d * r.basis.L, 1e-9 * Math.max(1, r.lead_time_demand));
        near(r.basis.reorder_point, r.lead_time_demand + r.basis.safety_stock, 1e-9 * Math.max(1, Math.abs(r.basis.reorder_point)));
      }),
    );
  });
});

describe('reorderPoint, input validation', () => {
  const ok: ReorderInput = { dailyForecast: [10], dailySigma: 3, leadTime: { mean_days: 5, sd_days: 1 }, serviceLevel: 0.95 };

  test.each<[string, Partial<ReorderInput>]>([
    ['service level 0', { serviceLevel: 0 }],
    ['service level 1', { serviceLevel: 1 }],
    ['service level 1.2', { serviceLevel: 1.2 }],
    ['service level NaN', { serviceLevel: Number.NaN }],
    ['negative dailySigma', { dailySigma: -1 }],
    ['NaN dailySigma', { dailySigma: Number.NaN }],
    ['infinite dailySigma', { dailySigma: Infinity }],
    ['negative lead time mean', { leadTime: { mean_days: -1, sd_days: 0 } }],
    ['NaN lead time mean', { leadTime: { mean_days: Number.NaN, sd_days: 0 } }],
    ['infinite lead time mean', { leadTime: { mean_days: Infinity, sd_days: 0 } }],
    ['negative lead time sd', { leadTime: { mean_days: 5, sd_days: -0.5 } }],
    ['NaN lead time sd', { leadTime: { mean_days: 5, sd_days: Number.NaN } }],
    ['negative forecast value', { dailyForecast: [10, -1] }],
    ['NaN forecast value', { dailyForecast: [Number.NaN] }],
    ['infinite forecast value', { dailyForecast: [Infinity] }],
    ['a result overflowing to Infinity', { dailyForecast: [1e308], dailySigma: 1e308 }],
  ])('rejects %s with a RangeError', (_name, patch) => {
    expect(() => reorderPoint({ ...ok, ...patch })).toThrow(RangeError);
  });
});
