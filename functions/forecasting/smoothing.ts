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
 * The least squares is made in one pass per evaluation (`profile`), on a reused typed-array scratch buffer.
 * Smoothing parameters: a coarse grid over [0,1]^k (GRIDS), then a Hooke-Jeeves pattern search from the best
 * grid point down to a step of 1e-3; or, with a warm start, the pattern search from the given constants alone.
 * Everything is deterministic: no randomness, fixed grids, iteration caps.
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

/** Free initial states: l_0 (SES); l_0, b_0 (Holt); l_0, b_0, s_{1-m}..s_{-1} (Holt-Winters; s_0 = -their sum). */
const initCount = (kind: Kind, period: number): number => (kind === 'ses' ? 1 : kind === 'holt' ? 2 : 1 + period);

/** A reused scratch buffer (the fitters are synchronous, so one is enough): no allocation per evaluation. */
let scratch = new Float64Array(256);
function workspace(size: number): Float64Array {
  if (scratch.length < size) scratch = new Float64Array(Math.max(size, 2 * scratch.length));
  scratch.fill(0, 0, size);
  return scratch;
}

/**
 * The in-sample SSE at the least-squares initial states for given smoothing constants, in one pass.
 * For fixed constants every state is affine in the k free initial states x: the pass carries each state's
 * coefficient vector (k coefficients and a constant, K = k + 1 numbers) through the recurrence, and
 * accumulates the normal equations A'A x = A'r of the one-step errors r_t - A_t x on the way (A_t: the
 * coefficients of fitted_t, r_t = y_t - its constant). Then SSE(x) = r'r - 2 x'A'r + x'A'A x at the solution x,
 * solved with a tiny ridge (max(trace, 1) * 1e-12) so a singular system (e.g. an all-zero series) still solves.
 * The solution is written to `init` when given. Same numbers as running the recurrence k + 1 times, without
 * the k + 1 arrays per evaluation.
 */
function profile(series: Series, kind: Kind, alpha: number, beta: number, gamma: number, period: number, init: number[] | null): number {
  const n = series.length;
  const m = kind === 'hw' ? period : 0;
  const k = initCount(kind, period);
  const K = k + 1;
  const c = k; // index of the constant term
  const kk = k * k;
  // layout: level (2 buffers, swapped), trend, F (fitted coefficients), base, seasonal ring (m x K), A'A (k x k), A'r (k), solve matrix (k x (k+1)), x (k)
  // layout: level, trend, F (fitted coefficients), seasonal ring (m x K), A'A (k x k, upper triangle), A'r (k),
  // the augmented matrix to solve (k x (k+1)), x (k)
  const lo = 0;
  const tr = K;
  const fo = 2 * K;
  const so = 3 * K;
  const ao = so + Math.max(m, 1) * K;
  const ro = ao + kk;
  const mo = ro + k;
  const xo = mo + k * (k + 1);
  const w = workspace(xo + k);
  w[lo] = 1;
  if (kind !== 'ses') w[tr + 1] = 1;
  for (let j = 0; j < m - 1; j++) {
    w[so + j * K + 2 + j] = 1;
    w[so + (m - 1) * K + 2 + j] = -1;
  }
  const a1 = 1 - alpha;
  const b1 = 1 - beta;
  const g1 = 1 - gamma;
  let slot = 0;
  for (let t = 0; t < n; t++) {
    const y = series[t] as number;
    // ses and holt have no season: their ring is one all-zero slot that gamma = 0 leaves at zero
    const sj = m > 0 ? so + slot * K : so;
    for (let i = 0; i < K; i++) {
      const l = w[lo + i] as number;
      const b = w[tr + i] as number;
      const s = w[sj + i] as number;
      const base = l + b;
      w[fo + i] = base + s;
      const next = a1 * base - alpha * s + (i === c ? alpha * y : 0);
      w[tr + i] = beta * (next - l) + b1 * b;
      w[sj + i] = g1 * s - gamma * base + (i === c ? gamma * y : 0);
      w[lo + i] = next;
    }
    const r = y - (w[fo + c] as number);
    for (let i = 0; i < k; i++) {
      const fi = w[fo + i] as number;
      if (fi === 0) continue;
      w[ro + i] = (w[ro + i] as number) + fi * r;
      const row = ao + i * k;
      for (let j = i; j < k; j++) w[row + j] = (w[row + j] as number) + fi * (w[fo + j] as number);
    }
    if (m > 0) slot = slot + 1 === m ? 0 : slot + 1;
  }
  // symmetric A'A from its upper triangle, the ridge, and Gaussian elimination with partial pivoting
  let trace = 0;
  for (let i = 0; i < k; i++) trace += w[ao + i * k + i] as number;
  const ridge = Math.max(trace, 1) * 1e-12;
  const k1 = k + 1;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) w[mo + i * k1 + j] = (w[ao + (i <= j ? i * k + j : j * k + i)] as number) + (i === j ? ridge : 0);
    w[mo + i * k1 + k] = w[ro + i] as number;
  }
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(w[mo + r * k1 + col] as number) > Math.abs(w[mo + piv * k1 + col] as number)) piv = r;
    if (piv !== col) {
      for (let j = 0; j < k1; j++) {
        const tmp = w[mo + col * k1 + j] as number;
        w[mo + col * k1 + j] = w[mo + piv * k1 + j] as number;
        w[mo + piv * k1 + j] = tmp;
      }
    }
    const d = w[mo + col * k1 + col] as number;
    if (d === 0) continue;
    for (let r = col + 1; r < k; r++) {
      const f = (w[mo + r * k1 + col] as number) / d;
      if (f !== 0) for (let j = col; j < k1; j++) w[mo + r * k1 + j] = (w[mo + r * k1 + j] as number) - f * (w[mo + col * k1 + j] as number);
    }
  }
  let finite = true;
  for (let r = k - 1; r >= 0; r--) {
    const d = w[mo + r * k1 + r] as number;
    let acc = w[mo + r * k1 + k] as number;
    for (let j = r + 1; j < k; j++) acc -= (w[mo + r * k1 + j] as number) * (w[xo + j] as number);
    const x = d === 0 ? 0 : acc / d;
    if (!Number.isFinite(x)) finite = false;
    w[xo + r] = x;
  }
  if (!finite) for (let i = 0; i < k; i++) w[xo + i] = 0;
  // The SSE by running the recurrence from x (not r'r - 2 x'A'r + x'A'A x, which cancels catastrophically when
  // the states blow up, e.g. Holt-Winters at alpha = beta = gamma = 1); the seasonal ring reuses the F buffer.
  let level = w[xo] as number;
  let trend = kind === 'ses' ? 0 : (w[xo + 1] as number);
  let last = 0;
  for (let j = 0; j < m - 1; j++) {
    const v = w[xo + 2 + j] as number;
    w[so + j] = v;
    last -= v;
  }
  if (m > 0) w[so + m - 1] = last;
  let sse = 0;
  slot = 0;
  for (let t = 0; t < n; t++) {
    const y = series[t] as number;
    const season = m > 0 ? (w[so + slot] as number) : 0;
    const base = level + trend;
    const e = y - base - season;
    sse += e * e;
    const next = alpha * (y - season) + a1 * base;
    trend = beta * (next - level) + b1 * trend;
    if (m > 0) {
      w[so + slot] = gamma * (y - base) + g1 * season;
      slot = slot + 1 === m ? 0 : slot + 1;
    }
    level = next;
  }
  if (init) for (let i = 0; i < k; i++) init[i] = w[xo + i] as number;
  return Number.isFinite(sse) ? sse : Infinity;
}

/** The least-squares initial states for given smoothing parameters. */
function bestInit(series: Series, kind: Kind, smooth: readonly number[], period: number): number[] {
  const init = new Array<number>(initCount(kind, period)).fill(0);
  profile(series, kind, smooth[0] ?? 0, kind === 'ses' ? 0 : (smooth[1] ?? 0), kind === 'hw' ? (smooth[2] ?? 0) : 0, period, init);
  return init;
}

function profiledSse(series: Series, kind: Kind, smooth: readonly number[], period: number): number {
  return profile(series, kind, smooth[0] ?? 0, kind === 'ses' ? 0 : (smooth[1] ?? 0), kind === 'hw' ? (smooth[2] ?? 0) : 0, period, null);
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** The local search stops when its step is below SEARCH_XTOL: constants closer than that forecast alike. */
const SEARCH_XTOL = 1e-3;
/** A cap on the local search's evaluations (never reached on the measured series; ~30 are typical). */
const SEARCH_MAX_EVALS = 300;

/**
 * Hooke-Jeeves pattern search in [0,1]^k, deterministic: from the start, try each coordinate +step then -step
 * (points outside the box are clamped to it, and one that does not move is not evaluated), keeping the first
 * improvement per coordinate; after a round that moved, one pattern move repeats the round's whole displacement
 * and is kept if better; after a round that did not, the step halves; stop when the step is below SEARCH_XTOL.
 * It replaced Nelder-Mead (clamped to the box): the optima of daily demand often sit on the box's faces (beta or
 * gamma 0), where a clamped simplex degenerates and crawls; this needs about half the evaluations (Holt-Winters
 * 56 in all with its grid against 95 with Nelder-Mead to 1e-6/1e-3) for the same SSE on the measured series.
 */
function patternSearch(f: (x: number[]) => number, start: { x: readonly number[]; fx: number }, step0: number): { x: number[]; fx: number } {
  let x = [...start.x];
  let fx = start.fx;
  const k = x.length;
  let step = step0;
  let evals = 0;
  while (step >= SEARCH_XTOL && evals < SEARCH_MAX_EVALS) {
    const before = [...x];
    let moved = false;
    for (let j = 0; j < k; j++) {
      for (const dir of [1, -1]) {
        const v = clamp01((x[j] as number) + dir * step);
        if (v === x[j]) continue;
        const y = [...x];
        y[j] = v;
        const fy = f(y);
        evals++;
        if (fy < fx) {
          x = y;
          fx = fy;
          moved = true;
          break;
        }
      }
    }
    if (!moved) {
      step /= 2;
      continue;
    }
    const pattern = x.map((v, j) => clamp01(2 * v - (before[j] as number)));
    if (pattern.some((v, j) => v !== x[j])) {
      const fp = f(pattern);
      evals++;
      if (fp < fx) {
        x = pattern;
        fx = fp;
      }
    }
  }
  return { x, fx };
}

/**
 * The coarse grids per constant (the grid is their product): denser near 0, where daily demand's constants
 * usually are. Chosen by measurement against a dense search (41/21/11 points per constant, then the local search)
 * on 108 synthetic 182-day series of 9 shapes and the statsmodels fixtures: the SSE found was never more than
 * 0.001% above it (and the old fitter's 6^3 grid plus three Nelder-Mead runs to 1e-12 found the same optima).
 */
const GRIDS: Record<Kind, readonly number[]> = {
  ses: [0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1],
  holt: [0, 0.05, 0.15, 0.35, 0.65, 1],
  hw: [0, 0.15, 0.6],
};
/**
 * Short series (under SHORT_SERIES values) have rugged SSE surfaces with several local minima (few values, up to
 * 10 states), and each evaluation is cheap: they get the old, fine grids (steps 1/20, 1/10, 1/5) and the local
 * search from the best SHORT_STARTS grid points. Measured on random 14..41-day series, the coarse grid and one
 * start found up to 2.3 times the SSE of this.
 */
const SHORT_SERIES = 120;
const SHORT_STARTS = 3;
const uniform = (steps: number): number[] => Array.from({ length: steps + 1 }, (_, i) => i / steps);
const FINE_GRIDS: Record<Kind, readonly number[]> = { ses: uniform(20), holt: uniform(10), hw: uniform(5) };
/** The local search's first step from the best grid point, and from a warm start (the previous fit's constants). */
const SEARCH_STEP = 0.1;
const WARM_STEP = 0.05;

/**
 * Minimises the profiled SSE over the smoothing constants: the coarse grid, then the pattern search from its best
 * point; or, given `start` (the constants of an earlier fit of an overlapping window), the pattern search from
 * there with a smaller first step and no grid.
 */
function optimise(series: Series, kind: Kind, period: number, start?: readonly number[]): { smooth: number[]; init: number[] } {
  const k = kind === 'ses' ? 1 : kind === 'holt' ? 2 : 3;
  const f = (x: number[]) => profiledSse(series, kind, x, period);
  let best: { x: number[]; fx: number };
  if (start !== undefined && start.length === k && start.every((v) => v >= 0 && v <= 1)) {
    const x = [...start];
    best = patternSearch(f, { x, fx: f(x) }, WARM_STEP);
  } else {
    const short = series.length < SHORT_SERIES;
    const g = short ? FINE_GRIDS[kind] : GRIDS[kind];
    const total = g.length ** k;
    const points: { x: number[]; fx: number }[] = [];
    for (let i = 0; i < total; i++) {
      const x: number[] = [];
      let rest = i;
      for (let d = 0; d < k; d++) {
        x.push(g[rest % g.length] as number);
        rest = Math.floor(rest / g.length);
      }
      points.push({ x, fx: f(x) });
    }
    points.sort((a, b) => a.fx - b.fx); // stable: ties keep the earlier grid point, so the result is deterministic
    best = points[0] as { x: number[]; fx: number };
    for (const from of points.slice(0, short ? SHORT_STARTS : 1)) {
      const r = patternSearch(f, from, short ? 0.5 / (g.length - 1) : SEARCH_STEP);
      if (r.fx < best.fx) best = r;
    }
  }
  return { smooth: best.x, init: bestInit(series, kind, best.x, period) };
}

/** Options of the fitters. */
export interface FitOptions {
  /**
   * Warm start: the smoothing constants of an earlier fit of an overlapping window ([alpha], [alpha, beta] or
   * [alpha, beta, gamma]); the search is a local one from there instead of the grid. Ignored if malformed.
   */
  start?: readonly number[];
}

/** Fits SES. RangeError on an empty series; a single value fits exactly (level0 = that value). */
export function fitSes(series: Series, horizon: number, options: FitOptions = {}): Fitted<SesParams> {
  checkSeries(series, 1, 'fitSes');
  checkHorizon(horizon);
  const { smooth, init } = optimise(series, 'ses', 1, options.start);
  const params: SesParams = { alpha: smooth[0] ?? 0, level0: init[0] ?? 0 };
  return { params, ...ses(series, params, horizon) };
}

/** Fits Holt's linear trend. RangeError with fewer than 2 values. */
export function fitHolt(series: Series, horizon: number, options: FitOptions = {}): Fitted<HoltParams> {
  checkSeries(series, 2, 'fitHolt');
  checkHorizon(horizon);
  const { smooth, init } = optimise(series, 'holt', 1, options.start);
  const params: HoltParams = { alpha: smooth[0] ?? 0, beta: smooth[1] ?? 0, level0: init[0] ?? 0, trend0: init[1] ?? 0 };
  return { params, ...holt(series, params, horizon) };
}

/** Fits additive Holt-Winters. RangeError with fewer than 2 full seasons (2 * period values). */
export function fitHoltWinters(series: Series, horizon: number, period = 7, options: FitOptions = {}): Fitted<HoltWintersParams> {
  checkPeriod(period);
  if (period < 2) throw new RangeError(`fitHoltWinters needs a period >= 2, got ${period}: use fitHolt`);
  checkSeries(series, 2 * period, `fitHoltWinters (2 full seasons of ${period})`);
  checkHorizon(horizon);
  const { smooth, init } = optimise(series, 'hw', period, options.start);
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
