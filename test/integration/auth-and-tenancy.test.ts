import { SignJWT } from 'jose';
import { httpRoutes, routeKey } from '../../functions/wiring';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

/** A concrete request for every declared route, on tenant A's ids. */
const sampleRequests: Record<string, { path: string; body?: unknown }> = {
  [routeKey(httpRoutes.createProduct)]: { path: '/api/products', body: { product_id: 'prod-1', name: 'Intruder' } },
  [routeKey(httpRoutes.getProduct)]: { path: '/api/products/prod-1' },
  [routeKey(httpRoutes.createSku)]: { path: '/api/skus', body: { sku_id: 'sku-9', product_id: 'prod-1', name: 'Intruder' } },
  [routeKey(httpRoutes.getSku)]: { path: '/api/skus/sku-1' },
  [routeKey(httpRoutes.patchSku)]: { path: '/api/skus/sku-1', body: { name: 'Hijacked' } },
  [routeKey(httpRoutes.listSkus)]: { path: '/api/skus' },
  [routeKey(httpRoutes.createWarehouse)]: { path: '/api/warehouses', body: { warehouse_id: 'wh-1', name: 'Intruder', latitude: 0, longitude: 0 } },
  [routeKey(httpRoutes.listWarehouses)]: { path: '/api/warehouses' },
  [routeKey(httpRoutes.patchWarehouse)]: { path: '/api/warehouses/wh-1', body: { active: false } },
  [routeKey(httpRoutes.updateStock)]: { path: '/api/inventory/update', body: { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 1 } },
  [routeKey(httpRoutes.transferStock)]: { path: '/api/inventory/transfer', body: { sku_id: 'sku-1', from_warehouse_id: 'wh-1', to_warehouse_id: 'wh-2', quantity: 1 } },
  [routeKey(httpRoutes.bulkUpdateStock)]: {
    path: '/api/inventory/bulk-update',
    body: { atomic: true, updates: [{ sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 1 }] },
  },
  [routeKey(httpRoutes.getSkuInventory)]: { path: '/api/inventory/sku/sku-1' },
  [routeKey(httpRoutes.listMovements)]: { path: '/api/inventory/sku/sku-1/movements' },
  [routeKey(httpRoutes.allocateOrder)]: {
    path: '/api/orders/allocate',
    body: { order_id: 'order-1', lines: [{ sku_id: 'sku-1', quantity: 1 }], ship_to: { latitude: 40, longitude: -74 } },
  },
  [routeKey(httpRoutes.planOrder)]: { path: '/api/orders/plan', body: { lines: [{ sku_id: 'sku-1', quantity: 1 }], ship_to: { latitude: 40, longitude: -74 } } },
  [routeKey(httpRoutes.getOrder)]: { path: '/api/orders/status/order-a' },
  [routeKey(httpRoutes.confirmOrder)]: { path: '/api/orders/order-a/confirm' },
  [routeKey(httpRoutes.cancelOrder)]: { path: '/api/orders/order-a/cancel' },
  [routeKey(httpRoutes.shipOrder)]: { path: '/api/orders/order-a/ship', body: { lines: [{ sku_id: 'sku-1', quantity: 1 }] } },
  [routeKey(httpRoutes.openApi)]: { path: '/api/openapi.json' },
  [routeKey(httpRoutes.createSupplier)]: {
    path: '/api/suppliers',
    body: { supplier_id: 'sup-1', name: 'Intruder', contact: { email: 'x@example.com' }, lead_time_days: 1, currency: 'USD' },
  },
  [routeKey(httpRoutes.listSuppliers)]: { path: '/api/suppliers' },
  [routeKey(httpRoutes.getSupplier)]: { path: '/api/suppliers/sup-1' },
  [routeKey(httpRoutes.createPurchaseOrder)]: {
    path: '/api/purchase-orders',
    body: { purchase_order_id: 'po-9', supplier_id: 'sup-1', warehouse_id: 'wh-1', lines: [{ sku_id: 'sku-1', quantity: 1, unit_cost: '1.00' }] },
  },
  [routeKey(httpRoutes.listPurchaseOrders)]: { path: '/api/purchase-orders' },
  [routeKey(httpRoutes.getPurchaseOrder)]: { path: '/api/purchase-orders/po-a' },
  [routeKey(httpRoutes.submitPurchaseOrder)]: { path: '/api/purchase-orders/po-a/submit' },
  [routeKey(httpRoutes.receivePurchaseOrder)]: { path: '/api/purchase-orders/po-a/receive', body: { lines: [{ sku_id: 'sku-1', quantity: 1 }] } },
  [routeKey(httpRoutes.cancelPurchaseOrder)]: { path: '/api/purchase-orders/po-a/cancel' },
  [routeKey(httpRoutes.putThresholds)]: { path: '/api/thresholds', body: { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 5, safety_stock: 1 } },
  [routeKey(httpRoutes.listAlerts)]: { path: '/api/alerts' },
  [routeKey(httpRoutes.acknowledgeAlert)]: { path: '/api/alerts/alert-a/acknowledge' },
  [routeKey(httpRoutes.subscribeAlerts)]: { path: '/api/alerts/subscribe', body: { scope: { sku_id: 'sku-1' }, channel: 'email', target: 'ops@example.com' } },
  [routeKey(httpRoutes.listAlertSubscriptions)]: { path: '/api/alerts/subscriptions' },
  [routeKey(httpRoutes.deleteAlertSubscription)]: { path: '/api/alerts/subscriptions/sub-a' },
  [routeKey(httpRoutes.listNotifications)]: { path: '/api/notifications' },
  [routeKey(httpRoutes.listReplenishmentSuggestions)]: { path: '/api/replenishment/suggestions' },
  [routeKey(httpRoutes.createPurchaseOrdersFromSuggestions)]: {
    path: '/api/replenishment/suggestions/purchase-orders',
    body: { suggestions: [{ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 5 }] },
  },
};

const send = (client: Client, key: string) => {
  const [method] = key.split(' ');
  const { path, body } = sampleRequests[key]!;
  if (method === 'GET') return client.get(path);
  if (method === 'PATCH') return client.patch(path, body);
  if (method === 'DELETE') return client.raw(path, { method: 'DELETE' });
  if (method === 'PUT') {
    return client.raw(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }
  return client.post(path, body);
};

test('every declared route has a tenancy and auth case here', () => {
  expect(Object.keys(sampleRequests).sort()).toEqual(Object.values(httpRoutes).map(routeKey).sort());
});

describe('tenant isolation', () => {
  let a: Client;
  let b: Client;
  let before: unknown;
  const stateOfA = async () => ({
    product: (await a.get('/api/products/prod-1')).body,
    sku: (await a.get('/api/skus/sku-1')).body,
    warehouses: (await a.get('/api/warehouses')).body,
    inventory: (await a.get('/api/inventory/sku/sku-1')).body,
    order: (await a.get('/api/orders/status/order-a')).body,
    movements: (await a.get('/api/inventory/sku/sku-1/movements')).body,
  });

  beforeAll(async () => {
    a = await t.client();
    b = await t.client();
    await setupCatalog(a, { warehouses: ['wh-1', 'wh-2'] });
    await a.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 5 });
    const order = await a.post('/api/orders/allocate', { order_id: 'order-a', lines: [{ sku_id: 'sku-1', quantity: 2 }], ship_to: { latitude: 40, longitude: -74 } });
    expect(order.status).toBe(201);
    before = await stateOfA();
  });

  test.each(Object.keys(sampleRequests))("%s by another tenant never reads or changes tenant A's data", async (key) => {
    // A fresh tenant per route, so each request meets an empty world, not what an earlier case created.
    const res = await send(await t.client(), key);
    const text = JSON.stringify(res.body);
    expect(res.status).toBeLessThan(500);
    // B sees its own (empty) world: A's names never come back to B.
    expect(text).not.toContain('Widget');
    expect(text).not.toContain(a.tenantId);
    if (key.includes('{') || key.startsWith('POST /api/inventory') || key.startsWith('POST /api/orders') || key === 'POST /api/skus') {
      expect(res.status).toBe(404);
    }
    expect(await stateOfA()).toEqual(before);
  });

  test("lists show another tenant nothing of tenant A's", async () => {
    expect((await b.get('/api/skus')).body.skus).toEqual([]);
    expect((await b.get('/api/warehouses')).body.warehouses).toEqual([]);
  });

  test('the same ids in two tenants are two separate things', async () => {
    const own = await b.post('/api/products', { product_id: 'prod-1', name: 'Mine' });
    expect(own.status).toBe(201);
    expect((await a.get('/api/products/prod-1')).body.name).toBe('Widget');
    expect((await b.get('/api/products/prod-1')).body.name).toBe('Mine');
  });
});

describe('authentication', () => {
  const routes = Object.keys(sampleRequests);
  const request = (key: string, authorization?: string) => {
    const [method] = key.split(' ');
    const { path, body } = sampleRequests[key]!;
    return fetch(`${t.api.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  };

  test.each(routes)('%s without a token is 401', async (key) => {
    const res = await request(key);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
  });

  test('a malformed, foreign-signed, expired or claim-less token is 401', async () => {
    const foreignKey = new TextEncoder().encode('x'.repeat(32));
    const foreign = await new SignJWT({ 'custom:tenant_id': 'x', 'custom:role': 'admin' }).setProtectedHeader({ alg: 'HS256' }).sign(foreignKey);
    const expired = await t.issuer.sign({ tenantId: 't1', role: 'admin', expiresIn: '-1m' });
    for (const auth of ['Bearer nonsense', `Bearer ${foreign}`, `Bearer ${expired}`, 'Basic dXNlcjpwYXNz']) {
      expect((await request('GET /api/warehouses', auth)).status).toBe(401);
    }
  });

  test('a valid token whose claims lack a usable tenant is 401 from the handler too', async () => {
    const bad = await t.issuer.sign({ tenantId: 'has#hash', role: 'admin' });
    expect((await request('GET /api/warehouses', `Bearer ${bad}`)).status).toBe(401);
  });
});

describe('roles', () => {
  test('a viewer can read but gets 403 on every write, and nothing is written', async () => {
    const admin = await t.client();
    await setupCatalog(admin);
    const viewer = await t.client({ tenantId: admin.tenantId, role: 'viewer' });
    expect((await viewer.get('/api/skus/sku-1')).status).toBe(200);
    const writes = Object.values(httpRoutes).filter((r) => r.permission.endsWith(':write')).map(routeKey);
    for (const key of writes) {
      const res = await send(viewer, key);
      expect({ key, status: res.status }).toEqual({ key, status: 403 });
    }
    expect((await admin.get('/api/inventory/sku/sku-1/movements')).body.movements).toEqual([]);
  });

  test('a clerk records stock changes but cannot change the catalogue', async () => {
    const admin = await t.client();
    await setupCatalog(admin);
    const clerk = await t.client({ tenantId: admin.tenantId, role: 'clerk' });
    expect((await clerk.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1 })).status).toBe(200);
    expect((await clerk.patch('/api/skus/sku-1', { name: 'x' })).status).toBe(403);
  });
});
