import * as alerts from './schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const alertRoutes = declareRoutes({
  putThresholds: {
    method: 'PUT', path: '/api/thresholds', entry: handlerEntry('alerts', 'put-thresholds'),
    permission: 'inventory:write', table: 'write',
    summary: 'Set reorder point and safety stock of a SKU x warehouse, a SKU-level default (no warehouse_id) or up to 100 of them ("items"); the level is re-evaluated for alerts at once',
    body: alerts.thresholdsBody, response: alerts.thresholdsResponse, errors: [404, 409],
  },
  listAlerts: {
    method: 'GET', path: '/api/alerts', entry: handlerEntry('alerts', 'list-alerts'),
    permission: 'alerts:read', table: 'read', summary: 'Low-stock alerts, most urgent first (critical, high, normal; then fewest days of cover)',
    query: alerts.listAlertsQuery, response: alerts.alertListResponse,
  },
  acknowledgeAlert: {
    method: 'POST', path: '/api/alerts/{alert_id}/acknowledge', entry: handlerEntry('alerts', 'acknowledge-alert'),
    permission: 'alerts:write', table: 'write', summary: 'Acknowledge an open alert (it still updates and resolves itself); a resolved one is 409',
    params: alerts.alertParams, response: alerts.alertResponse, errors: [409],
  },
} as const satisfies Record<string, HttpRoute>);
