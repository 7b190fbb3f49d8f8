import * as z from 'zod';
import * as inventory from './inventory/schemas';
import * as orders from './orders/schemas';
import * as purchasing from './purchasing/schemas';
import * as alerts from './alerts/schemas';
import * as notifications from './notifications/schemas';
import * as replenishment from './replenishment/schemas';
import * as reports from './reports/schemas';
import * as overview from './reports/overview-schemas';
import * as forecasting from './forecasting/forecast-schemas';
import * as demandHistory from './forecasting/schemas';
import * as channels from './channels/schemas';
import * as integration from './channels/integration-schemas';
import * as roles from './identity/role-schemas';
import * as audit from './audit/schemas';
import * as users from './identity/schemas';
import { nameRoutes, type HttpRoute } from './platform/routes';
import { SIGNED_BY_PLATFORM } from './platform/permissions';
import { LEVEL_BALANCE_COLUMNS, LEVEL_DAY_COLUMNS, MOVEMENT_COLUMNS, ORDER_LINE_COLUMNS, type LakeColumn } from './events/lake-columns';

/**
 * The one declaration of what runs and what triggers it. The CDK stack
 * (lib/) makes one Lambda and one API route per entry, the local runtime
 * (bin/local) serves the same routes with the same handler modules, the
 * handlers take their permission and schemas from here, and
 * GET /api/openapi.json is generated from it. test/infra proves the stack
 * and the local runtime agree.
 */
export type { HttpMethod, HttpRoute } from './platform/routes';

const handler = (context: string, name: string): string => `functions/${context}/handlers/${name}.ts`;

// `errors` names only the domain statuses a route answers beyond what every route of its kind can
// (400, 401, 403, 413, 431 and 503 anywhere; 404 with a path id; 415 with a body; 422 on a writing
// POST): functions/api/openapi.ts derives those, so the document cannot miss one.
/** What a report's CSV answer carries in headers, since CSV has no place for it. */
const REPORT_CSV_HEADERS = { data_as_of: 'x-data-as-of', query_id: 'x-query-id' };

export const httpRoutes = {
  createProduct: {
    method: 'POST', path: '/api/products', entry: handler('inventory', 'create-product'),
    permission: 'catalog:write', table: 'write', summary: 'Create a product',
    body: inventory.createProductBody, response: inventory.productResponse, status: 201, errors: [409],
  },
  getProduct: {
    method: 'GET', path: '/api/products/{product_id}', entry: handler('inventory', 'get-product'),
    permission: 'catalog:read', table: 'read', summary: 'Read a product',
    params: inventory.productParams, response: inventory.productResponse,
  },
  createSku: {
    method: 'POST', path: '/api/skus', entry: handler('inventory', 'create-sku'),
    permission: 'catalog:write', table: 'write', summary: 'Create a SKU of an existing product',
    body: inventory.createSkuBody, response: inventory.skuResponse, status: 201, errors: [404, 409],
  },
  getSku: {
    method: 'GET', path: '/api/skus/{sku_id}', entry: handler('inventory', 'get-sku'),
    permission: 'catalog:read', table: 'read', summary: 'Read a SKU',
    params: inventory.skuParams, response: inventory.skuResponse,
  },
  patchSku: {
    method: 'PATCH', path: '/api/skus/{sku_id}', entry: handler('inventory', 'patch-sku'),
    permission: 'catalog:write', table: 'write', summary: 'Change a SKU (null clears an optional field)',
    params: inventory.skuParams, body: inventory.patchSkuBody, response: inventory.skuResponse, errors: [409],
  },
  listSkus: {
    method: 'GET', path: '/api/skus', entry: handler('inventory', 'list-skus'),
    permission: 'catalog:read', table: 'read', summary: 'List SKUs, optionally of one product',
    query: inventory.listSkusQuery, response: inventory.skuListResponse,
  },
  createWarehouse: {
    method: 'POST', path: '/api/warehouses', entry: handler('inventory', 'create-warehouse'),
    permission: 'catalog:write', table: 'write', summary: 'Create a warehouse',
    body: inventory.createWarehouseBody, response: inventory.warehouseResponse, status: 201, errors: [409],
  },
  listWarehouses: {
    method: 'GET', path: '/api/warehouses', entry: handler('inventory', 'list-warehouses'),
    permission: 'catalog:read', table: 'read', summary: 'List warehouses',
    query: inventory.listWarehousesQuery, response: inventory.warehouseListResponse,
  },
  patchWarehouse: {
    method: 'PATCH', path: '/api/warehouses/{warehouse_id}', entry: handler('inventory', 'patch-warehouse'),
    permission: 'catalog:write', table: 'write', summary: 'Change a warehouse (e.g. deactivate it)',
    params: inventory.warehouseParams, body: inventory.patchWarehouseBody, response: inventory.warehouseResponse,
    errors: [409],
  },
  updateStock: {
    method: 'POST', path: '/api/inventory/update', entry: handler('inventory', 'update-stock'),
    permission: 'inventory:write', table: 'write',
    summary: 'Record a sale, restock, adjustment or count on one stock level, with its ledger row',
    body: inventory.stockChange, response: inventory.stockLevelResponse, errors: [404, 409],
  },
  transferStock: {
    method: 'POST', path: '/api/inventory/transfer', entry: handler('inventory', 'transfer-stock'),
    permission: 'inventory:write', table: 'write', summary: 'Move units between two warehouses atomically',
    body: inventory.transferBody, response: inventory.transferResponse, errors: [404, 409],
  },
  bulkUpdateStock: {
    method: 'POST', path: '/api/inventory/bulk-update', entry: handler('inventory', 'bulk-update-stock'),
    permission: 'inventory:write', table: 'write',
    summary: 'Apply up to 1,000 updates, each reported; or up to 49 all-or-nothing with "atomic": true',
    body: inventory.bulkUpdateBody, response: inventory.bulkUpdateResponse, errors: [404, 409],
  },
  getSkuInventory: {
    method: 'GET', path: '/api/inventory/sku/{sku_id}', entry: handler('inventory', 'get-sku-inventory'),
    permission: 'inventory:read', table: 'read', summary: 'Stock of one SKU in every warehouse, with totals',
    params: inventory.skuParams, response: inventory.skuInventoryResponse,
  },
  listLevels: {
    method: 'GET', path: '/api/inventory/levels', entry: handler('inventory', 'list-levels'),
    permission: 'inventory:read', table: 'read',
    summary: 'Stock levels of every SKU in every warehouse, a page of SKUs at a time, with search and filters',
    query: inventory.listLevelsQuery, response: inventory.levelListResponse, errors: [404],
  },
  listMovements: {
    method: 'GET', path: '/api/inventory/sku/{sku_id}/movements', entry: handler('inventory', 'list-movements'),
    permission: 'inventory:read', table: 'read', summary: 'The ledger of one SKU, newest first',
    params: inventory.skuParams, query: inventory.movementsQuery, response: inventory.movementsResponse,
  },
  allocateOrder: {
    method: 'POST', path: '/api/orders/allocate', entry: handler('orders', 'allocate-order'),
    permission: 'orders:write', table: 'write',
    summary: 'Plan and reserve an order across warehouses atomically (optionally as an expiring hold); the same order_id returns the existing order',
    body: orders.allocateBody, response: orders.orderResponse, status: 201, errors: [404, 409],
  },
  planOrder: {
    method: 'POST', path: '/api/orders/plan', entry: handler('orders', 'plan-order'),
    permission: 'orders:read', table: 'read', summary: 'Dry run: the allocation the system would make now, and why; reserves nothing',
    body: orders.planBody, response: orders.planResponse, errors: [404],
  },
  listOrders: {
    method: 'GET', path: '/api/orders', entry: handler('orders', 'list-orders'),
    permission: 'orders:read', table: 'read',
    summary: 'List orders, optionally of one status (oldest first: allocated and partially_shipped are the orders waiting to ship)',
    query: orders.listOrdersQuery, response: orders.orderListResponse,
  },
  getOrder: {
    method: 'GET', path: '/api/orders/status/{order_id}', entry: handler('orders', 'get-order'),
    permission: 'orders:read', table: 'read', summary: 'An order: status, lines, allocations per warehouse, shipped and released units',
    params: orders.orderParams, response: orders.orderResponse,
  },
  confirmOrder: {
    method: 'POST', path: '/api/orders/{order_id}/confirm', entry: handler('orders', 'confirm-order'),
    permission: 'orders:write', table: 'write', summary: 'Turn a checkout hold into a firm allocation (409 once the hold expired)',
    params: orders.orderParams, response: orders.orderResponse, errors: [409],
  },
  cancelOrder: {
    method: 'POST', path: '/api/orders/{order_id}/cancel', entry: handler('orders', 'cancel-order'),
    permission: 'orders:write', table: 'write', summary: 'Give back every unit still reserved, exactly once; cancelling again changes nothing',
    params: orders.orderParams, response: orders.orderResponse, errors: [409],
  },
  shipOrder: {
    method: 'POST', path: '/api/orders/{order_id}/ship', entry: handler('orders', 'ship-order'),
    permission: 'orders:write', table: 'write', summary: 'Ship reserved units (partial shipments allowed); more than allocated is 409',
    params: orders.orderParams, body: orders.shipBody, response: orders.orderResponse, errors: [409],
  },
  openApi: {
    method: 'GET', path: '/api/openapi.json', entry: handler('api', 'openapi'),
    permission: 'api:read', table: 'none', summary: 'This API as an OpenAPI 3.1 document',
    response: z.record(z.string(), z.unknown()).describe('OpenAPI 3.1 document'),
  },
  createSupplier: {
    method: 'POST', path: '/api/suppliers', entry: handler('purchasing', 'create-supplier'),
    permission: 'purchasing:write', table: 'write', summary: 'Create a supplier (contact details are returned only to roles with suppliers:contact)',
    body: purchasing.createSupplierBody, response: purchasing.supplierResponse, status: 201, errors: [409],
  },
  listSuppliers: {
    method: 'GET', path: '/api/suppliers', entry: handler('purchasing', 'list-suppliers'),
    permission: 'purchasing:read', table: 'read', summary: 'List suppliers (contact details only for roles with suppliers:contact)',
    audit: { readWith: 'suppliers:contact' },
    query: purchasing.listSuppliersQuery, response: purchasing.supplierListResponse,
  },
  getSupplier: {
    method: 'GET', path: '/api/suppliers/{supplier_id}', entry: handler('purchasing', 'get-supplier'),
    permission: 'purchasing:read', table: 'read', summary: 'Read a supplier (contact details only for roles with suppliers:contact)',
    audit: { readWith: 'suppliers:contact' },
    params: purchasing.supplierParams, response: purchasing.supplierResponse,
  },
  createPurchaseOrder: {
    method: 'POST', path: '/api/purchase-orders', entry: handler('purchasing', 'create-purchase-order'),
    permission: 'purchasing:write', table: 'write', summary: 'Create a draft purchase order to one supplier for one destination warehouse; no stock changes yet',
    body: purchasing.createPurchaseOrderBody, response: purchasing.purchaseOrderResponse, status: 201, errors: [404, 409],
  },
  listPurchaseOrders: {
    method: 'GET', path: '/api/purchase-orders', entry: handler('purchasing', 'list-purchase-orders'),
    permission: 'purchasing:read', table: 'read', summary: 'List purchase orders, optionally by status and supplier',
    query: purchasing.listPurchaseOrdersQuery, response: purchasing.purchaseOrderListResponse,
  },
  getPurchaseOrder: {
    method: 'GET', path: '/api/purchase-orders/{purchase_order_id}', entry: handler('purchasing', 'get-purchase-order'),
    permission: 'purchasing:read', table: 'read', summary: 'A purchase order: status, lines with ordered, received, cancelled and open quantities',
    params: purchasing.purchaseOrderParams, response: purchasing.purchaseOrderResponse,
  },
  submitPurchaseOrder: {
    method: 'POST', path: '/api/purchase-orders/{purchase_order_id}/submit', entry: handler('purchasing', 'submit-purchase-order'),
    permission: 'purchasing:write', table: 'write', summary: 'Submit a draft: its quantities become incoming at the destination, atomically',
    params: purchasing.purchaseOrderParams, response: purchasing.purchaseOrderResponse, errors: [409],
  },
  receivePurchaseOrder: {
    method: 'POST', path: '/api/purchase-orders/{purchase_order_id}/receive', entry: handler('purchasing', 'receive-purchase-order'),
    permission: 'purchasing:write', table: 'write',
    summary: 'Receive one delivery (partial allowed): on hand up, incoming down, receipt ledger rows with unit cost, in one transaction; over-receipt is 409 unless allowed',
    params: purchasing.purchaseOrderParams, body: purchasing.receiveBody, response: purchasing.purchaseOrderResponse, errors: [409],
  },
  cancelPurchaseOrder: {
    method: 'POST', path: '/api/purchase-orders/{purchase_order_id}/cancel', entry: handler('purchasing', 'cancel-purchase-order'),
    permission: 'purchasing:write', table: 'write', summary: 'Cancel what has not arrived: its open quantities leave incoming; cancelling again changes nothing',
    params: purchasing.purchaseOrderParams, response: purchasing.purchaseOrderResponse, errors: [409],
  },
  putThresholds: {
    method: 'PUT', path: '/api/thresholds', entry: handler('alerts', 'put-thresholds'),
    permission: 'inventory:write', table: 'write',
    summary: 'Set reorder point and safety stock of a SKU x warehouse, a SKU-level default (no warehouse_id) or up to 100 of them ("items"); the level is re-evaluated for alerts at once',
    body: alerts.thresholdsBody, response: alerts.thresholdsResponse, errors: [404, 409],
  },
  listAlerts: {
    method: 'GET', path: '/api/alerts', entry: handler('alerts', 'list-alerts'),
    permission: 'alerts:read', table: 'read', summary: 'Low-stock alerts, most urgent first (critical, high, normal; then fewest days of cover)',
    query: alerts.listAlertsQuery, response: alerts.alertListResponse,
  },
  acknowledgeAlert: {
    method: 'POST', path: '/api/alerts/{alert_id}/acknowledge', entry: handler('alerts', 'acknowledge-alert'),
    permission: 'alerts:write', table: 'write', summary: 'Acknowledge an open alert (it still updates and resolves itself); a resolved one is 409',
    params: alerts.alertParams, response: alerts.alertResponse, errors: [409],
  },
  subscribeAlerts: {
    method: 'POST', path: '/api/alerts/subscribe', entry: handler('notifications', 'subscribe'),
    permission: 'alerts:write', table: 'write',
    summary: 'Subscribe an email address, phone number (SMS) or https webhook to alerts of a SKU, a warehouse or all; a webhook gets its HMAC secret in this answer only',
    body: notifications.subscribeBody, response: notifications.createdSubscriptionResponse, status: 201, errors: [404],
  },
  listAlertSubscriptions: {
    method: 'GET', path: '/api/alerts/subscriptions', entry: handler('notifications', 'list-subscriptions'),
    permission: 'subscriptions:read', table: 'read', summary: 'Alert subscriptions of this tenant, oldest first (secrets are never shown; viewers may not list targets)',
    query: notifications.listSubscriptionsQuery, response: notifications.subscriptionListResponse,
  },
  deleteAlertSubscription: {
    method: 'DELETE', path: '/api/alerts/subscriptions/{subscription_id}', entry: handler('notifications', 'delete-subscription'),
    permission: 'alerts:write', table: 'write', summary: 'Delete a subscription; it is notified no more',
    params: notifications.subscriptionParams, response: notifications.subscriptionResponse,
  },
  listNotifications: {
    method: 'GET', path: '/api/notifications', entry: handler('notifications', 'list-notifications'),
    permission: 'alerts:read', table: 'read',
    summary: 'The local outbox: email and SMS notifications the local runtime did not send (empty in AWS, where SES and SNS deliver them)',
    query: notifications.listNotificationsQuery, response: notifications.notificationListResponse,
  },
  listReplenishmentSuggestions: {
    method: 'GET', path: '/api/replenishment/suggestions', entry: handler('replenishment', 'list-suggestions'),
    permission: 'purchasing:read', table: 'read',
    summary: 'Reorder suggestions, one per open or acknowledged alert, most urgent first: quantity (with its basis) and supplier',
    query: replenishment.suggestionsQuery, response: replenishment.suggestionListResponse, errors: [404],
  },
  createPurchaseOrdersFromSuggestions: {
    method: 'POST', path: '/api/replenishment/suggestions/purchase-orders', entry: handler('replenishment', 'create-purchase-orders'),
    permission: 'purchasing:write', table: 'write',
    summary: 'Turn selected suggestions into draft purchase orders, one per supplier and destination warehouse; what cannot be ordered is reported as skipped',
    body: replenishment.createFromSuggestionsBody, response: replenishment.createFromSuggestionsResponse, status: 201, errors: [404, 409],
  },
  listReorderPoints: {
    method: 'GET', path: '/api/replenishment/reorder-points', entry: handler('replenishment', 'list-reorder-points'),
    permission: 'purchasing:read', table: 'read',
    summary: 'Proposed reorder point and safety stock of each level of a warehouse from its demand forecast, the supplier\'s lead time and its observed delays, and the SKU\'s service level (default 0.95), with the numbers; a page of levels at a time',
    query: replenishment.reorderPointsQuery, response: replenishment.reorderPointsResponse, errors: [404],
  },
  applyReorderPoints: {
    method: 'POST', path: '/api/replenishment/reorder-points', entry: handler('replenishment', 'apply-reorder-points'),
    permission: 'inventory:write', table: 'write',
    summary: 'The same proposals for some SKUs of a warehouse (or a page of its levels): a dry run by default; with "dry_run": false the changed ones become the levels\' thresholds, one thresholds ledger row each, as PUT /api/thresholds writes them',
    body: replenishment.applyReorderPointsBody, response: replenishment.applyReorderPointsResponse, errors: [404],
  },
  stockMovementReport: {
    method: 'GET', path: '/api/reports/stock-movement', entry: handler('reports', 'stock-movement'),
    permission: 'reports:read', table: 'read', lake: 'query',
    summary: 'Per period and movement type: units in, units out, net and movements, with opening and closing on_hand, from the lake; a long query answers 202 and a query_id to poll',
    query: reports.stockMovementQuery, response: reports.stockMovementDone, accepted: reports.reportRunning, errors: [404, 422],
    csv: { lists: { rows: reports.stockMovementRow }, headers: REPORT_CSV_HEADERS },
  },
  salesTrendsReport: {
    method: 'GET', path: '/api/reports/sales-trends', entry: handler('reports', 'sales-trends'),
    permission: 'reports:read', table: 'read', lake: 'query',
    summary: 'Units and revenue per period with a moving average and the change against the previous period, top and slow movers, and dead stock, from the lake',
    query: reports.salesTrendsQuery, response: reports.salesTrendsDone, accepted: reports.reportRunning, errors: [404, 422],
    csv: {
      lists: { periods: reports.salesPeriodRow, top_movers: reports.moverRow, slow_movers: reports.moverRow, dead_stock: reports.deadStockRow },
      headers: REPORT_CSV_HEADERS,
    },
  },
  valuationReport: {
    method: 'GET', path: '/api/reports/valuation', entry: handler('reports', 'valuation'),
    permission: 'reports:read', table: 'read', lake: 'query',
    summary: 'What the stock is worth at as_of, by FIFO or weighted average: per SKU x warehouse quantity, unit cost and value, and totals per currency, from the lake',
    query: reports.valuationQuery, response: reports.valuationDone, accepted: reports.reportRunning, errors: [404, 422],
    csv: {
      lists: { lines: reports.valuationLineRow, totals: reports.valuationTotalRow, warnings: reports.valuationWarningRow },
      headers: REPORT_CSV_HEADERS,
    },
  },
  getReportQuery: {
    method: 'GET', path: '/api/reports/queries/{query_id}', entry: handler('reports', 'get-report-query'),
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
    method: 'GET', path: '/api/reports/stock-overview', entry: handler('reports', 'stock-overview'),
    permission: 'reports:read', table: 'read',
    summary: 'Where the stock stands now, live from the table: totals per warehouse, stock-outs, levels below their reorder point, days of cover and turnover over the last 30 days',
    query: overview.stockOverviewQuery, response: overview.stockOverviewResponse, errors: [404],
    csv: {
      lists: { warehouses: overview.overviewWarehouse, 'stock_outs.levels': overview.overviewLevel, 'below_reorder_point.levels': overview.overviewLevel },
      headers: { as_of: 'x-as-of' },
    },
  },
  demandForecast: {
    method: 'GET', path: '/api/reports/demand-forecast', entry: handler('forecasting', 'get-demand-forecast'),
    permission: 'reports:read', table: 'read',
    summary: 'A level\'s demand forecast from today (default 28 days, at most 180): daily and total with an 80% range, its demand class, the method chosen and why, and the history it used',
    query: forecasting.demandForecastQuery, response: forecasting.demandForecastResponse, errors: [404],
  },
  requestForecastRun: {
    method: 'POST', path: '/api/reports/demand-forecast/run', entry: handler('forecasting', 'request-forecast-run'),
    permission: 'forecast-runs:write', table: 'write', status: 202,
    summary: 'Forecast every level of the caller\'s tenant now (as the nightly run does): answers 202 with the run, to follow at /api/reports/demand-forecast/runs/{run_id}',
    response: forecasting.forecastRunResponse,
  },
  getForecastRun: {
    method: 'GET', path: '/api/reports/demand-forecast/runs/{run_id}', entry: handler('forecasting', 'get-forecast-run'),
    permission: 'reports:read', table: 'read',
    summary: 'A forecasting run: its state, progress (chunks of series) and summary (levels per demand class and method, backtest accuracy against the baseline)',
    params: forecasting.runParams, response: forecasting.forecastRunResponse,
  },
  importDemandHistory: {
    method: 'POST', path: '/api/reports/demand-history', entry: handler('forecasting', 'import-demand-history'),
    permission: 'forecast:write', table: 'read', lake: 'import',
    summary: 'Import past daily demand (JSON rows, or CSV with a header row) into the lake as history for forecasting; never changes stock or the ledger. Each row is imported or refused with its reason; a later import of the same date, SKU and warehouse replaces the earlier',
    body: demandHistory.importDemandHistoryBody, response: demandHistory.importDemandHistoryResponse,
    csvBody: { field: 'rows', columns: { date: 'string', sku_id: 'string', warehouse_id: 'string', quantity: 'number' } },
  },
  createChannel: {
    method: 'POST', path: '/api/channels', entry: handler('channels', 'create-channel'),
    permission: 'channels:write', table: 'write', channelSecrets: 'write',
    summary: 'Connect a Shopify store or Amazon seller account: the warehouses whose stock it sells, a buffer, the conflict rule and the credentials (stored apart, write-only: never returned)',
    body: channels.createChannelBody, response: channels.channelResponse, status: 201, errors: [404, 409],
  },
  listChannels: {
    method: 'GET', path: '/api/channels', entry: handler('channels', 'list-channels'),
    permission: 'channels:read', table: 'read', summary: 'Sales channel connections of this tenant (which credentials are stored, never their values)',
    query: channels.listChannelsQuery, response: channels.channelListResponse,
  },
  getChannel: {
    method: 'GET', path: '/api/channels/{channel_id}', entry: handler('channels', 'get-channel'),
    permission: 'channels:read', table: 'read', summary: 'A sales channel connection (which credentials are stored, never their values)',
    params: channels.channelParams, response: channels.channelResponse,
  },
  patchChannel: {
    method: 'PATCH', path: '/api/channels/{channel_id}', entry: handler('channels', 'patch-channel'),
    permission: 'channels:write', table: 'write', channelSecrets: 'write',
    summary: 'Change a connection\'s warehouses, buffer, conflict rule or api_base_url, or replace its credentials whole (its platform cannot change)',
    params: channels.channelParams, body: channels.patchChannelBody, response: channels.channelResponse, errors: [404, 409],
  },
  deleteChannel: {
    method: 'DELETE', path: '/api/channels/{channel_id}', entry: handler('channels', 'delete-channel'),
    permission: 'channels:write', table: 'write', channelSecrets: 'write',
    summary: 'Remove a connection and its stored credentials',
    params: channels.channelParams, response: channels.channelResponse,
  },
  listListings: {
    method: 'GET', path: '/api/channels/{channel_id}/listings', entry: handler('channels', 'list-listings'),
    permission: 'channels:read', table: 'read',
    summary: "The listing map of a channel, paged over the tenant's SKUs: each mapping with its status and last pushed quantity, and the SKUs unmapped or ambiguous",
    params: channels.channelParams, query: channels.listListingsQuery, response: channels.listingListResponse,
  },
  putListing: {
    method: 'PUT', path: '/api/channels/{channel_id}/listings/{sku_id}', entry: handler('channels', 'put-listing'),
    permission: 'channels:write', table: 'write',
    summary: "Map a SKU by hand (Shopify inventory item and location; Amazon seller SKU and product type); discovery never overwrites it",
    params: channels.listingParams, body: channels.putListingBody, response: channels.listingResponse, errors: [409],
  },
  discoverListings: {
    method: 'POST', path: '/api/channels/{channel_id}/listings/discover', entry: handler('channels', 'discover-listings'),
    permission: 'channels:write', table: 'write', channelSecrets: 'read',
    summary: "Shopify only: look SKUs up by exact SKU and store mapped, unmapped or ambiguous (never over a manual mapping); the platform's failures are per SKU",
    params: channels.channelParams, body: channels.discoverListingsBody, response: channels.discoverListingsResponse, errors: [409],
  },
  // --- issue 11: shopify webhooks route ---
  shopifyWebhook: {
    method: 'POST', path: '/api/integration/shopify/webhooks', entry: handler('channels', 'shopify-webhook'),
    auth: 'webhook', permission: SIGNED_BY_PLATFORM, table: 'write', channelSecrets: 'read',
    summary: "Shopify's webhooks (no token: the X-Shopify-Hmac-Sha256 signature of the raw body, with the shop's connection's webhook_secret): orders/create allocates the order once, orders/cancelled releases it, inventory_levels/update records the quantity Shopify reports; each delivery once",
    headers: channels.shopifyWebhookHeaders, body: channels.shopifyWebhookBody, response: channels.shopifyWebhookResponse,
  },
  // --- issue 11: sync and status routes ---
  requestSync: {
    method: 'POST', path: '/api/integration/sync', entry: handler('channels', 'request-sync'),
    permission: 'channel-sync:write', table: 'write', status: 202,
    summary: "Reconcile now: a run per connection named (channel_id) or of a platform (platform_name), optionally only some SKUs; each compares what the channel shows with what we publish and applies the connection's conflict rule. Answers 202 with the runs, to follow at /api/channels/{channel_id}/reconciliations/{reconciliation_id}",
    body: integration.syncBody, response: integration.syncResponse, errors: [404],
  },
  getReconciliation: {
    method: 'GET', path: '/api/channels/{channel_id}/reconciliations/{reconciliation_id}', entry: handler('channels', 'get-reconciliation'),
    permission: 'channels:read', table: 'read',
    summary: 'A reconciliation run: its state and counts, and a page of its findings (per SKU that differed or could not be checked: ours, the channel\'s, the difference, the probable cause and what was done)',
    params: integration.reconciliationParams, query: integration.reconciliationQuery, response: integration.reconciliationWithFindings,
  },
  integrationStatus: {
    method: 'GET', path: '/api/integration/status', entry: handler('channels', 'integration-status'),
    permission: 'channels:read', table: 'read',
    summary: 'How each sales channel connection\'s sync stands: last push and its lag, pushes failed, listings awaiting a push, inbound orders that failed, the order poll\'s checkpoint, and the last reconciliation with its drift',
    response: integration.integrationStatusResponse,
  },
  // --- issue 12: roles ---
  listRoles: {
    method: 'GET', path: '/api/roles', entry: handler('identity', 'list-roles'),
    permission: 'api:read', table: 'none',
    summary: 'The permission matrix: every role with its description and permissions, and every permission with its description (functions/platform/permissions.ts, as the HTTP layer enforces it)',
    response: roles.roleMatrixResponse,
  },
  // --- issue 12: the audit trail ---
  listAudit: {
    method: 'GET', path: '/api/audit', entry: handler('audit', 'list-audit'),
    permission: 'audit:read', table: 'read', audit: 'read',
    summary: 'The audit trail of this tenant, newest first: who did what (the route\'s name), to which ids, when, from where, how it ended and what it changed; filtered by actor, action, target id, time and outcome, a page at a time, or as CSV. Reading it is recorded too',
    query: audit.listAuditQuery, response: audit.auditListResponse, csv: { lists: { records: audit.auditCsvRow } },
  },
  // --- issue 12: users ---
  createUser: {
    method: 'POST', path: '/api/users', entry: handler('identity', 'create-user'),
    permission: 'users:write', table: 'write', userPool: 'manage',
    summary: 'Invite a user of this tenant with a role (never one with a permission the caller lacks) and optionally a warehouse scope; in AWS a Cognito user, who gets a temporary password by e-mail',
    body: users.createUserBody, response: users.userResponse, status: 201, errors: [404, 409],
  },
  listUsers: {
    method: 'GET', path: '/api/users', entry: handler('identity', 'list-users'),
    permission: 'users:read', table: 'read', audit: 'read', summary: "This tenant's users, optionally of one role or only the disabled (or enabled) ones",
    query: users.listUsersQuery, response: users.userListResponse,
  },
  getUser: {
    method: 'GET', path: '/api/users/{user_id}', entry: handler('identity', 'get-user'),
    permission: 'users:read', table: 'read', audit: 'read', summary: 'A user of this tenant',
    params: users.userParams, response: users.userResponse,
  },
  patchUser: {
    method: 'PATCH', path: '/api/users/{user_id}', entry: handler('identity', 'patch-user'),
    permission: 'users:write', table: 'write', userPool: 'manage',
    summary: "Change a user's name, role, warehouse scope (null: every warehouse) or disabled; a disabled user's tokens are refused, and role and scope changes apply, within 60 s. The last enabled admin stays one (409)",
    params: users.userParams, body: users.patchUserBody, response: users.userResponse, errors: [409],
  },
  deleteUser: {
    method: 'DELETE', path: '/api/users/{user_id}', entry: handler('identity', 'delete-user'),
    permission: 'users:write', table: 'write', userPool: 'manage',
    summary: "Remove a user (their tokens are refused within 60 s); not the tenant's last enabled admin (409)",
    params: users.userParams, response: users.userResponse, errors: [409],
  },
} as const satisfies Record<string, HttpRoute>;

export type RouteName = keyof typeof httpRoutes;

// The audit trail records each request by its route's name here (functions/platform/routes.ts).
nameRoutes(httpRoutes);

export const routeKey = (route: Pick<HttpRoute, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/**
 * What answers a request no route above matches: in AWS the HTTP API's `$default` route (without
 * the JWT authorizer, so an unknown route is a 404 or 405 before any token check, as locally),
 * where API Gateway would answer `{"message":"Not Found"}` itself. Not an HttpRoute: it has no
 * method, path or permission, and is not an operation of the OpenAPI document.
 */
export const fallbackRoute = {
  entry: handler('api', 'route-not-found'),
  table: 'none',
  summary: 'Answers a request no route matches: 404 ROUTE_NOT_FOUND, or 405 METHOD_NOT_ALLOWED with Allow when another method serves the path',
} as const;

// ---------- beyond HTTP: the stream, the event bus and schedules ----------

/** Env var naming the custom EventBridge bus (locally: the in-process bus). */
export const EVENT_BUS_ENV = 'EVENT_BUS_NAME';

/**
 * The table's stream feeds one processor that turns item changes into typed
 * domain events on the bus. Failed records are reported per item (partial
 * batch response); after `maxRetries` they go to a dead-letter queue.
 */
export const streamProcessor = {
  entry: 'functions/events/handlers/stream-processor.ts',
  batchSize: 100,
  maxRetries: 5,
} as const;

export interface ScheduledFunction {
  entry: string;
  /** How often it runs (EventBridge rate; the local scheduler uses the same period). */
  everySeconds: number;
  table: 'none' | 'read' | 'write';
  /**
   * 'close': the lake's daily close (functions/reports/close.ts): it reads the feeds' objects
   * (movements/), writes the rollups' (level_days/) and its own (close/) in the lake bucket,
   * through S3's API only (no Athena). One run at a time.
   */
  lake?: 'close' | 'forecast-schedule';
  summary: string;
}

export const scheduledFunctions = {
  expireHolds: {
    entry: 'functions/orders/handlers/expire-holds.ts',
    everySeconds: 60,
    table: 'write',
    summary: 'Release checkout holds whose time ran out (DynamoDB TTL is too late and too vague for this)',
  },
  closeLake: {
    entry: 'functions/reports/handlers/close-lake.ts',
    // Hourly: a day is closed within the hour after midnight UTC, and a late row reaching a closed day is counted within an hour.
    everySeconds: 3600,
    table: 'none',
    lake: 'close',
    summary: 'Close the lake: roll every finished day up into level_days and roll the valuation checkpoints forward, for each tenant; days whose files changed are closed again',
  },
  requestNightlyForecasts: {
    entry: 'functions/forecasting/handlers/request-nightly-forecasts.ts',
    // Hourly, like the close: each tenant's nightly run is requested (once a day) in the hour after its close reaches today.
    everySeconds: 3600,
    table: 'write',
    lake: 'forecast-schedule',
    summary: 'Request each tenant\'s nightly forecasting run (nightly-<day>, once) as soon as the lake close has closed yesterday',
  },
} as const satisfies Record<string, ScheduledFunction>;

/**
 * Consumers of domain events, each behind its own SQS queue (retries with a
 * visibility timeout, then a dead-letter queue after `maxReceives`): in AWS an
 * EventBridge rule on the custom bus -> the queue -> the function (partial
 * batch responses); locally bin/local/queues.ts does the same in process.
 * The handler takes an `SQSEvent` whose bodies are the EventBridge events.
 */
export interface EventConsumer {
  entry: string;
  summary: string;
  /** EventBridge event pattern (source, detail-type) of the rule feeding the queue. */
  pattern: { source: readonly string[]; 'detail-type': readonly string[] };
  queue: {
    /** Deliveries of a message before it goes to the dead-letter queue. */
    maxReceives: number;
    /** How long a received message stays hidden; the function's timeout is a sixth of it (AWS's advice). */
    visibilityTimeoutSeconds: number;
    batchSize: number;
  };
  table: 'read' | 'write';
  /**
   * What it does in the lake bucket (through S3's API): 'forecast-plan' reads the close's days
   * (and imported history) and writes a run's chunks under forecast/; 'forecast-chunk' reads them.
   */
  lake?: 'forecast-plan' | 'forecast-chunk';
  /** Lambda memory in MB, when the default is not enough (memory also buys CPU). */
  memorySize?: number;
  /**
   * 'default': the rule is on the account's default event bus, where AWS services put their events
   * (CloudWatch's alarm state changes), not on the custom bus. Locally there is one bus for both.
   */
  bus?: 'default';
}

export const eventConsumers = {
  evaluateAlerts: {
    entry: 'functions/alerts/handlers/evaluate-alerts.ts',
    summary: 'Open, update and resolve low-stock alerts from StockLevelChanged',
    pattern: { source: ['stockroom'], 'detail-type': ['StockLevelChanged'] },
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 180, batchSize: 10 },
    table: 'write',
  },
  notifyAlerts: {
    entry: 'functions/notifications/handlers/notify-alerts.ts',
    summary: 'Notify alert subscribers (email, SMS, webhook), once per subscription, alert and throttle window, most urgent first',
    pattern: { source: ['stockroom'], 'detail-type': ['AlertOpened', 'AlertUpdated'] },
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 180, batchSize: 10 },
    table: 'write',
  },
  planForecast: {
    entry: 'functions/forecasting/handlers/plan-forecast.ts',
    summary: 'Plan a forecasting run: read the tenant\'s demand history once and split it into chunks of series, one worker each',
    pattern: { source: ['stockroom'], 'detail-type': ['ForecastRunRequested'] },
    // One run per message; reading two years of closed days may take minutes (the function's timeout is a sixth: 15 min).
    queue: { maxReceives: 3, visibilityTimeoutSeconds: 5400, batchSize: 1 },
    table: 'write',
    lake: 'forecast-plan',
    // It holds every series of the tenant at once: 100k levels x 730 days measured ~1.4 GB of heap, and a full
    // vCPU (1769 MB) decodes the days' Parquet faster.
    memorySize: 3008,
  },
  forecastChunk: {
    entry: 'functions/forecasting/handlers/forecast-chunk.ts',
    summary: 'Forecast one chunk of a run\'s series (fit, backtest, choose a method per level), store each level\'s forecast and count the chunk into its run',
    pattern: { source: ['stockroom'], 'detail-type': ['ForecastChunkReady'] },
    // One chunk (500 series, a few seconds of fitting) per invocation, so chunks spread over concurrent workers.
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 900, batchSize: 1 },
    table: 'write',
    lake: 'forecast-chunk',
  },
  // --- issue 14: operational alerts ---
  notifyOperations: {
    entry: 'functions/operations/handlers/notify-operations.ts',
    summary: "Tell the operations tenant's admins subscribed to operational alerts (scope operations) when one of the system's alarms goes off and when it clears, throttled like stock alerts",
    pattern: { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'] },
    bus: 'default',
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 180, batchSize: 10 },
    table: 'write',
  },
} as const satisfies Record<string, EventConsumer>;

/**
 * Sales channels (issue 11, functions/channels/): their consumers, schedules and sync queues are
 * declared apart from the rest because lib/ builds them in a nested stack of their own (lib/channels.ts;
 * CloudFormation allows 500 resources a stack), while the local runtime runs them with the others.
 * A channel function that calls a platform with a connection's credentials says `channelSecrets: 'read'`
 * (GetSecretValue on the stack's channel secrets, nothing more).
 */
export interface ChannelConsumer extends EventConsumer {
  channelSecrets?: 'read';
  /** The sync queues (channelSyncQueues) it sends to: their URLs in its environment (functions/platform/queues.ts queueUrlEnv), SendMessage on them. */
  sendsTo?: readonly SyncQueueName[];
}

/**
 * FIFO queues a function (not a bus rule) feeds, each drained by its worker: in AWS an SQS FIFO
 * queue (redrive to a FIFO dead-letter queue after `maxReceives`, alarmed) -> the function with
 * partial batch responses; locally bin/local/queues.ts's FIFO stand-in. A message group is
 * delivered in order, one batch in flight at a time; groups run in parallel up to `maxConcurrency`.
 */
export interface SyncQueue {
  entry: string;
  summary: string;
  queue: { maxReceives: number; visibilityTimeoutSeconds: number; batchSize: number };
  /** Batches in flight at once, across groups (the event source's maximum concurrency; at least 2 in AWS). */
  maxConcurrency: number;
  table: 'write';
  channelSecrets: 'read';
}

export const channelSyncQueues = {
  pushShopify: {
    entry: handler('channels', 'push-to-channel'),
    summary: 'Push the latest publishable quantity of each changed SKU to its Shopify connection (inventorySetQuantities, compare-and-swap, paced by the shop\'s cost bucket)',
    // A failed group is delivered again after the visibility timeout (60 s), ten times (10 minutes of outage) before the
    // dead-letter queue; reconciliation pushes the latest state after that anyway.
    queue: { maxReceives: 10, visibilityTimeoutSeconds: 60, batchSize: 10 },
    maxConcurrency: 4,
    table: 'write',
    channelSecrets: 'read',
  },
  pushAmazon: {
    entry: handler('channels', 'push-to-channel'),
    summary: 'Push the latest publishable quantity of each changed SKU to its Amazon connection (Listings Items merge patch of fulfillment_availability, paced to 5 requests a second)',
    queue: { maxReceives: 10, visibilityTimeoutSeconds: 60, batchSize: 10 },
    // The seller's 5 requests a second are shared by every worker through the pacer: two are enough to keep it busy.
    maxConcurrency: 2,
    table: 'write',
    channelSecrets: 'read',
  },
} as const satisfies Record<string, SyncQueue>;
export type SyncQueueName = keyof typeof channelSyncQueues;

export const channelConsumers = {
  // --- issue 11: push (router) ---
  routeStockChanges: {
    entry: handler('channels', 'route-stock-changes'),
    summary: 'Route each StockLevelChanged to the push queue of every channel connection selling from its warehouse, one message group per connection and SKU',
    pattern: { source: ['stockroom'], 'detail-type': ['StockLevelChanged'] },
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 60, batchSize: 10 },
    table: 'read',
    sendsTo: ['pushShopify', 'pushAmazon'],
  },
  // --- issue 11: reconciliation consumer ---
  reconcileChannel: {
    entry: 'functions/channels/handlers/reconcile-channel.ts',
    summary: "Reconcile one chunk of a run (up to 100 SKUs): read the channel's quantities, compare with what we publish, push ours, adjust ours (channel_wins) or report, record the findings, and move the run to its next chunk",
    pattern: { source: ['stockroom'], 'detail-type': ['ChannelReconciliationRequested'] },
    // One chunk per message; the platform's pacing may take a few minutes (the function's timeout is a sixth: 300 s).
    queue: { maxReceives: 3, visibilityTimeoutSeconds: 1800, batchSize: 1 },
    table: 'write',
    channelSecrets: 'read',
  },
} as const satisfies Record<string, ChannelConsumer>;

export interface ChannelSchedule extends ScheduledFunction {
  channelSecrets?: 'read';
}

export const channelSchedules = {
  // --- issue 11: amazon order poll ---
  pollAmazonOrders: {
    entry: handler('channels', 'poll-amazon-orders'),
    // Every 5 minutes: Amazon refills searchOrders' bucket at 0.0056 requests a second, 1.68 per 5 minutes, so
    // each run can read the page that is usually all there is while the surplus builds toward the burst of 20
    // for a backlog (the poll keeps the bucket itself and stops when it is empty). Oftener would mostly find it empty.
    everySeconds: 300,
    table: 'write',
    channelSecrets: 'read',
    summary: "Poll every Amazon connection's merchant-fulfilled orders updated since its checkpoint (searchOrders, paced to its rate limit): allocate new orders, cancel cancelled ones, advance the checkpoint only after each page is applied",
  },
  // --- issue 11: reconciliation schedule ---
  requestReconciliations: {
    entry: 'functions/channels/handlers/request-reconciliations.ts',
    // Every connection's reconciliation, each 15 minutes: one rule fanning out over the connection index.
    everySeconds: integration.RECONCILE_EVERY_SECONDS,
    table: 'write',
    summary: 'Request a reconciliation of every sales channel connection (of every tenant), once per 15-minute slot',
  },
} as const satisfies Record<string, ChannelSchedule>;

/** Every event consumer the local runtime runs: the main stack's and the channels'. */
export const allEventConsumers: Record<string, ChannelConsumer> = { ...eventConsumers, ...channelConsumers };
/** Every schedule the local runtime runs: the main stack's and the channels'. */
export const allScheduledFunctions: Record<string, ChannelSchedule> = { ...scheduledFunctions, ...channelSchedules };

/**
 * Domain events that leave for the lake (issue 9): each entry's pattern picks,
 * on the custom bus, the events whose `detail` is one row of a lake table,
 * stored as Parquet under `<table>/tenant_id=<t>/dt=YYYY-MM-DD/`, `dt` being the
 * UTC date of `partitionTime`. In AWS a rule with this pattern delivers the
 * detail to Kinesis Data Firehose (Parquet conversion, dynamic partitioning);
 * locally bin/local/lake-feed.ts subscribes a bus rule with the same pattern and
 * writes the same layout with DuckDB. Delivery is at least once either way:
 * readers dedupe on the row's id.
 */
export interface LakeFeedSpec {
  summary: string;
  pattern: { source: readonly string[]; 'detail-type': readonly string[] };
  /** The lake table: its top-level folder, and the Glue table's name. */
  table: string;
  /** The table's file columns, in order (functions/events/lake-columns.ts): the detail's fields of the same names are the row. */
  columns: readonly LakeColumn[];
  /** The detail field identifying a row (what readers dedupe on). */
  rowId: string;
  /** The detail field (an ISO instant) whose UTC date is the `dt` partition. */
  partitionTime: string;
}

export const lakeFeeds = {
  movements: {
    summary: 'Every ledger row, flat (functions/events/model.ts movementRecordedDetail), into the movements table of the lake',
    pattern: { source: ['stockroom'], 'detail-type': ['MovementRecorded'] },
    table: 'movements',
    columns: MOVEMENT_COLUMNS,
    rowId: 'movement_id',
    partitionTime: 'created_at',
  },
  orders: {
    summary: 'Every order line outcome (held, allocated, shipped, released), flat (functions/events/model.ts orderLineRecordedDetail), into the orders table of the lake',
    pattern: { source: ['stockroom'], 'detail-type': ['OrderLineRecorded'] },
    table: 'orders',
    columns: ORDER_LINE_COLUMNS,
    rowId: 'record_id',
    partitionTime: 'created_at',
  },
} as const satisfies Record<string, LakeFeedSpec>;

export type LakeFeedName = keyof typeof lakeFeeds;

/**
 * Lake tables no event feeds: the daily close (scheduledFunctions.closeLake) writes them from
 * the feeds' files. Reports read them through Athena like the feeds' tables (a Glue table each
 * in AWS, a view each locally), partitioned the same way.
 */
export interface LakeRollupSpec {
  summary: string;
  table: string;
  columns: readonly LakeColumn[];
}

export const lakeRollups = {
  levelDays: {
    summary: 'The ledger rolled up per closed day, SKU, warehouse and movement type (functions/events/lake-columns.ts LEVEL_DAY_COLUMNS)',
    table: 'level_days',
    columns: LEVEL_DAY_COLUMNS,
  },
  levelBalances: {
    summary: 'Every level\'s on_hand and last sale at the end of each closed day (functions/events/lake-columns.ts LEVEL_BALANCE_COLUMNS)',
    table: 'level_balances',
    columns: LEVEL_BALANCE_COLUMNS,
  },
} as const satisfies Record<string, LakeRollupSpec>;

/** Every table of the lake a report may read: the feeds' and the rollups', with their file columns. */
export const lakeTables: readonly { table: string; columns: readonly LakeColumn[] }[] = [
  ...Object.values(lakeFeeds).map((feed) => ({ table: feed.table, columns: feed.columns })),
  ...Object.values(lakeRollups).map((rollup) => ({ table: rollup.table, columns: rollup.columns })),
];
/** The lake's tables, by name. */
export type LakeTable = (typeof lakeFeeds)[LakeFeedName]['table'];

/**
 * The entries of one of the records above (httpRoutes, eventConsumers,
 * scheduledFunctions), keys typed as its names: what lib/ and bin/local
 * iterate to build one resource per entry.
 */
export const entriesOf = <K extends string, V>(record: Record<K, V>): [K, V][] =>
  // The one cast: Object.entries types every key as string (an object may carry more keys than its type names); these records are declared literals, so their keys are exactly K.
  Object.entries(record) as [K, V][];
