/**
 * Safety stock and reorder point from a demand forecast (issue 10, scope
 * item 5) as pure functions: no I/O, no other context.
 *
 * The model is the textbook one for a continuous-review (s, Q) policy with
 * normally distributed lead-time demand, independent daily demand and an
 * independent, random lead time:
 *
 *   d         = mean daily forecast over the lead time
 *   LTD       = d * L
 *   sigma_LTD = sqrt(L * sigma_d^2 + d^2 * sigma_L^2)
 *   SS        = z * sigma_LTD,  z = normalQuantile(serviceLevel)
 *   ROP       = LTD + SS
 *
 * where L / sigma_L are the mean / standard deviation of the lead time in
 * days (see `leadTimeStats`) and sigma_d the standard deviation of daily
 * demand (e.g. of backtest residuals).
 */

// AS241 coefficients, lowest power first, as the shortest decimals that round-trip to
// the same doubles as Wichura's 20-digit values (A/B central, C/D intermediate tail, E/F far tail).
const AS241_A: readonly number[] = [3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987, 67265.7709270087, 33430.57558358813, 2509.0809287301227];
const AS241_B: readonly number[] = [1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271, 28729.085735721943, 5226.495278852854];
const AS241_C: readonly number[] = [1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684, 0.2417807251774506, 0.022723844989269184, 0.0007745450142783414];
const AS241_D: readonly number[] = [1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-09];
const AS241_E: readonly number[] = [6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124, 0.0012426609473880784, 2.7115555687434876e-05, 2.0103343992922881e-07];
const AS241_F: readonly number[] = [1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133, 1.8463183175100548e-05, 1.421511758316446e-07, 2.0442631033899397e-15];

const horner = (coeffs: readonly number[], x: number): number => coeffs.reduceRight((acc, c) => acc * x + c, 0);

/**
 * Inverse of the standard normal CDF, by Wichura's algorithm AS241 (PPND16):
 * M. J. Wichura (1988), "Algorithm AS 241: The Percentage Points of the Normal
 * Distribution", Applied Statistics 37(3), 477-484, doi:10.2307/2347330.
 * Three rational approximations (central |p - 0.5| <= 0.425, intermediate
 * tail, far tail), accurate to about 1e-16 relative: the same algorithm as
 * Python's `statistics.NormalDist.inv_cdf`. (Acklam's algorithm was not used:
 * its 1.15e-9 relative error is too coarse for 1e-9 absolute in the tails.)
 *
 * Defined for 0 < p < 1; anything else (0, 1, NaN, out of range) is a RangeError.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(AS241_A, r)) / horner(AS241_B, r);
  }
  const r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  const x = r <= 5 ? horner(AS241_C, r - 1.6) / horner(AS241_D, r - 1.6) : horner(AS241_E, r - 5) / horner(AS241_F, r - 5);
  return q < 0 ? -x : x;
}

export interface LeadTimeStats {
  /** L: the supplier's lead time plus the mean observed delay (just the lead time without observations). */
  mean_days: number;
  /** sigma_L: sample standard deviation (n - 1) of the observed lead times; 0 with fewer than 2 observations. */
  sd_days: number;
  /** How many observed delays went in. */
  observations: number;
}

/**
 * Lead-time statistics of one supplier from its received purchase orders.
 *
 * - `leadTimeDays` is the supplier's stated lead time (finite, >= 0).
 * - Each entry of `observedDelaysDays` is one received purchase order's delay:
 *   days received minus days expected (ordered + `leadTimeDays`). Positive is
 *   late, negative is early, 0 on time; fractions are allowed. Its observed
 *   lead time is `leadTimeDays + delay`, which must be >= 0 (an order cannot
 *   arrive before it was placed): RangeError otherwise, or if not finite.
 * - `mean_days` = leadTimeDays + mean(delays) = mean of the observed lead times.
 * - `sd_days` = sample standard deviation (divisor n - 1) of the observed lead
 *   times, equal to that of the delays. With 0 or 1 observations there is no
 *   spread to estimate and it is 0 (the lead time is treated as constant).
 */
export function leadTimeStats(leadTimeDays: number, observedDelaysDays: readonly number[]): LeadTimeStats {
  if (!Number.isFinite(leadTimeDays) || leadTimeDays < 0) throw new RangeError(`leadTimeStats: leadTimeDays must be finite and >= 0, got ${leadTimeDays}`);
  observedDelaysDays.forEach((delay, i) => {
    if (!Number.isFinite(delay)) throw new RangeError(`leadTimeStats: delay ${i} must be finite, got ${delay}`);
    if (leadTimeDays + delay < 0) throw new RangeError(`leadTimeStats: delay ${i} (${delay}) makes the observed lead time negative`);
  });
  const n = observedDelaysDays.length;
  if (n === 0) return { mean_days: leadTimeDays, sd_days: 0, observations: 0 };
  // Two passes over the delays (the observed lead times minus a constant) for accuracy.
  const meanDelay = observedDelaysDays.reduce((acc, x) => acc + x, 0) / n;
  const sd = n < 2 ? 0 : Math.sqrt(observedDelaysDays.reduce((acc, x) => acc + (x - meanDelay) ** 2, 0) / (n - 1));
  return { mean_days: Math.max(0, leadTimeDays + meanDelay), sd_days: sd, observations: n };
}

export interface ReorderInput {
  /** The forecast per day, from tomorrow; every value finite and >= 0. */
  dailyForecast: readonly number[];
  /** Standard deviation of daily demand (e.g. from backtest residuals); finite and >= 0. */
  dailySigma: number;
  /** Lead time in days: mean finite and >= 0, sd finite and >= 0 (see `leadTimeStats`). */
  leadTime: { mean_days: number; sd_days: number };
  /** Target cycle service level in (0, 1) exclusive; default 0.95. */
  serviceLevel?: number;
}

export interface ReorderBasis {
  /** Mean daily forecast over the lead time. */
  d: number;
  sigma_d: number;
  L: number;
  sigma_L: number;
  z: number;
  /** How many forecast days d averages: max(1, ceil(L)). */
  days_averaged: number;
  /** z * sigma_LTD before rounding. */
  safety_stock: number;
  /** lead_time_demand + safety_stock before rounding. */
  reorder_point: number;
  formula: string;
}

export interface ReorderResult {
  /** Whole units: ceil(lead_time_demand + safety stock), never below 0. */
  reorder_point: number;
  /** Whole units: ceil(z * sigma_LTD). */
  safety_stock: number;
  /** d * L, unrounded. */
  lead_time_demand: number;
  /** sqrt(L * sigma_d^2 + d^2 * sigma_L^2), unrounded. */
  sigma_ltd: number;
  z: number;
  basis: ReorderBasis;
}

export const DEFAULT_SERVICE_LEVEL = 0.95;

export const REORDER_FORMULA = 'ROP = d*L + z*sqrt(L*sigma_d^2 + d^2*sigma_L^2); d = mean daily forecast over the first max(1, ceil(L)) days';

/** Rounding slack: floating-point noise below this (e.g. 30.000000000000004) does not round up to the next unit. */
const ROUND_EPS = 1e-9;
const ceilUnits = (x: number): number => {
  const c = Math.ceil(x - ROUND_EPS);
  return c === 0 ? 0 : c; // no -0
};

/**
 * Reorder point and safety stock for one SKU at one warehouse.
 *
 * Choices:
 * - d is the mean of the first n = max(1, ceil(L)) days of `dailyForecast`
 *   (the last value repeated when the forecast is shorter; d = 0 for an empty
 *   forecast). The lead-time demand is d * L, so a fractional L takes the same
 *   fraction of the average day, which keeps LTD, d and sigma_LTD consistent
 *   (they use the same d). n is at least 1 so that L = 0 with a random lead
 *   time (sigma_L > 0) still has a demand rate.
 * - safety_stock and reorder_point are rounded UP to whole units (noise below
 *   1e-9 ignored); the unrounded values are in `basis`. A service level below
 *   0.5 gives a negative z and so a negative safety stock (the reorder point
 *   sits below the expected lead-time demand); reorder_point is never below 0.
 * - Zero demand (all-zero forecast and dailySigma 0) gives 0 and 0.
 * - RangeError for: serviceLevel not in (0, 1); a negative or non-finite
 *   dailySigma, lead-time sd, lead-time mean or forecast value; and any result
 *   that would overflow to a non-finite number. The output never holds NaN.
 */
export function reorderPoint(input: ReorderInput): ReorderResult {
  const { dailyForecast, dailySigma, leadTime } = input;
  const serviceLevel = input.serviceLevel ?? DEFAULT_SERVICE_LEVEL;
  if (!(serviceLevel > 0 && serviceLevel < 1)) throw new RangeError(`reorderPoint: serviceLevel must be in (0, 1), got ${serviceLevel}`);
  if (!Number.isFinite(dailySigma) || dailySigma < 0) throw new RangeError(`reorderPoint: dailySigma must be finite and >= 0, got ${dailySigma}`);
  if (!Number.isFinite(leadTime.mean_days) || leadTime.mean_days < 0) throw new RangeError(`reorderPoint: leadTime.mean_days must be finite and >= 0, got ${leadTime.mean_days}`);
  if (!Number.isFinite(leadTime.sd_days) || leadTime.sd_days < 0) throw new RangeError(`reorderPoint: leadTime.sd_days must be finite and >= 0, got ${leadTime.sd_days}`);
  dailyForecast.forEach((f, i) => {
    if (!Number.isFinite(f) || f < 0) throw new RangeError(`reorderPoint: dailyForecast[${i}] must be finite and >= 0, got ${f}`);
  });

  const L = leadTime.mean_days;
  const sigmaL = leadTime.sd_days;
  const n = Math.max(1, Math.ceil(L));
  let d = 0;
  if (dailyForecast.length > 0) {
    const last = dailyForecast[dailyForecast.length - 1] as number;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += i < dailyForecast.length ? (dailyForecast[i] as number) : last;
    d = sum / n;
  }
  const z = normalQuantile(serviceLevel);
  const leadTimeDemand = d * L;
  const sigmaLtd = Math.sqrt(L * dailySigma * dailySigma + d * d * sigmaL * sigmaL);
  const ss = z * sigmaLtd;
  const rop = leadTimeDemand + ss;
  if (![d, leadTimeDemand, sigmaLtd, ss, rop].every(Number.isFinite)) throw new RangeError('reorderPoint: inputs too large, the result is not finite');

  return {
    reorder_point: Math.max(0, ceilUnits(rop)),
    safety_stock: ceilUnits(ss),
    lead_time_demand: leadTimeDemand,
    sigma_ltd: sigmaLtd,
    z,
    basis: { d, sigma_d: dailySigma, L, sigma_L: sigmaL, z, days_averaged: n, safety_stock: ss, reorder_point: rop, formula: REORDER_FORMULA },
  };
}
