import * as inventory from './schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const inventoryRoutes = declareRoutes({
  createProduct: {
    method: 'POST', path: '/api/products', entry: handlerEntry('inventory', 'create-product'),
    permission: 'catalog:write', table: 'write', summary: 'Create a product',
    body: inventory.createProductBody, response: inventory.productResponse, status: 201, errors: [409],
  },
  getProduct: {
    method: 'GET', path: '/api/products/{product_id}', entry: handlerEntry('inventory', 'get-product'),
    permission: 'catalog:read', table: 'read', summary: 'Read a product',
    params: inventory.productParams, response: inventory.productResponse,
  },
  createSku: {
    method: 'POST', path: '/api/skus', entry: handlerEntry('inventory', 'create-sku'),
    permission: 'catalog:write', table: 'write', summary: 'Create a SKU of an existing product',
    body: inventory.createSkuBody, response: inventory.skuResponse, status: 201, errors: [404, 409],
  },
  getSku: {
    method: 'GET', path: '/api/skus/{sku_id}', entry: handlerEntry('inventory', 'get-sku'),
    permission: 'catalog:read', table: 'read', summary: 'Read a SKU',
    params: inventory.skuParams, response: inventory.skuResponse,
  },
  patchSku: {
    method: 'PATCH', path: '/api/skus/{sku_id}', entry: handlerEntry('inventory', 'patch-sku'),
    permission: 'catalog:write', table: 'write', summary: 'Change a SKU (null clears an optional field)',
    params: inventory.skuParams, body: inventory.patchSkuBody, response: inventory.skuResponse, errors: [409],
  },
  listSkus: {
    method: 'GET', path: '/api/skus', entry: handlerEntry('inventory', 'list-skus'),
    permission: 'catalog:read', table: 'read', summary: 'List SKUs, optionally of one product',
    query: inventory.listSkusQuery, response: inventory.skuListResponse,
  },
  createWarehouse: {
    method: 'POST', path: '/api/warehouses', entry: handlerEntry('inventory', 'create-warehouse'),
    permission: 'catalog:write', table: 'write', summary: 'Create a warehouse',
    body: inventory.createWarehouseBody, response: inventory.warehouseResponse, status: 201, errors: [409],
  },
  listWarehouses: {
    method: 'GET', path: '/api/warehouses', entry: handlerEntry('inventory', 'list-warehouses'),
    permission: 'catalog:read', table: 'read', summary: 'List warehouses',
    query: inventory.listWarehousesQuery, response: inventory.warehouseListResponse,
  },
  patchWarehouse: {
    method: 'PATCH', path: '/api/warehouses/{warehouse_id}', entry: handlerEntry('inventory', 'patch-warehouse'),
    permission: 'catalog:write', table: 'write', summary: 'Change a warehouse (e.g. deactivate it)',
    params: inventory.warehouseParams, body: inventory.patchWarehouseBody, response: inventory.warehouseResponse,
    errors: [409],
  },
  updateStock: {
    method: 'POST', path: '/api/inventory/update', entry: handlerEntry('inventory', 'update-stock'),
    permission: 'inventory:write', table: 'write',
    summary: 'Record a sale, restock, adjustment or count on one stock level, with its ledger row',
    body: inventory.stockChange, response: inventory.stockLevelResponse, errors: [404, 409],
  },
  transferStock: {
    method: 'POST', path: '/api/inventory/transfer', entry: handlerEntry('inventory', 'transfer-stock'),
    permission: 'inventory:write', table: 'write', summary: 'Move units between two warehouses atomically',
    body: inventory.transferBody, response: inventory.transferResponse, errors: [404, 409],
  },
  bulkUpdateStock: {
    method: 'POST', path: '/api/inventory/bulk-update', entry: handlerEntry('inventory', 'bulk-update-stock'),
    permission: 'inventory:write', table: 'write',
    summary: 'Apply up to 1,000 updates, each reported; or up to 49 all-or-nothing with "atomic": true',
    body: inventory.bulkUpdateBody, response: inventory.bulkUpdateResponse, errors: [404, 409],
  },
  setSubLevels: {
    method: 'POST', path: '/api/inventory/sub-levels', entry: handlerEntry('inventory', 'set-sub-levels'),
    permission: 'inventory:write', table: 'write',
    summary: 'Split a hot level (a flash-sale SKU in one warehouse) into K sub-levels that take writes side by side, or rebalance them; the level stays their sum',
    body: inventory.subLevelsBody, response: inventory.subLevelsResponse, errors: [404],
  },
  getSkuInventory: {
    method: 'GET', path: '/api/inventory/sku/{sku_id}', entry: handlerEntry('inventory', 'get-sku-inventory'),
    permission: 'inventory:read', table: 'read', summary: 'Stock of one SKU in every warehouse, with totals',
    params: inventory.skuParams, response: inventory.skuInventoryResponse,
  },
  listLevels: {
    method: 'GET', path: '/api/inventory/levels', entry: handlerEntry('inventory', 'list-levels'),
    permission: 'inventory:read', table: 'read',
    summary: 'Stock levels of every SKU in every warehouse, a page of SKUs at a time, with search and filters',
    query: inventory.listLevelsQuery, response: inventory.levelListResponse, errors: [404],
  },
  listMovements: {
    method: 'GET', path: '/api/inventory/sku/{sku_id}/movements', entry: handlerEntry('inventory', 'list-movements'),
    permission: 'inventory:read', table: 'read', summary: 'The ledger of one SKU, newest first',
    params: inventory.skuParams, query: inventory.movementsQuery, response: inventory.movementsResponse,
  },
} as const satisfies Record<string, HttpRoute>);
