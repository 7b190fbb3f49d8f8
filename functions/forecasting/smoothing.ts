/**
 * Smoothing forecasts over a daily demand series (issue 10): naive, seasonal naive, simple exponential
 * smoothing, Holt's additive trend and additive Holt-Winters, plus fitters that choose their parameters.
 * Pure: no I/O, no imports. A series is `readonly number[]`, oldest first, finite and >= 0.
 *
 * Recurrences, exactly as statsmodels' ExponentialSmoothing (`_predict`, no damping, no Box-Cox) defines them,
 * for t = 1..n with y_t the t-th value, m the period, and initial states l_0, b_0, s_{1-m}..s_0:
 *   fitted_t = l_{t-1} + b_{t-1} + s_{t-m}                        (one-step-ahead forecast of y_t)
 *   l_t = alpha (y_t - s_{t-m}) + (1 - alpha)(l_{t-1} + b_{t-1})
 *   b_t = beta (l_t - l_{t-1}) + (1 - beta) b_{t-1}
 *   s_t = gamma (y_t - l_{t-1} - b_{t-1}) + (1 - gamma) s_{t-m}     (statsmodels' form: against the previous
 *                                                                   level and trend, not l_t)
 * SES drops b and s, Holt drops s. Forecasts: yhat_{n+h} = l_n + h b_n + s_{n+h-m(k+1)}, k = floor((h-1)/m).
 * That last term is the textbook one: statsmodels <= 0.14 uses s_{n-m} instead of s_n at every h that is a
 * multiple of m (its issue #9538, fixed by PR #10230); we do not reproduce that bug.
 */

export type Series = readonly number[];

export interface SmoothingResult {
  /** One-step-ahead in-sample forecasts: fitted[i] forecasts series[i] from series[0..i-1]. */
  fitted: number[];
  /** Forecasts for the next `horizon` days. */
  forecast: number[];
  /** Sum of squared in-sample errors, sum (series[i] - fitted[i])^2. */
  sse: number;
}

export interface SesParams {
  alpha: number;
  level0: number;
}
export interface HoltParams extends SesParams {
  beta: number;
  trend0: number;
}
export interface HoltWintersParams extends HoltParams {
  gamma: number;
  period: number;
  /** s_{1-m}..s_0: the seasonal states used for series[0..m-1]. */
  seasonal0: number[];
}

export type Fitted<P> = SmoothingResult & { params: P };

// ---------------------------------------------------------------------------------------------- guards

function checkSeries(series: Series, minLength: number, what: string): void {
  if (series.length < minLength) {
    throw new RangeError(`${what} needs at least ${minLength} value(s) in the series, got ${series.length}`);
  }
  for (const [i, v] of series.entries()) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${what}: series[${i}] = ${v} is not a finite number >= 0`);
  }
}

function checkHorizon(horizon: number): void {
  if (!Number.isInteger(horizon) || horizon < 0) throw new RangeError(`horizon must be an integer >= 0, got ${horizon}`);
}

function checkPeriod(period: number): void {
  if (!Number.isInteger(period) || period < 1) throw new RangeError(`period must be an integer >= 1, got ${period}`);
}

function checkUnit(name: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${v}`);
}

function checkFinite(name: string, v: number): void {
  if (!Number.isFinite(v)) throw new RangeError(`${name} must be finite, got ${v}`);
}

// ---------------------------------------------------------------------------------------------- naive

/** The last value, repeated `horizon` times. RangeError on an empty series. */
export function naive(series: Series, horizon: number): number[] {
  checkSeries(series, 1, 'naive');
  checkHorizon(horizon);
  const last = series[series.length - 1] as number;
  return Array.from({ length: horizon }, () => last);
}

/** yhat_{n+h} = y_{n+h-m(k+1)}: the value one season back. RangeError if the series is shorter than a period. */
export function seasonalNaive(series: Series, horizon: number, period = 7): number[] {
  checkPeriod(period);
  checkSeries(series, period, 'seasonalNaive');
  checkHorizon(horizon);
  const n = series.length;
  return Array.from({ length: horizon }, (_, i) => series[n - period + (i % period)] as number);
}

// ---------------------------------------------------------------------------------------------- recurrences

/** The general additive recurrence; beta = 0 with trend0 = 0 is "no trend", period 1 with gamma = 0 and s = 0 "no season". */
interface State {
  alpha: number;
  beta: number;
  gamma: number;
  period: number;
  level0: number;
  trend0: number;
  seasonal0: readonly number[];
}

function run(series: Series, p: State, horizon: number): SmoothingResult {
  const m = p.period;
  const n = series.length;
  const s = new Array<number>(n + m);
  for (let j = 0; j < m; j++) s[j] = p.seasonal0[j] ?? 0;
  let level = p.level0;
  let trend = p.trend0;
  const fitted = new Array<number>(n);
  let sse = 0;
  for (let t = 0; t < n; t++) {
    const y = series[t] as number;
    const season = s[t] as number; // s_{t+1-m} in 1-based time
    const base = level + trend;
    const oneStep = base + season;
    fitted[t] = oneStep;
    const e = y - oneStep;
    sse += e * e;
    const next = p.alpha * (y - season) + (1 - p.alpha) * base;
    trend = p.beta * (next - level) + (1 - p.beta) * trend;
    s[t + m] = p.gamma * (y - base) + (1 - p.gamma) * season;
    level = next;
  }
  const forecast = Array.from({ length: horizon }, (_, i) => level + (i + 1) * trend + (s[n + (i % m)] as number));
  return { fitted, forecast, sse };
}

/** Simple exponential smoothing (statsmodels SimpleExpSmoothing): flat forecast l_n. */
export function ses(series: Series, params: SesParams, horizon: number): SmoothingResult {
  checkSeries(series, 0, 'ses');
  checkHorizon(horizon);
  checkUnit('alpha', params.alpha);
  checkFinite('level0', params.level0);
  return run(series, { alpha: params.alpha, beta: 0, gamma: 0, period: 1, level0: params.level0, trend0: 0, seasonal0: [0] }, horizon);
}

/** Holt's linear (additive, undamped) trend (statsmodels Holt): forecast l_n + h b_n. */
export function holt(series: Series, params: HoltParams, horizon: number): SmoothingResult {
  checkSeries(series, 0, 'holt');
  checkHorizon(horizon);
  checkUnit('alpha', params.alpha);
  checkUnit('beta', params.beta);
  checkFinite('level0', params.level0);
  checkFinite('trend0', params.trend0);
  return run(series, { alpha: params.alpha, beta: params.beta, gamma: 0, period: 1, level0: params.level0, trend0: params.trend0, seasonal0: [0] }, horizon);
}

/** Additive trend, additive seasonality (statsmodels ExponentialSmoothing(trend="add", seasonal="add")). */
export function holtWinters(series: Series, params: HoltWintersParams, horizon: number): SmoothingResult {
  checkSeries(series, 0, 'holtWinters');
  checkHorizon(horizon);
  checkPeriod(params.period);
  checkUnit('alpha', params.alpha);
  checkUnit('beta', params.beta);
  checkUnit('gamma', params.gamma);
  checkFinite('level0', params.level0);
  checkFinite('trend0', params.trend0);
  if (params.seasonal0.length !== params.period) {
    throw new RangeError(`seasonal0 must hold period (${params.period}) values, got ${params.seasonal0.length}`);
  }
  params.seasonal0.forEach((v, j) => checkFinite(`seasonal0[${j}]`, v));
  return run(series, { ...params }, horizon);
}

// ---------------------------------------------------------------------------------------------- fitting

/*
 * Fitting minimises the in-sample SSE over the smoothing parameters in [0,1] AND the initial states.
 * Initial states: for fixed smoothing parameters every fitted value is affine in (l_0, b_0, s_{1-m}..s_0), so
 * the SSE is a quadratic in them and its minimum is a small linear least-squares problem, solved exactly
 * (seasonal states constrained to sum to zero, which loses nothing: adding c to l_0 and -c to every s leaves
 * every fitted value unchanged). This is statsmodels' "estimated" initialisation, done in closed form.
 * Smoothing parameters: a coarse grid over [0,1]^k, then box-clamped Nelder-Mead from the best grid points.
 * Everything is deterministic: no randomness, fixed iteration budgets.
 */

type Kind = 'ses' | 'holt' | 'hw';

function stateOf(kind: Kind, smooth: readonly number[], init: readonly number[], period: number): State {
  const alpha = smooth[0] ?? 0;
  const beta = kind === 'ses' ? 0 : (smooth[1] ?? 0);
  const gamma = kind === 'hw' ? (smooth[2] ?? 0) : 0;
  const level0 = init[0] ?? 0;
  const trend0 = kind === 'ses' ? 0 : (init[1] ?? 0);
  if (kind !== 'hw') return { alpha, beta, gamma, period: 1, level0, trend0, seasonal0: [0] };
  const free = init.slice(2, 2 + period - 1);
  const last = -free.reduce((a, b) => a + b, 0);
  return { alpha, beta, gamma, period, level0, trend0, seasonal0: [...free, last] };
}

/** Solves (A + ridge I) x = b by Gaussian elimination with partial pivoting; A symmetric positive semi-definite. */
function solve(a: number[][], b: number[]): number[] {
  const k = b.length;
  let trace = 0;
  for (let i = 0; i < k; i++) trace += (a[i] as number[])[i] as number;
  const ridge = Math.max(trace, 1) * 1e-12;
  const mat = a.map((row, i) => [...row.map((v, j) => (i === j ? v + ridge : v)), b[i] as number]);
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs((mat[r] as number[])[c] as number) > Math.abs((mat[piv] as number[])[c] as number)) piv = r;
    [mat[c], mat[piv]] = [mat[piv] as number[], mat[c] as number[]];
    const pr = mat[c] as number[];
    const d = pr[c] as number;
    if (d === 0) continue;
    for (let r = c + 1; r < k; r++) {
      const row = mat[r] as number[];
      const f = (row[c] as number) / d;
      if (f !== 0) for (let j = c; j <= k; j++) row[j] = (row[j] as number) - f * (pr[j] as number);
    }
  }
  const x = new Array<number>(k).fill(0);
  for (let r = k - 1; r >= 0; r--) {
    const row = mat[r] as number[];
    const d = row[r] as number;
    let acc = row[k] as number;
    for (let j = r + 1; j < k; j++) acc -= (row[j] as number) * (x[j] as number);
    x[r] = d === 0 ? 0 : acc / d;
  }
  return x;
}

/** The least-squares initial states for given smoothing parameters. */
function bestInit(series: Series, kind: Kind, smooth: readonly number[], period: number): number[] {
  const k = kind === 'ses' ? 1 : kind === 'holt' ? 2 : 2 + period - 1;
  const zeros = new Array<number>(series.length).fill(0);
  const offset = run(series, stateOf(kind, smooth, new Array<number>(k).fill(0), period), 0).fitted;
  const cols: number[][] = [];
  for (let j = 0; j < k; j++) {
    const unit = new Array<number>(k).fill(0);
    unit[j] = 1;
    cols.push(run(zeros, stateOf(kind, smooth, unit, period), 0).fitted);
  }
  const ata = cols.map((ci) => cols.map((cj) => dot(ci, cj)));
  const resid = series.map((y, t) => y - (offset[t] as number));
  const x = solve(ata, cols.map((c) => dot(c, resid)));
  return x.every(Number.isFinite) ? x : new Array<number>(k).fill(0);
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function profiledSse(series: Series, kind: Kind, smooth: readonly number[], period: number): number {
  const sse = run(series, stateOf(kind, smooth, bestInit(series, kind, smooth, period), period), 0).sse;
  return Number.isFinite(sse) ? sse : Infinity;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** Nelder-Mead on [0,1]^k (points clamped into the box), fixed budget, deterministic. */
function nelderMead(f: (x: number[]) => number, start: number[], step: number, maxIter: number): { x: number[]; fx: number } {
  const k = start.length;
  let simplex = [start, ...start.map((_, i) => start.map((v, j) => (i === j ? (v + step <= 1 ? v + step : v - step) : v)))].map((x) => {
    const c = x.map(clamp01);
    return { x: c, fx: f(c) };
  });
  for (let iter = 0; iter < maxIter; iter++) {
    simplex.sort((a, b) => a.fx - b.fx);
    const best = simplex[0] as { x: number[]; fx: number };
    const worst = simplex[k] as { x: number[]; fx: number };
    const spread = worst.fx - best.fx;
    if (spread <= 1e-12 * Math.max(1, Math.abs(best.fx)) && iter > 0) break;
    const centroid = new Array<number>(k).fill(0);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) centroid[j] = (centroid[j] as number) + ((simplex[i] as { x: number[] }).x[j] as number) / k;
    const towards = (t: number) => centroid.map((c, j) => clamp01(c + t * (c - (worst.x[j] as number))));
    const at = (x: number[]) => ({ x, fx: f(x) });
    const refl = at(towards(1));
    const second = simplex[k - 1] as { fx: number };
    if (refl.fx < best.fx) {
      const exp = at(towards(2));
      simplex[k] = exp.fx < refl.fx ? exp : refl;
    } else if (refl.fx < second.fx) {
      simplex[k] = refl;
    } else {
      const con = at(refl.fx < worst.fx ? towards(0.5) : towards(-0.5));
      if (con.fx < Math.min(refl.fx, worst.fx)) simplex[k] = con;
      else simplex = simplex.map((p, i) => (i === 0 ? p : at(p.x.map((v, j) => clamp01((best.x[j] as number) + 0.5 * (v - (best.x[j] as number)))))));
    }
  }
  simplex.sort((a, b) => a.fx - b.fx);
  return simplex[0] as { x: number[]; fx: number };
}

function optimise(series: Series, kind: Kind, period: number): { smooth: number[]; init: number[] } {
  const k = kind === 'ses' ? 1 : kind === 'holt' ? 2 : 3;
  const steps = kind === 'ses' ? 20 : kind === 'holt' ? 10 : 5;
  const f = (x: number[]) => profiledSse(series, kind, x, period);
  const grid: { x: number[]; fx: number }[] = [];
  const total = (steps + 1) ** k;
  for (let g = 0; g < total; g++) {
    const x: number[] = [];
    let rest = g;
    for (let d = 0; d < k; d++) {
      x.push((rest % (steps + 1)) / steps);
      rest = Math.floor(rest / (steps + 1));
    }
    grid.push({ x, fx: f(x) });
  }
  grid.sort((a, b) => a.fx - b.fx); // stable: ties keep grid order, so the result is deterministic
  let best = grid[0] as { x: number[]; fx: number };
  for (const start of grid.slice(0, 3)) {
    const r = nelderMead(f, start.x, 0.5 / steps, 150 * k);
    if (r.fx < best.fx) best = r;
  }
  return { smooth: best.x, init: bestInit(series, kind, best.x, period) };
}

/** Fits SES. RangeError on an empty series; a single value fits exactly (level0 = that value). */
export function fitSes(series: Series, horizon: number): Fitted<SesParams> {
  checkSeries(series, 1, 'fitSes');
  checkHorizon(horizon);
  const { smooth, init } = optimise(series, 'ses', 1);
  const params: SesParams = { alpha: smooth[0] ?? 0, level0: init[0] ?? 0 };
  return { params, ...ses(series, params, horizon) };
}

/** Fits Holt's linear trend. RangeError with fewer than 2 values. */
export function fitHolt(series: Series, horizon: number): Fitted<HoltParams> {
  checkSeries(series, 2, 'fitHolt');
  checkHorizon(horizon);
  const { smooth, init } = optimise(series, 'holt', 1);
  const params: HoltParams = { alpha: smooth[0] ?? 0, beta: smooth[1] ?? 0, level0: init[0] ?? 0, trend0: init[1] ?? 0 };
  return { params, ...holt(series, params, horizon) };
}

/** Fits additive Holt-Winters. RangeError with fewer than 2 full seasons (2 * period values). */
export function fitHoltWinters(series: Series, horizon: number, period = 7): Fitted<HoltWintersParams> {
  checkPeriod(period);
  if (period < 2) throw new RangeError(`fitHoltWinters needs a period >= 2, got ${period}: use fitHolt`);
  checkSeries(series, 2 * period, `fitHoltWinters (2 full seasons of ${period})`);
  checkHorizon(horizon);
  const { smooth, init } = optimise(series, 'hw', period);
  const st = stateOf('hw', smooth, init, period);
  const params: HoltWintersParams = {
    alpha: st.alpha,
    beta: st.beta,
    gamma: st.gamma,
    period,
    level0: st.level0,
    trend0: st.trend0,
    seasonal0: [...st.seasonal0],
  };
  return { params, ...holtWinters(series, params, horizon) };
}
