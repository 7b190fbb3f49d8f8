import * as purchasing from './schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const purchasingRoutes = declareRoutes({
  createSupplier: {
    method: 'POST', path: '/api/suppliers', entry: handlerEntry('purchasing', 'create-supplier'),
    permission: 'purchasing:write', table: 'write', summary: 'Create a supplier (contact details are returned only to roles with suppliers:contact)',
    body: purchasing.createSupplierBody, response: purchasing.supplierResponse, status: 201, errors: [409],
  },
  listSuppliers: {
    method: 'GET', path: '/api/suppliers', entry: handlerEntry('purchasing', 'list-suppliers'),
    permission: 'purchasing:read', table: 'read', summary: 'List suppliers (contact details only for roles with suppliers:contact)',
    audit: { readWith: 'suppliers:contact' },
    query: purchasing.listSuppliersQuery, response: purchasing.supplierListResponse,
  },
  getSupplier: {
    method: 'GET', path: '/api/suppliers/{supplier_id}', entry: handlerEntry('purchasing', 'get-supplier'),
    permission: 'purchasing:read', table: 'read', summary: 'Read a supplier (contact details only for roles with suppliers:contact)',
    audit: { readWith: 'suppliers:contact' },
    params: purchasing.supplierParams, response: purchasing.supplierResponse,
  },
  createPurchaseOrder: {
    method: 'POST', path: '/api/purchase-orders', entry: handlerEntry('purchasing', 'create-purchase-order'),
    permission: 'purchasing:write', table: 'write', summary: 'Create a draft purchase order to one supplier for one destination warehouse; no stock changes yet',
    body: purchasing.createPurchaseOrderBody, response: purchasing.purchaseOrderResponse, status: 201, errors: [404, 409],
  },
  listPurchaseOrders: {
    method: 'GET', path: '/api/purchase-orders', entry: handlerEntry('purchasing', 'list-purchase-orders'),
    permission: 'purchasing:read', table: 'read', summary: 'List purchase orders, optionally by status and supplier',
    query: purchasing.listPurchaseOrdersQuery, response: purchasing.purchaseOrderListResponse,
  },
  getPurchaseOrder: {
    method: 'GET', path: '/api/purchase-orders/{purchase_order_id}', entry: handlerEntry('purchasing', 'get-purchase-order'),
    permission: 'purchasing:read', table: 'read', summary: 'A purchase order: status, lines with ordered, received, cancelled and open quantities',
    params: purchasing.purchaseOrderParams, response: purchasing.purchaseOrderResponse,
  },
  submitPurchaseOrder: {
    method: 'POST', path: '/api/purchase-orders/{purchase_order_id}/submit', entry: handlerEntry('purchasing', 'submit-purchase-order'),
    permission: 'purchasing:write', table: 'write', summary: 'Submit a draft: its quantities become incoming at the destination, atomically',
    params: purchasing.purchaseOrderParams, response: purchasing.purchaseOrderResponse, errors: [409],
  },
  receivePurchaseOrder: {
    method: 'POST', path: '/api/purchase-orders/{purchase_order_id}/receive', entry: handlerEntry('purchasing', 'receive-purchase-order'),
    permission: 'purchasing:write', table: 'write',
    summary: 'Receive one delivery (partial allowed): on hand up, incoming down, receipt ledger rows with unit cost, in one transaction; over-receipt is 409 unless allowed',
    params: purchasing.purchaseOrderParams, body: purchasing.receiveBody, response: purchasing.purchaseOrderResponse, errors: [409],
  },
  cancelPurchaseOrder: {
    method: 'POST', path: '/api/purchase-orders/{purchase_order_id}/cancel', entry: handlerEntry('purchasing', 'cancel-purchase-order'),
    permission: 'purchasing:write', table: 'write', summary: 'Cancel what has not arrived: its open quantities leave incoming; cancelling again changes nothing',
    params: purchasing.purchaseOrderParams, response: purchasing.purchaseOrderResponse, errors: [409],
  },
} as const satisfies Record<string, HttpRoute>);
