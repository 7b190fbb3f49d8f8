import { httpRoutes, routeKey } from '../../functions/wiring';
import type { Client, Response } from './api';
import { newShopDomain } from './shops';
import { signShopifyBody } from '../fakes/shopify-webhooks';

/**
 * One concrete request for every route of the wiring (functions/wiring.ts httpRoutes), shared by the suites that
 * must reach every route: test/integration/auth-and-tenancy.test.ts (another tenant, no token, a bad token) and
 * test/integration/role-matrix.test.ts (every role). A route without a request here fails both, naming it.
 */

/** The ids the requests name, by the path parameter that carries them (`to_warehouse_id`: a transfer's destination). */
export interface Ids {
  product_id: string;
  sku_id: string;
  warehouse_id: string;
  to_warehouse_id: string;
  supplier_id: string;
  purchase_order_id: string;
  order_id: string;
  alert_id: string;
  subscription_id: string;
  /** A report's query id (GET /api/reports/queries/{query_id}). */
  query_id: string;
  /** A forecasting run's id (GET /api/reports/demand-forecast/runs/{run_id}). */
  run_id: string;
  /** A sales channel connection's id. */
  channel_id: string;
  /** A reconciliation run of that connection (GET /api/channels/{channel_id}/reconciliations/{reconciliation_id}). */
  reconciliation_id: string;
}

/** The ids tenant A creates its resources under; its alert's and subscription's are generated. */
export const chosenIds = {
  product_id: 'prod-1',
  sku_id: 'sku-1',
  warehouse_id: 'wh-1',
  to_warehouse_id: 'wh-2',
  supplier_id: 'sup-1',
  purchase_order_id: 'po-a',
  order_id: 'order-a',
  channel_id: 'chan-a',
};

/** Where no tenant A exists (authentication and roles are refused before any lookup), stand-ins for the generated ids. */
export const standInIds: Ids = {
  ...chosenIds,
  alert_id: 'alert-a',
  subscription_id: 'sub-a',
  run_id: 'run-a',
  reconciliation_id: 'reconciliation-a',
  query_id: Buffer.from(JSON.stringify({ r: 'valuation', q: { as_of: '2027-01-01', method: 'fifo' }, a: '00000000-0000-4000-8000-000000000000' })).toString('base64url'),
};

export interface Sample {
  path: string;
  body?: unknown;
  /** Sent with the request (a webhook's platform headers). */
  headers?: Record<string, string>;
  /**
   * What another tenant gets: 404 for A's things, 200 with its own empty list, 201 for its own new thing under the same id,
   * 202 for its own work started, or 401 for a webhook it forged in A's shop's name (its own token does not count there).
   */
  asOther: 200 | 201 | 202 | 401 | 404;
  /** A list: the field that must be empty for another tenant. */
  list?: string;
}

export const shipTo = { latitude: 40, longitude: -74 };
// Each a shop of its own: a shop belongs to one connection across all tenants (and test files share one table).
export const intruderCredentials = { shop_domain: newShopDomain('intruder'), access_token: 'shpat_intruder', webhook_secret: 'whsec_intruder' };
/** Tenant A's channel credentials: never shown to anyone, A included. */
export const credentialsOfA = { shop_domain: newShopDomain('tenant-a'), access_token: 'shpat_tenant_a_SECRET', webhook_secret: 'whsec_tenant_a_SECRET' };

/**
 * A webhook another tenant forges in A's shop's name: an order for A's SKU, signed with a secret that is not A's
 * connection's (the body is sent as JSON.stringify makes it, so the signature is over the very bytes sent).
 */
export const forgedWebhook = (ids: Ids): Pick<Sample, 'body' | 'headers'> => {
  const body = { id: 4242, line_items: [{ id: 1, sku: ids.sku_id, quantity: 1, requires_shipping: true }], shipping_address: null };
  return {
    body,
    headers: {
      'x-shopify-topic': 'orders/create',
      'x-shopify-shop-domain': credentialsOfA.shop_domain,
      'x-shopify-hmac-sha256': signShopifyBody(intruderCredentials.webhook_secret, JSON.stringify(body)),
      'x-shopify-webhook-id': 'forged-1',
    },
  };
};

/** A Shopify shop's credentials, as POST /api/channels and PATCH /api/channels/{channel_id} take them. */
export interface ShopCredentials {
  shop_domain: string;
  access_token: string;
  webhook_secret: string;
}

/**
 * The shops the channel requests connect (a shop belongs to one connection across all tenants, so a suite whose
 * requests succeed gives each its own); by default another tenant's, which never gets as far as connecting it.
 */
export interface RequestShops {
  /** POST /api/channels connects this shop. */
  create?: ShopCredentials;
  /** PATCH /api/channels/{channel_id} replaces the connection's credentials with these. */
  patch?: ShopCredentials;
}

/**
 * A concrete request for every declared route, naming the given ids in its path and body: one entry per route,
 * keyed by its route key (method and path). A new route is one more line here; test/integration/auth-and-tenancy.test.ts
 * and test/integration/role-matrix.test.ts both fail, naming it, until it has one.
 */
export const requestsFor = (ids: Ids, shops: RequestShops = {}): Record<string, Sample> => ({
  [routeKey(httpRoutes.createProduct)]: { path: '/api/products', body: { product_id: ids.product_id, name: 'Intruder' }, asOther: 201 },
  [routeKey(httpRoutes.getProduct)]: { path: `/api/products/${ids.product_id}`, asOther: 404 },
  [routeKey(httpRoutes.createSku)]: { path: '/api/skus', body: { sku_id: ids.sku_id, product_id: ids.product_id, name: 'Intruder', unit_cost: '1.00', price: '2.00', currency: 'USD' }, asOther: 404 },
  [routeKey(httpRoutes.getSku)]: { path: `/api/skus/${ids.sku_id}`, asOther: 404 },
  [routeKey(httpRoutes.patchSku)]: { path: `/api/skus/${ids.sku_id}`, body: { name: 'Hijacked' }, asOther: 404 },
  [routeKey(httpRoutes.listSkus)]: { path: '/api/skus', asOther: 200, list: 'skus' },
  [routeKey(httpRoutes.createWarehouse)]: {
    path: '/api/warehouses',
    body: { warehouse_id: ids.warehouse_id, name: 'Intruder', latitude: 0, longitude: 0 },
    asOther: 201,
  },
  [routeKey(httpRoutes.listWarehouses)]: { path: '/api/warehouses', asOther: 200, list: 'warehouses' },
  [routeKey(httpRoutes.patchWarehouse)]: { path: `/api/warehouses/${ids.warehouse_id}`, body: { active: false }, asOther: 404 },
  [routeKey(httpRoutes.updateStock)]: {
    path: '/api/inventory/update',
    body: { sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, transaction_type: 'sale', quantity: 1 },
    asOther: 404,
  },
  [routeKey(httpRoutes.transferStock)]: {
    path: '/api/inventory/transfer',
    body: { sku_id: ids.sku_id, from_warehouse_id: ids.warehouse_id, to_warehouse_id: ids.to_warehouse_id, quantity: 1 },
    asOther: 404,
  },
  [routeKey(httpRoutes.bulkUpdateStock)]: {
    path: '/api/inventory/bulk-update',
    body: { atomic: true, updates: [{ sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, transaction_type: 'sale', quantity: 1 }] },
    asOther: 404,
  },
  [routeKey(httpRoutes.getSkuInventory)]: { path: `/api/inventory/sku/${ids.sku_id}`, asOther: 404 },
  [routeKey(httpRoutes.listMovements)]: { path: `/api/inventory/sku/${ids.sku_id}/movements`, asOther: 404 },
  [routeKey(httpRoutes.allocateOrder)]: {
    path: '/api/orders/allocate',
    // A's order id: "the same order_id returns the existing order" must never return A's.
    body: { order_id: ids.order_id, lines: [{ sku_id: ids.sku_id, quantity: 1 }], ship_to: shipTo },
    asOther: 404,
  },
  [routeKey(httpRoutes.planOrder)]: { path: '/api/orders/plan', body: { lines: [{ sku_id: ids.sku_id, quantity: 1 }], ship_to: shipTo }, asOther: 404 },
  [routeKey(httpRoutes.getOrder)]: { path: `/api/orders/status/${ids.order_id}`, asOther: 404 },
  [routeKey(httpRoutes.confirmOrder)]: { path: `/api/orders/${ids.order_id}/confirm`, asOther: 404 },
  [routeKey(httpRoutes.cancelOrder)]: { path: `/api/orders/${ids.order_id}/cancel`, asOther: 404 },
  [routeKey(httpRoutes.shipOrder)]: { path: `/api/orders/${ids.order_id}/ship`, body: { lines: [{ sku_id: ids.sku_id, quantity: 1 }] }, asOther: 404 },
  [routeKey(httpRoutes.openApi)]: { path: '/api/openapi.json', asOther: 200 },
  [routeKey(httpRoutes.createSupplier)]: {
    path: '/api/suppliers',
    body: { supplier_id: ids.supplier_id, name: 'Intruder', contact: { email: 'x@example.com' }, lead_time_days: 1, currency: 'USD' },
    asOther: 201,
  },
  [routeKey(httpRoutes.listSuppliers)]: { path: '/api/suppliers', asOther: 200, list: 'suppliers' },
  [routeKey(httpRoutes.getSupplier)]: { path: `/api/suppliers/${ids.supplier_id}`, asOther: 404 },
  [routeKey(httpRoutes.createPurchaseOrder)]: {
    path: '/api/purchase-orders',
    body: {
      purchase_order_id: ids.purchase_order_id,
      supplier_id: ids.supplier_id,
      warehouse_id: ids.warehouse_id,
      lines: [{ sku_id: ids.sku_id, quantity: 1, unit_cost: '1.00' }],
    },
    asOther: 404,
  },
  [routeKey(httpRoutes.listPurchaseOrders)]: { path: '/api/purchase-orders', asOther: 200, list: 'purchase_orders' },
  [routeKey(httpRoutes.getPurchaseOrder)]: { path: `/api/purchase-orders/${ids.purchase_order_id}`, asOther: 404 },
  [routeKey(httpRoutes.submitPurchaseOrder)]: { path: `/api/purchase-orders/${ids.purchase_order_id}/submit`, asOther: 404 },
  [routeKey(httpRoutes.receivePurchaseOrder)]: {
    path: `/api/purchase-orders/${ids.purchase_order_id}/receive`,
    body: { lines: [{ sku_id: ids.sku_id, quantity: 1 }] },
    asOther: 404,
  },
  [routeKey(httpRoutes.cancelPurchaseOrder)]: { path: `/api/purchase-orders/${ids.purchase_order_id}/cancel`, asOther: 404 },
  [routeKey(httpRoutes.putThresholds)]: {
    path: '/api/thresholds',
    body: { sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, reorder_point: 5, safety_stock: 1 },
    asOther: 404,
  },
  [routeKey(httpRoutes.listAlerts)]: { path: '/api/alerts', asOther: 200, list: 'alerts' },
  [routeKey(httpRoutes.acknowledgeAlert)]: { path: `/api/alerts/${ids.alert_id}/acknowledge`, asOther: 404 },
  [routeKey(httpRoutes.subscribeAlerts)]: {
    path: '/api/alerts/subscribe',
    body: { scope: { sku_id: ids.sku_id }, channel: 'email', target: 'intruder@example.com' },
    asOther: 404,
  },
  [routeKey(httpRoutes.listAlertSubscriptions)]: { path: '/api/alerts/subscriptions', asOther: 200, list: 'subscriptions' },
  [routeKey(httpRoutes.deleteAlertSubscription)]: { path: `/api/alerts/subscriptions/${ids.subscription_id}`, asOther: 404 },
  [routeKey(httpRoutes.listNotifications)]: { path: '/api/notifications', asOther: 200, list: 'notifications' },
  [routeKey(httpRoutes.listReplenishmentSuggestions)]: { path: '/api/replenishment/suggestions', asOther: 200, list: 'suggestions' },
  [routeKey(httpRoutes.createPurchaseOrdersFromSuggestions)]: {
    path: '/api/replenishment/suggestions/purchase-orders',
    body: { suggestions: [{ sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, quantity: 5 }] },
    asOther: 404,
  },
  [routeKey(httpRoutes.listReorderPoints)]: { path: `/api/replenishment/reorder-points?warehouse_id=${ids.warehouse_id}`, asOther: 404 },
  [routeKey(httpRoutes.applyReorderPoints)]: {
    path: '/api/replenishment/reorder-points',
    body: { warehouse_id: ids.warehouse_id, sku_ids: [ids.sku_id], dry_run: false },
    asOther: 404,
  },
  // Another tenant's SKU is unknown to the caller: the report refuses it before reading the lake.
  [routeKey(httpRoutes.stockMovementReport)]: { path: `/api/reports/stock-movement?from=2026-01-01&to=2027-01-01&sku_id=${ids.sku_id}`, asOther: 404 },
  [routeKey(httpRoutes.salesTrendsReport)]: { path: `/api/reports/sales-trends?from=2026-01-01&to=2027-01-01&sku_id=${ids.sku_id}`, asOther: 404 },
  [routeKey(httpRoutes.valuationReport)]: { path: `/api/reports/valuation?as_of=2027-01-01&warehouse_id=${ids.warehouse_id}`, asOther: 404 },
  [routeKey(httpRoutes.getReportQuery)]: { path: `/api/reports/queries/${ids.query_id}`, asOther: 404 },
  [routeKey(httpRoutes.stockOverviewReport)]: { path: `/api/reports/stock-overview?warehouse_id=${ids.warehouse_id}`, asOther: 404 },
  // Another tenant's ids are refused row by row as unknown (200, nothing imported).
  [routeKey(httpRoutes.importDemandHistory)]: {
    path: '/api/reports/demand-history',
    body: { rows: [{ date: '2025-01-02', sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, quantity: 1 }] },
    asOther: 200,
  },
  [routeKey(httpRoutes.demandForecast)]: { path: `/api/reports/demand-forecast?sku_id=${ids.sku_id}&warehouse_id=${ids.warehouse_id}`, asOther: 404 },
  // Another tenant's run is a run of its own tenant: it never reads A's history.
  [routeKey(httpRoutes.requestForecastRun)]: { path: '/api/reports/demand-forecast/run', asOther: 202 },
  [routeKey(httpRoutes.getForecastRun)]: { path: `/api/reports/demand-forecast/runs/${ids.run_id}`, asOther: 404 },
  // Another tenant naming A's warehouse gets 404 (it is unknown to it), so it cannot connect a channel over A's stock.
  [routeKey(httpRoutes.createChannel)]: {
    path: '/api/channels',
    body: { channel_id: ids.channel_id, platform: 'shopify', warehouse_ids: [ids.warehouse_id], credentials: shops.create ?? intruderCredentials },
    asOther: 404,
  },
  [routeKey(httpRoutes.listChannels)]: { path: '/api/channels', asOther: 200, list: 'channels' },
  [routeKey(httpRoutes.getChannel)]: { path: `/api/channels/${ids.channel_id}`, asOther: 404 },
  [routeKey(httpRoutes.patchChannel)]: { path: `/api/channels/${ids.channel_id}`, body: { buffer: 99, credentials: shops.patch ?? intruderCredentials }, asOther: 404 },
  [routeKey(httpRoutes.deleteChannel)]: { path: `/api/channels/${ids.channel_id}`, asOther: 404 },
  [routeKey(httpRoutes.listListings)]: { path: `/api/channels/${ids.channel_id}/listings`, asOther: 404 },
  // The Amazon shape (A's channel is Shopify's, so A itself would get 400): its body names no *_id
  // that is not a Stockroom id, as the ids check below wants; another tenant still gets 404 first.
  [routeKey(httpRoutes.putListing)]: { path: `/api/channels/${ids.channel_id}/listings/${ids.sku_id}`, body: { product_type: 'PRODUCT' }, asOther: 404 },
  [routeKey(httpRoutes.discoverListings)]: { path: `/api/channels/${ids.channel_id}/listings/discover`, body: { sku_ids: [ids.sku_id] }, asOther: 404 },
  // No token is read here: the tenant is the one whose shop signed, and a forged signature is 401 with nothing written.
  [routeKey(httpRoutes.shopifyWebhook)]: { path: httpRoutes.shopifyWebhook.path, ...forgedWebhook(ids), asOther: 401 },
  [routeKey(httpRoutes.requestSync)]: { path: '/api/integration/sync', body: { channel_id: ids.channel_id, sku_ids: [ids.sku_id] }, asOther: 404 },
  [routeKey(httpRoutes.getReconciliation)]: { path: `/api/channels/${ids.channel_id}/reconciliations/${ids.reconciliation_id}`, asOther: 404 },
  [routeKey(httpRoutes.integrationStatus)]: { path: '/api/integration/status', asOther: 200, list: 'channels' },
  // --- issue 12: roles ---
  [routeKey(httpRoutes.listRoles)]: { path: '/api/roles', asOther: 200 },
  // --- issue 12: the audit trail (a fresh tenant's is empty: its own read is recorded after it answers) ---
  [routeKey(httpRoutes.listAudit)]: { path: '/api/audit', asOther: 200, list: 'records' },
});

/** Every declared route's key (method and path), in the wiring's order. */
export const routeKeys = (): string[] => Object.values(httpRoutes).map(routeKey);

/** Routes of the wiring that `requests` has no request for (what a new route without a case shows in a failing test). */
export const routesWithoutRequest = (requests: Record<string, Sample>): string[] => routeKeys().filter((key) => !(key in requests));

/** Requests for routes the wiring does not declare (a route renamed or removed, its case left behind). */
export const requestsWithoutRoute = (requests: Record<string, Sample>): string[] => {
  const keys = new Set(routeKeys());
  return Object.keys(requests).filter((key) => !keys.has(key));
};

/** The request for one route; a route without one throws, naming the route and where its case goes. */
export const requestOf = (requests: Record<string, Sample>, key: string): Sample => {
  const sample = requests[key];
  if (!sample) throw new Error(`no request for the route ${key}: add one to requestsFor in test/support/route-requests.ts`);
  return sample;
};

/** Sends the request for the route `key` (its method first) as `client`. */
export const send = (client: Client, key: string, requests: Record<string, Sample>): Promise<Response> => {
  const [method] = key.split(' ');
  const { path, body, headers } = requestOf(requests, key);
  if (method === 'GET') return client.get(path, headers);
  if (method === 'PATCH') return client.patch(path, body, headers);
  if (method === 'DELETE') return client.delete(path, headers);
  if (method === 'PUT') return client.put(path, body, headers);
  return client.post(path, body, headers);
};
