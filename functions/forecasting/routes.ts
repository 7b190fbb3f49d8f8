import * as forecasting from './forecast-schemas';
import * as demandHistory from './schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const forecastingRoutes = declareRoutes({
  demandForecast: {
    method: 'GET', path: '/api/reports/demand-forecast', entry: handlerEntry('forecasting', 'get-demand-forecast'),
    permission: 'reports:read', table: 'read',
    summary: 'A level\'s demand forecast from today (default 28 days, at most 180): daily and total with an 80% range, its demand class, the method chosen and why, and the history it used',
    query: forecasting.demandForecastQuery, response: forecasting.demandForecastResponse, errors: [404],
  },
  requestForecastRun: {
    method: 'POST', path: '/api/reports/demand-forecast/run', entry: handlerEntry('forecasting', 'request-forecast-run'),
    permission: 'forecast-runs:write', table: 'write', status: 202,
    summary: 'Forecast every level of the caller\'s tenant now (as the nightly run does): answers 202 with the run, to follow at /api/reports/demand-forecast/runs/{run_id}',
    response: forecasting.forecastRunResponse,
  },
  getForecastRun: {
    method: 'GET', path: '/api/reports/demand-forecast/runs/{run_id}', entry: handlerEntry('forecasting', 'get-forecast-run'),
    permission: 'reports:read', table: 'read',
    summary: 'A forecasting run: its state, progress (chunks of series) and summary (levels per demand class and method, backtest accuracy against the baseline)',
    params: forecasting.runParams, response: forecasting.forecastRunResponse,
  },
  importDemandHistory: {
    method: 'POST', path: '/api/reports/demand-history', entry: handlerEntry('forecasting', 'import-demand-history'),
    permission: 'forecast:write', table: 'read', lake: 'import',
    summary: 'Import past daily demand (JSON rows, or CSV with a header row) into the lake as history for forecasting; never changes stock or the ledger. Each row is imported or refused with its reason; a later import of the same date, SKU and warehouse replaces the earlier',
    body: demandHistory.importDemandHistoryBody, response: demandHistory.importDemandHistoryResponse,
    csvBody: { field: 'rows', columns: { date: 'string', sku_id: 'string', warehouse_id: 'string', quantity: 'number' } },
  },
} as const satisfies Record<string, HttpRoute>);
