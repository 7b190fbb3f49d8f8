import { assertInScope } from '../platform/warehouse-scope';
import { requireSku, requireWarehouse } from '../inventory/catalog';
import type { Deps } from '../platform/context';
import type { Page } from '../platform/storage';
import { writeOne } from '../platform/writes';
import { FORECAST_INTERVAL, type DemandForecastQuery, type DemandForecastResponse, type StoredForecast } from './forecast-schemas';
import { normalQuantile } from './reorder';
import { findForecast, forecastsOfWarehouse, forecastsOfWarehousePage, forecastWrite } from './store';
import { DAY_MS, dayOf } from '../platform/days';

/**
 * GET /api/reports/demand-forecast: one level's stored forecast (the latest run's), read from
 * today for `horizon_days`. Public to other contexts (replenishment reads forecasts through
 * `latestForecast` / `warehouseForecasts`, never the store).
 */

/** A forecast older than this is flagged stale: the nightly run has not reached the level for a week. */
export const STALE_AFTER_DAYS = 7;

/** Made more than STALE_AFTER_DAYS before `now`: the nightly run has not reached the level for a week, so it is not acted on. */
export const isStale = (stored: Pick<StoredForecast, 'made_at'>, now: Date): boolean => now.getTime() - Date.parse(stored.made_at) > STALE_AFTER_DAYS * DAY_MS;

export const latestForecast = (deps: Deps, skuId: string, warehouseId: string): Promise<StoredForecast | undefined> => findForecast(deps, skuId, warehouseId);
export const warehouseForecasts = (deps: Deps, warehouseId: string): Promise<StoredForecast[]> => forecastsOfWarehouse(deps, warehouseId);
/** One page of a warehouse's stored forecasts in SKU id order (`cursor` from the previous page's next_cursor). */
export const warehouseForecastsPage = (deps: Deps, warehouseId: string, page: { cursor?: string; limit: number }): Promise<Page<StoredForecast>> =>
  forecastsOfWarehousePage(deps, warehouseId, page);

/**
 * Stores one level's forecast as a run does (unless a later run's is already there: ConditionFailed
 * then). The runs write through their own store; this is for whoever else must put a forecast in
 * place, e.g. tests seeding a known forecast for replenishment.
 */
export const storeForecast = async ({ db, ctx }: Deps, forecast: StoredForecast): Promise<void> => {
  await writeOne(db, forecastWrite(db, ctx.caller.tenantId, forecast));
};

/**
 * The stored daily values from `today` for `horizon` days: a forecast made days ago skips the days
 * already past, and one that falls short of the horizon (a forecast older than the stored margin)
 * repeats its last day, flagged stale.
 */
export const forecastFrom = (stored: Pick<StoredForecast, 'start' | 'forecast' | 'lower' | 'upper'>, today: string, horizon: number) => {
  const offset = Math.max(0, Math.round((Date.parse(today) - Date.parse(stored.start)) / DAY_MS));
  const from = Date.parse(stored.start) + offset * DAY_MS;
  const at = (values: readonly number[], i: number): number => values[Math.min(offset + i, values.length - 1)] ?? 0;
  return Array.from({ length: horizon }, (_, i) => ({
    date: dayOf(from + i * DAY_MS),
    forecast: at(stored.forecast, i),
    lower: at(stored.lower, i),
    upper: at(stored.upper, i),
  }));
};

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The answer for a level no run has forecast: no history is known, so no demand is forecast. */
const notForecast = (query: DemandForecastQuery, today: string): DemandForecastResponse => ({
  sku_id: query.sku_id,
  warehouse_id: query.warehouse_id,
  horizon_days: query.horizon_days,
  made_at: null,
  run_id: null,
  stale: false,
  class: 'no_history',
  adi: null,
  cv2: null,
  method: 'naive',
  params: {},
  combined: [],
  reason: 'no forecasting run has seen demand for this level yet (a new SKU or warehouse, or no run since its first movement): no demand is forecast until the nightly run, or POST /api/reports/demand-forecast/run, has its history',
  interval: FORECAST_INTERVAL,
  daily_sigma: 0,
  daily: forecastFrom({ start: today, forecast: [0], lower: [0], upper: [0] }, today, query.horizon_days),
  total: { forecast: 0, lower: 0, upper: 0 },
  backtest: null,
  history: { from: null, to: null, days: 0, demand_days: 0, stocked_out_days: 0, total_demand: 0, recent: [] },
});

export const getDemandForecast = async (deps: Deps, query: DemandForecastQuery): Promise<DemandForecastResponse> => {
  // A level's forecast is about its stock: a scoped user reads their warehouses' only.
  assertInScope(deps.ctx, [query.warehouse_id], 'reading its forecast');
  await Promise.all([requireSku(deps, query.sku_id), requireWarehouse(deps, query.warehouse_id)]);
  const now = deps.ctx.now().getTime();
  const today = dayOf(now);
  const stored = await findForecast(deps, query.sku_id, query.warehouse_id);
  if (!stored) return notForecast(query, today);
  const daily = forecastFrom(stored, today, query.horizon_days);
  const total = daily.reduce((sum, day) => sum + day.forecast, 0);
  // The total's range: daily errors taken as independent, so its sd is daily_sigma * sqrt(days), at the same coverage.
  const halfWidth = normalQuantile((1 + stored.interval) / 2) * stored.daily_sigma * Math.sqrt(daily.length);
  return {
    sku_id: stored.sku_id,
    warehouse_id: stored.warehouse_id,
    horizon_days: query.horizon_days,
    made_at: stored.made_at,
    run_id: stored.run_id,
    stale: isStale(stored, deps.ctx.now()),
    class: stored.class,
    adi: stored.adi,
    cv2: stored.cv2,
    method: stored.method,
    params: stored.params,
    combined: stored.combined ?? [],
    reason: stored.reason,
    interval: stored.interval,
    daily_sigma: stored.daily_sigma,
    daily,
    total: { forecast: round3(total), lower: round3(Math.max(0, total - halfWidth)), upper: round3(total + halfWidth) },
    backtest: stored.backtest.folds > 0 ? stored.backtest : null,
    history: stored.history,
  };
};
