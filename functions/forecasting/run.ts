import { gunzipSync, gzipSync } from 'node:zlib';
import * as z from 'zod';
import type { Deps } from '../platform/context';
import { AppError, notFound } from '../platform/errors';
import { newId } from '../platform/ids';
import { DEMAND_IMPORTS_PREFIX, type LakeObjects } from '../platform/lake-objects';
import { log } from '../platform/log';
import { mapBounded } from '../platform/pool';
import { TransactionCancelled, transactWrite } from '../platform/transactions';
import { ConditionFailed, writeOne } from '../platform/writes';
import { readClosedDays } from '../reports/close';
import { uncensor } from './censored';
import {
  DEMAND_CLASSES,
  FORECAST_INTERVAL,
  FORECAST_METHODS,
  MAX_HORIZON_DAYS,
  STORED_MARGIN_DAYS,
  type ForecastRunResponse,
  type StoredForecast,
} from './forecast-schemas';
import { readDemandHistory, type DemandSeries } from './history';
import { forecastSeries } from './select';
import { chunkCreate, chunkDone, findChunk, findRun, forecastWrite, runCounts, runCreate, runTransition, type StoredRun } from './store';
import { addDays, dayOf } from '../platform/days';

/**
 * The forecasting run (issue 10, scope item 4): every level of a tenant forecast from its demand
 * history, fanned out so that a tenant with 100k series is not one invocation.
 *
 *   POST /api/reports/demand-forecast/run, or the nightly schedule
 *     -> a run item (status requested)
 *     -> stream -> ForecastRunRequested -> planForecast consumer: reads the history once
 *        (the closed days of the last HISTORY_DAYS), writes it to the lake in chunks of
 *        CHUNK_SERIES series, then one chunk item per chunk (status running)
 *     -> stream -> ForecastChunkReady (one per chunk) -> forecastChunk consumer: forecasts the
 *        chunk's series, stores each level's forecast, and counts the chunk into the run; the
 *        chunk that completes the count completes the run.
 *
 * Every step is safe to repeat (SQS delivers at least once): the planner resumes from the status
 * it finds, a chunk counts into its run once (its pending -> done move and the run's counters are
 * one transaction), and a forecast is stored only if no run requested later stored one first.
 */

export interface ForecastDeps extends Deps {
  objects: LakeObjects;
}

/** Two years of daily history: two full yearly cycles; the methods look at the last weeks anyway. */
export const HISTORY_DAYS = 730;
/** Series per chunk: about 2-3 s of fitting per worker invocation, and a chunk object of ~1-2 MB. */
export const CHUNK_SERIES = 500;
/** The weekly season the methods fit (daily data). */
export const SEASON_DAYS = 7;
/** Days of fitted history a forecast keeps for charts. */
export const RECENT_DAYS = 56;
/** A planner's longest run (its Lambda timeout: a sixth of its queue's visibility timeout, wiring planForecast). */
const PLANNER_TIMEOUT_MS = 900_000;
/** Forecast writes in flight at once, per chunk. */
const WRITE_CONCURRENCY = 16;


/** Where a run keeps its chunks, in the lake bucket (expired by a lifecycle rule in AWS: lib/lake.ts). */
export const FORECAST_PREFIX = 'forecast/';
export const forecastKeys = {
  chunk: (tenantId: string, runId: string, chunk: number): string =>
    `${FORECAST_PREFIX}tenant_id=${tenantId}/run_id=${runId}/chunk-${String(chunk).padStart(6, '0')}.json.gz`,
};

const chunkFile = z.strictObject({
  version: z.literal(1),
  run_id: z.string(),
  /** The first day after the history: every series ends the day before it. */
  start: z.string(),
  series: z.array(
    z.strictObject({ sku_id: z.string(), warehouse_id: z.string(), start: z.string(), demand: z.array(z.number().min(0)), stocked_out: z.array(z.boolean()) }),
  ),
});

// ---------- requesting and reading runs ----------

const emptyRun = (runId: string, trigger: StoredRun['trigger'], deps: Deps): StoredRun =>
  ({
    run_id: runId,
    status: 'requested',
    trigger,
    requested_by: deps.ctx.caller.subject,
    requested_at: deps.ctx.now().toISOString(),
    updated_at: deps.ctx.now().toISOString(),
    chunks_done: 0,
    series_done: 0,
    backtested: 0,
    beat_baseline: 0,
    mase_sum: 0,
    baseline_mase_sum: 0,
    version: 1,
  }) as StoredRun;

const counter = (run: StoredRun, name: string): number => {
  const value = run[name];
  return typeof value === 'number' ? value : 0;
};

export const presentRun = (run: StoredRun): ForecastRunResponse => {
  const tally = (names: readonly string[], prefix: string): Record<string, number> =>
    Object.fromEntries(names.map((name) => [name, counter(run, `${prefix}${name}`)]).filter(([, n]) => n !== 0));
  return {
    run_id: run.run_id,
    status: run.status,
    trigger: run.trigger,
    requested_by: run.requested_by,
    requested_at: run.requested_at,
    started_at: run.started_at ?? null,
    completed_at: run.completed_at ?? null,
    history: { from: run.history_from ?? null, to: run.history_to ?? null },
    chunks: { total: run.chunks_total ?? null, done: run.chunks_done },
    series_total: run.series_total ?? null,
    summary: {
      series: run.series_done,
      by_class: tally(DEMAND_CLASSES, 'class_'),
      by_method: tally(FORECAST_METHODS, 'method_'),
      backtested: run.backtested,
      beat_baseline: run.beat_baseline,
      mean_mase: run.backtested ? run.mase_sum / run.backtested : null,
      mean_baseline_mase: run.backtested ? run.baseline_mase_sum / run.backtested : null,
    },
  };
};

/**
 * A new run for the caller's tenant (POST .../run: a fresh id; the nightly schedule: its day's
 * id, so a schedule that fires twice makes one run). An existing run of that id is answered as is.
 */
export const requestRun = async (deps: Deps, options: { trigger: StoredRun['trigger']; runId?: string }): Promise<ForecastRunResponse> =>
  (await createRun(deps, options)).run;

const createRun = async (deps: Deps, options: { trigger: StoredRun['trigger']; runId?: string }): Promise<{ run: ForecastRunResponse; created: boolean }> => {
  const run = emptyRun(options.runId ?? newId(), options.trigger, deps);
  try {
    await writeOne(deps.db, runCreate(deps.db, deps.ctx.caller.tenantId, run));
  } catch (error) {
    if (!(error instanceof ConditionFailed)) throw error;
    const existing = await findRun(deps, run.run_id);
    if (existing) return { run: presentRun(existing), created: false };
    throw error;
  }
  return { run: presentRun(run), created: true };
};

export const getRun = async (deps: Deps, runId: string): Promise<ForecastRunResponse> => {
  const run = await findRun(deps, runId);
  if (!run) throw notFound('forecast_run', runId);
  return presentRun(run);
};

// ---------- planning ----------

/** A status move that someone else already made is not an error here: every step is repeated safely. */
const moved = async (write: Promise<unknown>): Promise<boolean> => {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionFailed) return false;
    throw error;
  }
};

/**
 * The planner (ForecastRunRequested): reads the tenant's history once, writes it in chunks to the
 * lake, then a chunk item per chunk. A run found `running` was planned by an earlier delivery that
 * may have stopped before creating every chunk item: those are created again (each only if absent).
 */
export const planRun = async (deps: ForecastDeps, runId: string): Promise<ForecastRunResponse | undefined> => {
  const tenantId = deps.ctx.caller.tenantId;
  const run = await findRun(deps, runId);
  if (!run) {
    log.warn('forecast run to plan does not exist', { tenant_id: tenantId, run_id: runId });
    return undefined;
  }
  if (run.status === 'requested' || run.status === 'planning') {
    const started = await moved(writeOne(deps.db, runTransition(deps.db, tenantId, runId, ['requested'], { status: 'planning', started_at: deps.ctx.now().toISOString() })));
    // Another delivery of the event took the run and may still be at work (EventBridge delivers at least once):
    // this one comes back after the queue's visibility timeout, by when that planner has finished or died.
    if (!started && run.status === 'planning' && run.started_at && deps.ctx.now().getTime() - Date.parse(run.started_at) < PLANNER_TIMEOUT_MS) {
      throw new Error(`forecast run ${runId} is being planned since ${run.started_at}; try again later`);
    }
    const closed = await readClosedDays(deps.objects, tenantId);
    // The history ends the day before the first day not closed; before a first close (a tenant with
    // imported history only) it ends yesterday.
    const today = dayOf(deps.ctx.now().getTime());
    const start = closed?.closed_through ?? today;
    const from = addDays(start, -HISTORY_DAYS);
    const series = await readDemandHistory(deps.objects, tenantId, { from, today });
    const chunkSeries: number[] = [];
    for (let at = 0, chunk = 0; at < series.length; at += CHUNK_SERIES, chunk++) {
      const part = series.slice(at, at + CHUNK_SERIES);
      chunkSeries.push(part.length);
      const file: z.infer<typeof chunkFile> = { version: 1, run_id: runId, start, series: part };
      await deps.objects.put(forecastKeys.chunk(tenantId, runId, chunk), gzipSync(JSON.stringify(file)), 'application/gzip');
    }
    const done = chunkSeries.length === 0;
    await moved(
      writeOne(
        deps.db,
        runTransition(deps.db, tenantId, runId, ['planning'], {
          status: done ? 'completed' : 'running',
          history_from: from,
          history_to: addDays(start, -1),
          chunks_total: chunkSeries.length,
          chunk_series: chunkSeries,
          series_total: series.length,
          ...(done ? { completed_at: deps.ctx.now().toISOString() } : {}),
        }),
      ),
    );
  }
  const planned = await findRun(deps, runId);
  if (planned?.status === 'running') {
    const sizes = z.array(z.number().int().min(0)).length(planned.chunks_total ?? 0).parse(planned['chunk_series']);
    await mapBounded(sizes, 8, (size, chunk) =>
      moved(
        writeOne(
          deps.db,
          chunkCreate(deps.db, tenantId, { run_id: runId, chunk, key: forecastKeys.chunk(tenantId, runId, chunk), series: size, status: 'pending', version: 1, updated_at: deps.ctx.now().toISOString() }),
        ),
      ),
    );
  }
  return planned ? presentRun(planned) : undefined;
};

// ---------- forecasting one level ----------

const round3 = (x: number): number => {
  const r = Math.round(x * 1000) / 1000;
  return Number.isFinite(r) && r > 0 ? r : 0;
};

/** One level's forecast from its history (ending the day before `start`), as a run stores it. */
export const forecastLevel = (series: DemandSeries, start: string, run: { run_id: string; made_at: string }): StoredForecast => {
  const fitted = uncensor(series.demand, series.stocked_out, SEASON_DAYS);
  const result = forecastSeries(fitted.demand, { horizon: MAX_HORIZON_DAYS + STORED_MARGIN_DAYS, period: SEASON_DAYS, interval: FORECAST_INTERVAL });
  const n = series.demand.length;
  return {
    sku_id: series.sku_id,
    warehouse_id: series.warehouse_id,
    run_id: run.run_id,
    made_at: run.made_at,
    start,
    class: result.class,
    adi: result.adi,
    cv2: result.cv2,
    method: result.method,
    params: result.params,
    ...(result.combined?.length ? { combined: result.combined } : {}),
    reason: result.reason,
    interval: FORECAST_INTERVAL,
    daily_sigma: round3(result.daily_sigma),
    forecast: result.forecast.map(round3),
    lower: result.lower.map(round3),
    upper: result.upper.map(round3),
    backtest: result.backtest,
    history: {
      from: n ? series.start : null,
      to: n ? addDays(series.start, n - 1) : null,
      days: n,
      demand_days: series.demand.filter((d) => d > 0).length,
      stocked_out_days: series.stocked_out.filter(Boolean).length,
      total_demand: series.demand.reduce((a, b) => a + b, 0),
      recent: fitted.demand.slice(-RECENT_DAYS).map(round3),
    },
  };
};

/** What one chunk adds to its run's counters. */
const countsOf = (forecasts: readonly StoredForecast[]): Record<string, number> => {
  const add: Record<string, number> = { chunks_done: 1, series_done: forecasts.length, backtested: 0, beat_baseline: 0, mase_sum: 0, baseline_mase_sum: 0 };
  for (const f of forecasts) {
    add[`class_${f.class}`] = (add[`class_${f.class}`] ?? 0) + 1;
    add[`method_${f.method}`] = (add[`method_${f.method}`] ?? 0) + 1;
    const { mase, baseline_mase: baseline } = f.backtest;
    if (mase !== null && baseline !== null) {
      add.backtested = (add.backtested ?? 0) + 1;
      add.mase_sum = (add.mase_sum ?? 0) + mase;
      add.baseline_mase_sum = (add.baseline_mase_sum ?? 0) + baseline;
      if (mase < baseline) add.beat_baseline = (add.beat_baseline ?? 0) + 1;
    }
  }
  return add;
};

/** The run complete once every chunk is counted: whoever sees the count whole moves it (once; a repeat finds it moved). */
const completeIfCounted = async (deps: ForecastDeps, runId: string): Promise<void> => {
  const run = await findRun(deps, runId);
  if (run?.status === 'running' && run.chunks_total !== undefined && run.chunks_done >= run.chunks_total) {
    await moved(writeOne(deps.db, runTransition(deps.db, deps.ctx.caller.tenantId, runId, ['running'], { status: 'completed', completed_at: deps.ctx.now().toISOString() })));
  }
};

/**
 * The worker (ForecastChunkReady): forecasts the chunk's series and stores them, then counts the
 * chunk into its run, once; the chunk that makes the count whole completes the run. A chunk found
 * counted already (a redelivery, perhaps of a worker that died after counting) only checks the
 * completion. A transaction cancelled for any other reason than the chunk being counted (e.g. a
 * conflict with another worker counting into the same run) throws, so SQS delivers it again.
 */
export const runChunk = async (deps: ForecastDeps, ref: { run_id: string; chunk: number }): Promise<{ series: number; counted: boolean }> => {
  const tenantId = deps.ctx.caller.tenantId;
  const run = await findRun(deps, ref.run_id);
  if (run?.status !== 'running') return { series: 0, counted: false };
  const chunk = await findChunk(deps, ref.run_id, ref.chunk);
  if (!chunk) throw new AppError('NOT_FOUND', `forecast chunk ${ref.chunk} of run ${ref.run_id} does not exist`);
  if (chunk.status === 'done') {
    await completeIfCounted(deps, ref.run_id);
    return { series: 0, counted: false };
  }
  // The key is rebuilt from the tenant and the chunk, not taken from the message.
  const key = forecastKeys.chunk(tenantId, ref.run_id, ref.chunk);
  const bytes = await deps.objects.get(key);
  if (!bytes) throw new AppError('NOT_FOUND', `forecast chunk object ${key} is missing`);
  const file = chunkFile.parse(JSON.parse(gunzipSync(bytes).toString('utf8')));
  const made = { run_id: ref.run_id, made_at: run.requested_at };
  const forecasts = file.series.map((series) => forecastLevel(series, file.start, made));
  await mapBounded(forecasts, WRITE_CONCURRENCY, (forecast) => moved(writeOne(deps.db, forecastWrite(deps.db, tenantId, forecast))));
  let counted = true;
  try {
    await transactWrite(deps.db, [chunkDone(deps.db, tenantId, ref.run_id, ref.chunk, deps.ctx.now().toISOString()), runCounts(deps.db, tenantId, ref.run_id, countsOf(forecasts))]);
  } catch (error) {
    // Counted by a delivery that raced this one: nothing to add. Anything else (a conflict on the run item,
    // the run no longer running) is not "counted": rethrown, the message comes back and finds out again.
    if (!(error instanceof TransactionCancelled && error.failed('forecast chunk done'))) throw error;
    counted = false;
  }
  await completeIfCounted(deps, ref.run_id);
  return { series: forecasts.length, counted };
};

// ---------- the nightly schedule ----------

const CLOSE_TENANTS_PREFIX = 'close/';
const tenantOfFolder = (folder: string): string | undefined => /^[a-z_]+\/tenant_id=([^/]+)\/$/.exec(folder)?.[1];

/**
 * The nightly run of every tenant with history: hourly, it requests the day's run
 * (`nightly-YYYY-MM-DD`, made once) for each tenant whose close has reached today (so the run
 * reads a complete yesterday whenever the close finishes it), and for each tenant with imported
 * history but no close yet (no ledger row has reached the lake: the imports are all it has).
 */
export const requestNightlyRuns = async (
  objects: LakeObjects,
  deps: (tenantId: string) => Deps,
  now: Date,
): Promise<{ tenants: number; requested: string[] }> => {
  const today = dayOf(now.getTime());
  const [closing, importing] = await Promise.all([objects.folders(CLOSE_TENANTS_PREFIX), objects.folders(DEMAND_IMPORTS_PREFIX)]);
  const closes = new Set(closing.flatMap((folder) => tenantOfFolder(folder) ?? []));
  const tenants = [...new Set([...closes, ...importing.flatMap((folder) => tenantOfFolder(folder) ?? [])])].sort();
  const requested: string[] = [];
  for (const tenantId of tenants) {
    const closed = closes.has(tenantId) ? await readClosedDays(objects, tenantId) : undefined;
    if (closed ? closed.closed_through < today : closes.has(tenantId)) continue;
    const { created } = await createRun(deps(tenantId), { trigger: 'schedule', runId: `nightly-${today}` });
    if (created) requested.push(tenantId);
  }
  return { tenants: tenants.length, requested };
};
