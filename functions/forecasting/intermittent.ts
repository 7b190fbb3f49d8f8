/**
 * Demand classification and the intermittent-demand forecasting methods of
 * issue 10 as pure functions (no I/O, no other context): Syntetos-Boylan
 * classification, Croston (1972), the Syntetos-Boylan approximation (SBA,
 * Syntetos & Boylan 2005) and Teunter-Syntetos-Babai (TSB, 2011), each with a
 * grid fit of its smoothing constants.
 *
 * A series is daily demand, oldest first, every value finite and >= 0
 * (anything else is a RangeError). Index t is period t + 1.
 *
 * Conventions shared by the three methods:
 * - `fitted[t]` is the one-step-ahead forecast of period t made at the end of
 *   period t - 1, so it uses only `series[0..t-1]` (no look-ahead).
 * - No forecast exists before a demand has been seen: `fitted[t]` is 0 for
 *   every period up to AND including the first non-zero one. Those periods
 *   still count in `sse` (their errors are the observed values), which adds
 *   the same amount for every choice of smoothing constants, so it never
 *   changes which constants the fits choose.
 * - `forecast` is the flat forecast made at the end of the last period,
 *   `horizon` long. A series without demand forecasts 0.
 * - `sse` is the sum over all periods of (series[t] - fitted[t])^2.
 */

export type DemandClass = 'smooth' | 'erratic' | 'intermittent' | 'lumpy' | 'no_history';

export interface Classification {
  class: DemandClass;
  /** Average inter-demand interval: series length / count of non-zero periods; null without demand. */
  adi: number | null;
  /** Squared coefficient of variation of the non-zero sizes (population variance / mean^2); null without demand. */
  cv2: number | null;
  /** Count of non-zero periods. */
  nonzero: number;
}

/** Syntetos-Boylan cut-offs; a value exactly at a cut-off is on the ">=" side (intermittent / erratic). */
export const ADI_CUTOFF = 1.32;
export const CV2_CUTOFF = 0.49;

export interface CrostonParams {
  /** Smoothing constant for both the demand size and the inter-demand interval, in [0, 1]. */
  alpha: number;
}

export interface TsbParams {
  /** Smoothing constant of the demand size (updated on demand periods only), in [0, 1]. */
  alphaDemand: number;
  /** Smoothing constant of the probability of demand (updated every period), in [0, 1]. */
  alphaProbability: number;
}

export interface ForecastResult {
  /** One-step-ahead in-sample forecasts, same length as the series. */
  fitted: number[];
  /** Flat out-of-sample forecast, `horizon` long. */
  forecast: number[];
  /** Sum of squared one-step-ahead errors over the whole series. */
  sse: number;
}

export interface Fit<P> {
  params: P;
  result: ForecastResult;
  /** In-sample mean squared one-step-ahead error: sse / length (0 for an empty series); what the fit minimises. */
  mse: number;
}

/**
 * The smoothing constants the fits try: 0.05, 0.10, ..., 0.50 (the range the
 * intermittent-demand literature recommends), computed as k / 20 so every
 * value is the double nearest its decimal.
 */
export const GRID: readonly number[] = Object.freeze(Array.from({ length: 10 }, (_, i) => (i + 1) / 20));

const checkSeries = (series: readonly number[]): void => {
  for (const y of series) {
    if (!Number.isFinite(y) || y < 0) throw new RangeError(`demand must be finite and >= 0, got ${y}`);
  }
};

const checkAlpha = (name: string, a: number): void => {
  if (!Number.isFinite(a) || a < 0 || a > 1) throw new RangeError(`${name} must be in [0, 1], got ${a}`);
};

const checkHorizon = (horizon: number): void => {
  if (!Number.isInteger(horizon) || horizon < 0) throw new RangeError(`horizon must be an integer >= 0, got ${horizon}`);
};

const sseOf = (series: readonly number[], fitted: readonly number[]): number => {
  let sse = 0;
  for (let t = 0; t < series.length; t++) {
    const e = (series[t] ?? 0) - (fitted[t] ?? 0);
    sse += e * e;
  }
  return sse;
};

/**
 * Syntetos-Boylan classification.
 *
 * - ADI = series length / number of non-zero periods (periods per demand). This
 *   counts trailing zeros after the last demand, unlike the variant that
 *   averages the intervals between successive demands (first one measured
 *   from the series start), which is last-demand position / count.
 * - CV² = population variance of the non-zero sizes / their mean². It is
 *   computed on the sizes scaled by a power of two near the largest one (an
 *   exact scaling, CV² is scale-free) so tiny sizes cannot underflow the
 *   mean² to 0.
 * - smooth: ADI < 1.32 and CV² < 0.49; erratic: ADI < 1.32, CV² >= 0.49;
 *   intermittent: ADI >= 1.32, CV² < 0.49; lumpy: ADI >= 1.32, CV² >= 0.49.
 * - An empty or all-zero series is `no_history` (adi and cv2 null).
 * - A single demand: its population variance is 0, so CV² = 0 and the class is
 *   smooth or intermittent by ADI alone.
 */
export const classify = (series: readonly number[]): Classification => {
  checkSeries(series);
  const sizes = series.filter((y) => y > 0);
  const nonzero = sizes.length;
  if (nonzero === 0) return { class: 'no_history', adi: null, cv2: null, nonzero: 0 };
  const adi = series.length / nonzero;
  const max = sizes.reduce((a, b) => (b > a ? b : a), 0);
  const pow2 = 2 ** Math.floor(Math.log2(max));
  const scaled = sizes.map((s) => s / pow2);
  const mean = scaled.reduce((a, b) => a + b, 0) / nonzero;
  const variance = scaled.reduce((a, s) => a + (s - mean) * (s - mean), 0) / nonzero;
  const cv2 = variance / (mean * mean);
  const intermittentAdi = adi >= ADI_CUTOFF;
  const variableSize = cv2 >= CV2_CUTOFF;
  const cls: DemandClass = intermittentAdi ? (variableSize ? 'lumpy' : 'intermittent') : variableSize ? 'erratic' : 'smooth';
  return { class: cls, adi, cv2, nonzero };
};

/**
 * Croston's ratio z / p, shared by Croston and SBA (which scales it).
 *
 * Initialisation (at the first demand, index f): z = series[f] (first size),
 * p = f + 1 (first interval, counted from the series start as if a demand had
 * occurred just before period 1).
 * Update, at every later demand period t (Croston 1972): q = t - (index of the
 * previous demand); z <- z + alpha (series[t] - z); p <- p + alpha (q - p).
 * Zero periods change nothing. The forecast after period t is z / p; p >= 1
 * always, so the ratio is finite.
 */
const crostonRatio = (series: readonly number[], alpha: number): { fitted: number[]; last: number } => {
  const fitted: number[] = new Array<number>(series.length).fill(0);
  let z = 0;
  let p = 0;
  let lastDemand = -1;
  let ratio = 0;
  for (let t = 0; t < series.length; t++) {
    fitted[t] = ratio;
    const y = series[t] ?? 0;
    if (y > 0) {
      const q = t - lastDemand;
      if (lastDemand < 0) {
        z = y;
        p = q;
      } else {
        z = z + alpha * (y - z);
        p = p + alpha * (q - p);
      }
      lastDemand = t;
      ratio = z / p;
    }
  }
  return { fitted, last: ratio };
};

const resultOf = (series: readonly number[], fitted: number[], last: number, horizon: number): ForecastResult => ({
  fitted,
  forecast: new Array<number>(horizon).fill(last),
  sse: sseOf(series, fitted),
});

/** Croston (1972): forecast z / p, see `crostonRatio` for the initialisation and updates. */
export const croston = (series: readonly number[], { alpha }: CrostonParams, horizon: number): ForecastResult => {
  checkSeries(series);
  checkAlpha('alpha', alpha);
  checkHorizon(horizon);
  const { fitted, last } = crostonRatio(series, alpha);
  return resultOf(series, fitted, last, horizon);
};

/**
 * Syntetos-Boylan approximation (2005): Croston's ratio times (1 - alpha / 2),
 * in-sample and out of sample, with Croston's initialisation and updates.
 */
export const sba = (series: readonly number[], { alpha }: CrostonParams, horizon: number): ForecastResult => {
  checkSeries(series);
  checkAlpha('alpha', alpha);
  checkHorizon(horizon);
  const factor = 1 - alpha / 2;
  const { fitted, last } = crostonRatio(series, alpha);
  return resultOf(
    series,
    fitted.map((f) => f * factor),
    last * factor,
    horizon,
  );
};

/**
 * Teunter, Syntetos & Babai (2011): forecast p * z, with p the smoothed
 * probability of demand and z the smoothed demand size.
 *
 * Initialisation (at the first demand, index f, no look-ahead): z = series[f],
 * p = 1 / (f + 1), the reciprocal of Croston's first interval, so TSB starts
 * from the same forecast as Croston.
 * Update, at every later period t, in this order: p <- p + alphaProbability
 * (d - p) with d = 1 on a demand period and 0 otherwise; then, on a demand
 * period only, z <- z + alphaDemand (series[t] - z). Over a run of zeros the
 * forecast decays geometrically by (1 - alphaProbability) per period, where
 * Croston's stays flat.
 */
export const tsb = (series: readonly number[], { alphaDemand, alphaProbability }: TsbParams, horizon: number): ForecastResult => {
  checkSeries(series);
  checkAlpha('alphaDemand', alphaDemand);
  checkAlpha('alphaProbability', alphaProbability);
  checkHorizon(horizon);
  const fitted: number[] = new Array<number>(series.length).fill(0);
  const { next } = tsbRecurrence(series, alphaDemand, alphaProbability, fitted);
  return resultOf(series, fitted, next, horizon);
};

const mseOf = (series: readonly number[], result: ForecastResult): number => (series.length === 0 ? 0 : result.sse / series.length);

/**
 * The SSE of Croston's ratio times `factor` (1 for Croston, 1 - alpha / 2 for SBA) without building the fitted
 * values: the same recurrence and the same floating-point operations, in the same order, as `crostonRatio`
 * followed by `sseOf`, so the fits choose exactly what comparing full results would.
 */
const crostonSse = (series: readonly number[], alpha: number, factor: number): number => {
  let z = 0;
  let p = 0;
  let lastDemand = -1;
  let next = 0;
  let sse = 0;
  for (let t = 0; t < series.length; t++) {
    const y = series[t] ?? 0;
    const e = y - next;
    sse += e * e;
    if (y > 0) {
      const q = t - lastDemand;
      if (lastDemand < 0) {
        z = y;
        p = q;
      } else {
        z = z + alpha * (y - z);
        p = p + alpha * (q - p);
      }
      lastDemand = t;
      next = factor === 1 ? z / p : (z / p) * factor;
    }
  }
  return sse;
};

/**
 * TSB's recurrence, once: the one-step forecasts (into `fitted` when given), their SSE and the
 * forecast after the last day. The fits score their grid without `fitted` (no array per candidate).
 */
const tsbRecurrence = (series: readonly number[], alphaDemand: number, alphaProbability: number, fitted?: number[]): { next: number; sse: number } => {
  let z = 0;
  let p = 0;
  let started = false;
  let next = 0;
  let sse = 0;
  for (let t = 0; t < series.length; t++) {
    if (fitted) fitted[t] = next;
    const y = series[t] ?? 0;
    const e = y - next;
    sse += e * e;
    if (!started) {
      if (y > 0) {
        started = true;
        z = y;
        p = 1 / (t + 1);
        next = p * z;
      }
      continue;
    }
    if (y > 0) {
      p = p + alphaProbability * (1 - p);
      z = z + alphaDemand * (y - z);
    } else {
      p = p + alphaProbability * (0 - p);
    }
    next = p * z;
  }
  return { next, sse };
};

const tsbSse = (series: readonly number[], alphaDemand: number, alphaProbability: number): number => tsbRecurrence(series, alphaDemand, alphaProbability).sse;

/**
 * Tries every candidate in order by its SSE alone (`sse`, allocation-free); a strictly smaller SSE replaces the
 * best, so ties keep the earliest candidate. Then runs the winner in full (`run`, which validates the input).
 */
const fitOver = <P>(series: readonly number[], candidates: readonly P[], sse: (p: P) => number, run: (p: P) => ForecastResult): Fit<P> => {
  checkSeries(series);
  let best: { params: P; sse: number } | undefined;
  for (const params of candidates) {
    const v = sse(params);
    if (best === undefined || v < best.sse) best = { params, sse: v };
  }
  if (best === undefined) throw new Error('empty grid');
  const result = run(best.params);
  return { params: best.params, result, mse: mseOf(series, result) };
};

const ALPHAS: readonly CrostonParams[] = GRID.map((alpha) => ({ alpha }));
const TSB_PAIRS: readonly TsbParams[] = GRID.flatMap((alphaDemand) => GRID.map((alphaProbability) => ({ alphaDemand, alphaProbability })));

/** Croston with alpha chosen on GRID by the least in-sample MSE of the one-step-ahead forecasts (ties: smallest alpha). */
export const fitCroston = (series: readonly number[], horizon: number): Fit<CrostonParams> =>
  fitOver(
    series,
    ALPHAS,
    ({ alpha }) => crostonSse(series, alpha, 1),
    (params) => croston(series, params, horizon),
  );

/** SBA with alpha chosen on GRID by the least in-sample MSE of SBA's own one-step-ahead forecasts (ties: smallest alpha). */
export const fitSba = (series: readonly number[], horizon: number): Fit<CrostonParams> =>
  fitOver(
    series,
    ALPHAS,
    ({ alpha }) => crostonSse(series, alpha, 1 - alpha / 2),
    (params) => sba(series, params, horizon),
  );

/**
 * TSB with both constants chosen on GRID x GRID (100 pairs) by the least
 * in-sample MSE (ties: smallest alphaDemand, then smallest alphaProbability).
 */
export const fitTsb = (series: readonly number[], horizon: number): Fit<TsbParams> =>
  fitOver(
    series,
    TSB_PAIRS,
    ({ alphaDemand, alphaProbability }) => tsbSse(series, alphaDemand, alphaProbability),
    (params) => tsb(series, params, horizon),
  );
