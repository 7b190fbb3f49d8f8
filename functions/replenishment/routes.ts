import * as replenishment from './schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const replenishmentRoutes = declareRoutes({
  listReplenishmentSuggestions: {
    method: 'GET', path: '/api/replenishment/suggestions', entry: handlerEntry('replenishment', 'list-suggestions'),
    permission: 'purchasing:read', table: 'read',
    summary: 'Reorder suggestions, one per open or acknowledged alert, most urgent first: quantity (with its basis) and supplier',
    query: replenishment.suggestionsQuery, response: replenishment.suggestionListResponse, errors: [404],
  },
  createPurchaseOrdersFromSuggestions: {
    method: 'POST', path: '/api/replenishment/suggestions/purchase-orders', entry: handlerEntry('replenishment', 'create-purchase-orders'),
    permission: 'purchasing:write', table: 'write',
    summary: 'Turn selected suggestions into draft purchase orders, one per supplier and destination warehouse; what cannot be ordered is reported as skipped',
    body: replenishment.createFromSuggestionsBody, response: replenishment.createFromSuggestionsResponse, status: 201, errors: [404, 409],
  },
  listReorderPoints: {
    method: 'GET', path: '/api/replenishment/reorder-points', entry: handlerEntry('replenishment', 'list-reorder-points'),
    permission: 'purchasing:read', table: 'read',
    summary: 'Proposed reorder point and safety stock of each level of a warehouse from its demand forecast, the supplier\'s lead time and its observed delays, and the SKU\'s service level (default 0.95), with the numbers; a page of levels at a time',
    query: replenishment.reorderPointsQuery, response: replenishment.reorderPointsResponse, errors: [404],
  },
  applyReorderPoints: {
    method: 'POST', path: '/api/replenishment/reorder-points', entry: handlerEntry('replenishment', 'apply-reorder-points'),
    permission: 'inventory:write', table: 'write',
    summary: 'The same proposals for some SKUs of a warehouse (or a page of its levels): a dry run by default; with "dry_run": false the changed ones become the levels\' thresholds, one thresholds ledger row each, as PUT /api/thresholds writes them',
    body: replenishment.applyReorderPointsBody, response: replenishment.applyReorderPointsResponse, errors: [404],
  },
} as const satisfies Record<string, HttpRoute>);
