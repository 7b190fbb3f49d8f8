import * as reports from './schemas';
import * as overview from './overview-schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/** What a report's CSV answer carries in headers, since CSV has no place for it. */
const REPORT_CSV_HEADERS = { data_as_of: 'x-data-as-of', query_id: 'x-query-id' };

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const reportRoutes = declareRoutes({
  stockMovementReport: {
    method: 'GET', path: '/api/reports/stock-movement', entry: handlerEntry('reports', 'stock-movement'),
    permission: 'reports:read', table: 'read', lake: 'query',
    summary: 'Per period and movement type: units in, units out, net and movements, with opening and closing on_hand, from the lake; a long query answers 202 and a query_id to poll',
    query: reports.stockMovementQuery, response: reports.stockMovementDone, accepted: reports.reportRunning, errors: [404, 422],
    csv: { lists: { rows: reports.stockMovementRow }, headers: REPORT_CSV_HEADERS },
  },
  salesTrendsReport: {
    method: 'GET', path: '/api/reports/sales-trends', entry: handlerEntry('reports', 'sales-trends'),
    permission: 'reports:read', table: 'read', lake: 'query',
    summary: 'Units and revenue per period with a moving average and the change against the previous period, top and slow movers, and dead stock, from the lake',
    query: reports.salesTrendsQuery, response: reports.salesTrendsDone, accepted: reports.reportRunning, errors: [404, 422],
    csv: {
      lists: { periods: reports.salesPeriodRow, top_movers: reports.moverRow, slow_movers: reports.moverRow, dead_stock: reports.deadStockRow },
      headers: REPORT_CSV_HEADERS,
    },
  },
  valuationReport: {
    method: 'GET', path: '/api/reports/valuation', entry: handlerEntry('reports', 'valuation'),
    permission: 'reports:read', table: 'read', lake: 'query',
    summary: 'What the stock is worth at as_of, by FIFO or weighted average: per SKU x warehouse quantity, unit cost and value, and totals per currency, from the lake',
    query: reports.valuationQuery, response: reports.valuationDone, accepted: reports.reportRunning, errors: [404, 422],
    csv: {
      lists: { lines: reports.valuationLineRow, totals: reports.valuationTotalRow, warnings: reports.valuationWarningRow },
      headers: REPORT_CSV_HEADERS,
    },
  },
  getReportQuery: {
    method: 'GET', path: '/api/reports/queries/{query_id}', entry: handlerEntry('reports', 'get-report-query'),
    permission: 'reports:read', table: 'read', lake: 'query', summary: 'A report that answered 202: 202 again while its query runs, then the report\'s own answer',
    params: reports.reportQueryParams, response: reports.reportDone, accepted: reports.reportRunning, errors: [422],
    csv: {
      lists: {
        rows: reports.stockMovementRow, periods: reports.salesPeriodRow, top_movers: reports.moverRow, slow_movers: reports.moverRow,
        dead_stock: reports.deadStockRow, lines: reports.valuationLineRow, totals: reports.valuationTotalRow, warnings: reports.valuationWarningRow,
      },
      headers: REPORT_CSV_HEADERS,
    },
  },
  stockOverviewReport: {
    method: 'GET', path: '/api/reports/stock-overview', entry: handlerEntry('reports', 'stock-overview'),
    permission: 'reports:read', table: 'read',
    summary: 'Where the stock stands now, live from the table: totals per warehouse, stock-outs, levels below their reorder point, days of cover and turnover over the last 30 days',
    query: overview.stockOverviewQuery, response: overview.stockOverviewResponse, errors: [404],
    csv: {
      lists: { warehouses: overview.overviewWarehouse, 'stock_outs.levels': overview.overviewLevel, 'below_reorder_point.levels': overview.overviewLevel },
      headers: { as_of: 'x-as-of' },
    },
  },
} as const satisfies Record<string, HttpRoute>);
