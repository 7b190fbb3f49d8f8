import * as z from 'zod';
import { idSchema } from '../platform/ids';

/**
 * Request and response schemas of demand forecasting (issue 10): the forecast of one level, the
 * runs that make them. Handlers validate with these, stored items are decoded with them, and
 * GET /api/openapi.json is generated from them.
 */

export const DEMAND_CLASSES = ['smooth', 'erratic', 'intermittent', 'lumpy', 'no_history'] as const;
export const FORECAST_METHODS = ['naive', 'seasonal_naive', 'ses', 'holt', 'holt_winters', 'croston', 'sba', 'tsb'] as const;

/** The longest horizon the API answers; a run stores this many days (and a margin, below) for every level. */
export const MAX_HORIZON_DAYS = 180;
export const DEFAULT_HORIZON_DAYS = 28;
/** Days stored beyond MAX_HORIZON_DAYS, so a forecast a few days old still covers the longest horizon from today. */
export const STORED_MARGIN_DAYS = 14;
/** The coverage of every interval the runs compute (empirical, from the backtest's residuals). */
export const FORECAST_INTERVAL = 0.8;

export const demandForecastQuery = z.strictObject({
  sku_id: idSchema,
  warehouse_id: idSchema,
  horizon_days: z.coerce
    .number()
    .int('must be a whole number of days')
    .min(1, 'must be at least 1 day')
    .max(MAX_HORIZON_DAYS, `must be at most ${MAX_HORIZON_DAYS} days`)
    .default(DEFAULT_HORIZON_DAYS)
    .describe(`days to forecast from today, 1..${MAX_HORIZON_DAYS}`),
});
export type DemandForecastQuery = z.infer<typeof demandForecastQuery>;

const units = z.number().min(0);

export const candidateScore = z.strictObject({
  method: z.enum(FORECAST_METHODS),
  mase: z.number().nullable(),
  bias: z.number().nullable(),
  rmsse: z.number().nullable().describe('root mean squared scaled error: the loss that chooses for intermittent and lumpy demand'),
});

export const backtest = z.strictObject({
  mase: z.number().nullable().describe('mean absolute scaled error of the chosen method over the backtest folds'),
  bias: z.number().nullable().describe('mean (forecast - actual) over the folds, in units a day'),
  loss: z.enum(['mase', 'rmsse']).optional().describe('the loss the choice was made by: MASE for smooth and erratic demand, RMSSE for intermittent and lumpy (MASE rewards forecasting zero there)'),
  rmsse: z.number().nullable().optional(),
  baseline: z.enum(['seasonal_naive', 'naive']),
  baseline_mase: z.number().nullable(),
  folds: z.number().int().min(0),
  lead: z.number().int().min(0),
  candidates: z.array(candidateScore),
});

/** What the forecast was made from: the level's daily demand over the closed days (and imported history). */
export const historyUsed = z.strictObject({
  from: z.iso.date().nullable().describe('first day of the history (null: none)'),
  to: z.iso.date().nullable().describe('last day of the history, inclusive'),
  days: z.number().int().min(0),
  demand_days: z.number().int().min(0).describe('days with demand above 0'),
  stocked_out_days: z.number().int().min(0).describe('days the level held no stock: their demand is censored, and was estimated, not read as low demand'),
  total_demand: units,
  /** The last days of demand as fitted (stock-out days estimated), oldest first, for a chart. */
  recent: z.array(units),
});

/** One level's forecast as a run stores it (functions/forecasting/run.ts), from `start` one value a day. */
export const storedForecast = z.object({
  sku_id: z.string(),
  warehouse_id: z.string(),
  run_id: z.string(),
  made_at: z.string(),
  /** The first forecast day: the first day the history did not cover. */
  start: z.iso.date(),
  class: z.enum(DEMAND_CLASSES),
  adi: z.number().nullable(),
  cv2: z.number().nullable(),
  method: z.enum(FORECAST_METHODS),
  params: z.record(z.string(), z.number()),
  /** The methods whose forecasts were averaged (intermittent and lumpy demand), best first; absent: the method alone. */
  combined: z.array(z.enum(FORECAST_METHODS)).optional(),
  reason: z.string(),
  interval: z.number(),
  daily_sigma: z.number().min(0),
  forecast: z.array(units),
  lower: z.array(units),
  upper: z.array(units),
  backtest,
  history: historyUsed,
});
export type StoredForecast = z.infer<typeof storedForecast>;

export const forecastDay = z.strictObject({ date: z.iso.date(), forecast: units, lower: units, upper: units });

export const demandForecastResponse = z.strictObject({
  sku_id: z.string(),
  warehouse_id: z.string(),
  horizon_days: z.number().int(),
  made_at: z.string().nullable().describe('when the run that made it started; null: no run has forecast this level yet'),
  run_id: z.string().nullable(),
  stale: z.boolean().describe('the forecast is more than a week old (the nightly run has not reached this level since)'),
  class: z.enum(DEMAND_CLASSES),
  adi: z.number().nullable(),
  cv2: z.number().nullable(),
  method: z.enum(FORECAST_METHODS),
  params: z.record(z.string(), z.number()),
  combined: z
    .array(z.enum(FORECAST_METHODS))
    .describe('the methods whose forecasts are averaged, best first (intermittent and lumpy demand: combining two reduces the chance of a lucky backtest choice); empty: method alone'),
  reason: z.string().describe('why this method: its backtest score against the baseline\'s, or why there was no choice'),
  interval: z.number().describe('coverage of lower..upper'),
  daily_sigma: z.number().min(0).describe('standard deviation of one day\'s forecast error (from the backtest)'),
  daily: z.array(forecastDay),
  total: z.strictObject({ forecast: units, lower: units, upper: units }),
  backtest: backtest.nullable(),
  history: historyUsed,
});
export type DemandForecastResponse = z.infer<typeof demandForecastResponse>;

// ---------- runs ----------

export const RUN_STATUSES = ['requested', 'planning', 'running', 'completed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const runParams = z.strictObject({ run_id: idSchema });

export const runSummary = z.strictObject({
  series: z.number().int().min(0).describe('levels forecast so far'),
  by_class: z.record(z.string(), z.number().int()),
  by_method: z.record(z.string(), z.number().int()),
  backtested: z.number().int().min(0).describe('levels whose history allowed a backtest'),
  beat_baseline: z.number().int().min(0).describe('backtested levels whose chosen method beat the baseline'),
  mean_mase: z.number().nullable().describe('mean backtest MASE of the chosen methods'),
  mean_baseline_mase: z.number().nullable().describe('mean backtest MASE of the baselines, on the same levels'),
});

export const forecastRunResponse = z.strictObject({
  run_id: z.string(),
  status: z.enum(RUN_STATUSES),
  trigger: z.enum(['api', 'schedule']),
  requested_by: z.string(),
  requested_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  history: z.strictObject({ from: z.iso.date().nullable(), to: z.iso.date().nullable() }),
  chunks: z.strictObject({ total: z.number().int().nullable(), done: z.number().int() }),
  series_total: z.number().int().nullable(),
  summary: runSummary,
});
export type ForecastRunResponse = z.infer<typeof forecastRunResponse>;
