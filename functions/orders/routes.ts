import * as orders from './schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const orderRoutes = declareRoutes({
  allocateOrder: {
    method: 'POST', path: '/api/orders/allocate', entry: handlerEntry('orders', 'allocate-order'),
    permission: 'orders:write', table: 'write',
    summary: 'Plan and reserve an order across warehouses atomically (optionally as an expiring hold); the same order_id returns the existing order',
    body: orders.allocateBody, response: orders.orderResponse, status: 201, errors: [404, 409],
  },
  planOrder: {
    method: 'POST', path: '/api/orders/plan', entry: handlerEntry('orders', 'plan-order'),
    permission: 'orders:read', table: 'read', summary: 'Dry run: the allocation the system would make now, and why; reserves nothing',
    body: orders.planBody, response: orders.planResponse, errors: [404],
  },
  listOrders: {
    method: 'GET', path: '/api/orders', entry: handlerEntry('orders', 'list-orders'),
    permission: 'orders:read', table: 'read',
    summary: 'List orders, optionally of one status (oldest first: allocated and partially_shipped are the orders waiting to ship)',
    query: orders.listOrdersQuery, response: orders.orderListResponse,
  },
  getOrder: {
    method: 'GET', path: '/api/orders/status/{order_id}', entry: handlerEntry('orders', 'get-order'),
    permission: 'orders:read', table: 'read', summary: 'An order: status, lines, allocations per warehouse, shipped and released units',
    params: orders.orderParams, response: orders.orderResponse,
  },
  confirmOrder: {
    method: 'POST', path: '/api/orders/{order_id}/confirm', entry: handlerEntry('orders', 'confirm-order'),
    permission: 'orders:write', table: 'write', summary: 'Turn a checkout hold into a firm allocation (409 once the hold expired)',
    params: orders.orderParams, response: orders.orderResponse, errors: [409],
  },
  cancelOrder: {
    method: 'POST', path: '/api/orders/{order_id}/cancel', entry: handlerEntry('orders', 'cancel-order'),
    permission: 'orders:write', table: 'write', summary: 'Give back every unit still reserved, exactly once; cancelling again changes nothing',
    params: orders.orderParams, response: orders.orderResponse, errors: [409],
  },
  shipOrder: {
    method: 'POST', path: '/api/orders/{order_id}/ship', entry: handlerEntry('orders', 'ship-order'),
    permission: 'orders:write', table: 'write', summary: 'Ship reserved units (partial shipments allowed); more than allocated is 409',
    params: orders.orderParams, body: orders.shipBody, response: orders.orderResponse, errors: [409],
  },
} as const satisfies Record<string, HttpRoute>);
