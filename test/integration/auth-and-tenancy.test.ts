import { SignJWT } from 'jose';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import { httpRoutes, routeKey } from '../../functions/wiring';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { allMovements } from '../support/ledger';
import {
  chosenIds,
  credentialsOfA,
  requestOf,
  requestsFor,
  requestsWithoutRoute,
  routesWithoutRequest,
  send,
  shipTo,
  standInIds,
  type Ids,
} from '../support/route-requests';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

// The local runtime's mode (bin/local.ts sets it): the notification consumer writes email to the outbox.
process.env[LOCAL_MODE_ENV] = '1';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

const standInRequests = requestsFor(standInIds);

test('every declared route has a tenancy and auth case here (test/support/route-requests.ts), and every case a route', () => {
  expect({ withoutRequest: routesWithoutRequest(standInRequests), withoutRoute: requestsWithoutRoute(standInRequests) }).toEqual({ withoutRequest: [], withoutRoute: [] });
});

describe('tenant isolation', () => {
  let a: Client;
  let b: Client;
  let pipeline: LocalPipeline;
  /** A's real ids, known once A created its resources. */
  let ids: Ids;
  let before: Awaited<ReturnType<typeof stateOfA>>;
  /** Values only A's data holds (names, contact details, generated ids): another tenant must never be shown one. */
  let secretsOfA: string[];

  const supplier = { name: 'Tenant A Supply Co', contact: { email: 'buyer@tenant-a.example' }, lead_time_days: 7, currency: 'USD' };
  const subscriber = 'alerts@tenant-a.example';
  const staffOfA = 'staff@tenant-a.example';

  /** Everything of A's that the routes could reach, read as A; every read must succeed. */
  const stateOfA = async () => {
    const reads = {
      product: `/api/products/${ids.product_id}`,
      sku: `/api/skus/${ids.sku_id}`,
      skus: '/api/skus',
      warehouses: '/api/warehouses',
      inventory: `/api/inventory/sku/${ids.sku_id}`,
      supplier: `/api/suppliers/${ids.supplier_id}`,
      suppliers: '/api/suppliers',
      purchaseOrder: `/api/purchase-orders/${ids.purchase_order_id}`,
      purchaseOrders: '/api/purchase-orders',
      order: `/api/orders/status/${ids.order_id}`,
      alerts: '/api/alerts',
      resolvedAlerts: '/api/alerts?status=resolved',
      subscriptions: '/api/alerts/subscriptions',
      notifications: '/api/notifications',
      suggestions: '/api/replenishment/suggestions',
      channel: `/api/channels/${ids.channel_id}`,
      channels: '/api/channels',
      reconciliation: `/api/channels/${ids.channel_id}/reconciliations/${ids.reconciliation_id}`,
      user: `/api/users/${ids.user_id}`,
      users: '/api/users',
    };
    const read = async (path: string) => {
      const res = await a.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      return res.body;
    };
    const state = Object.fromEntries(await Promise.all(Object.entries(reads).map(async ([name, path]) => [name, await read(path)] as const)));
    const movements = await allMovements(a, ids.sku_id);
    return { ...(state as Record<keyof typeof reads, any>), movements, movementCount: movements.length };
  };

  beforeAll(async () => {
    a = await t.client();
    b = await t.client();
    // The alert and the outbox entry come from the event pipeline (stream -> bus -> queued consumers), as under `npm start`.
    pipeline = await startLocalPipeline(a.tenantId);
    const { sku_id, warehouse_id, supplier_id, purchase_order_id, order_id } = chosenIds;
    await setupCatalog(a, { skuId: sku_id, warehouses: [warehouse_id, chosenIds.to_warehouse_id] });
    ok(await a.post('/api/inventory/update', { sku_id, warehouse_id, transaction_type: 'restock', quantity: 5 }));
    ok(await a.post('/api/suppliers', { supplier_id, ...supplier }), 201);
    ok(await a.patch(`/api/skus/${sku_id}`, { supplier_id, unit_cost: '2.50', currency: 'USD' }));
    ok(await a.post('/api/purchase-orders', { purchase_order_id, supplier_id, warehouse_id, lines: [{ sku_id, quantity: 1, unit_cost: '2.50' }] }), 201);
    ok(await a.post(`/api/purchase-orders/${purchase_order_id}/submit`));
    const order = await a.post('/api/orders/allocate', { order_id, lines: [{ sku_id, quantity: 2 }], ship_to: shipTo });
    expect(order.status).toBe(201);
    const subscription = ok(await a.post('/api/alerts/subscribe', { scope: { sku_id }, channel: 'email', target: subscriber }), 201);
    ok(await a.post('/api/channels', { channel_id: chosenIds.channel_id, platform: 'shopify', warehouse_ids: [warehouse_id], credentials: credentialsOfA }), 201);
    const staff = ok(await a.post('/api/users', { email: staffOfA, name: 'Staff of A', role: 'clerk', warehouse_ids: [warehouse_id] }), 201);
    // 3 available + 1 incoming against a reorder point of 50: the re-evaluated level opens an alert, whose
    // AlertOpened the notification consumer turns into one outbox email to the subscriber.
    ok(await a.put('/api/thresholds', { sku_id, warehouse_id, reorder_point: 50, safety_stock: 5 }));
    let alerts: { alert_id: string }[] = [];
    let notifications: { notification_id: string }[] = [];
    for (let round = 0; round < 10 && !(alerts.length && notifications.length); round++) {
      await pipeline.settle();
      alerts = ok(await a.get('/api/alerts')).alerts;
      notifications = ok(await a.get('/api/notifications')).notifications;
    }
    // Idle again: nothing of A's is still on its way when the snapshot is taken.
    await pipeline.settle(2);
    const reportQueryId: string = ok(await a.get('/api/reports/valuation?as_of=2027-01-01')).query_id;
    const runId: string = ok(await a.post('/api/reports/demand-forecast/run'), 202).run_id;
    // A's connection has no listing mapped: its reconciliation completes through the pipeline without calling Shopify.
    const reconciliationId: string = ok(await a.post('/api/integration/sync', { channel_id: chosenIds.channel_id }), 202).reconciliations[0].reconciliation_id;
    // The run is planned and completed through the pipeline (A has no closed history): idle again before the snapshot.
    await pipeline.settle(3);
    ids = { ...chosenIds, alert_id: alerts[0]?.alert_id ?? 'no-alert', subscription_id: subscription.subscription_id, query_id: reportQueryId, run_id: runId, reconciliation_id: reconciliationId, user_id: staff.user_id };
    before = await stateOfA();
    secretsOfA = [
      a.tenantId,
      'Widget',
      supplier.name,
      supplier.contact.email,
      subscriber,
      staffOfA,
      ids.user_id,
      ids.alert_id,
      ids.subscription_id,
      ids.reconciliation_id,
      credentialsOfA.shop_domain,
      credentialsOfA.access_token,
      credentialsOfA.webhook_secret,
      ...before.notifications.notifications.map((n: { notification_id: string }) => n.notification_id),
      ...before.movements.map((m) => m.movement_id),
    ];
  }, 120_000);
  afterAll(() => pipeline.stop());

  test('tenant A holds a real resource of every kind the routes name', () => {
    expect(before.product).toMatchObject({ product_id: ids.product_id, name: 'Widget' });
    expect(before.sku).toMatchObject({ sku_id: ids.sku_id, product_id: ids.product_id, supplier_id: ids.supplier_id });
    expect(before.warehouses.warehouses.map((w: { warehouse_id: string }) => w.warehouse_id).sort()).toEqual([ids.warehouse_id, ids.to_warehouse_id]);
    expect(before.inventory.levels).toEqual([expect.objectContaining({ warehouse_id: ids.warehouse_id, on_hand: 5, reserved: 2, available: 3, incoming: 1 })]);
    expect(before.movementCount).toBeGreaterThanOrEqual(4);
    expect(before.supplier).toMatchObject({ supplier_id: ids.supplier_id, name: supplier.name });
    expect(before.purchaseOrder).toMatchObject({ purchase_order_id: ids.purchase_order_id, status: 'submitted' });
    expect(before.order).toMatchObject({ order_id: ids.order_id, status: 'allocated' });
    expect(before.alerts.alerts).toEqual([expect.objectContaining({ alert_id: ids.alert_id, sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, status: 'open' })]);
    expect(before.subscriptions.subscriptions).toEqual([expect.objectContaining({ subscription_id: ids.subscription_id, target: subscriber })]);
    expect(before.notifications.notifications).toEqual([
      expect.objectContaining({ channel: 'email', target: subscriber, alert_id: ids.alert_id, subscription_id: ids.subscription_id }),
    ]);
    expect(before.suggestions.suggestions).toEqual([expect.objectContaining({ alert_id: ids.alert_id, supplier_id: ids.supplier_id })]);
    expect(before.channel).toMatchObject({ channel_id: ids.channel_id, account: { shop_domain: credentialsOfA.shop_domain } });
    expect(before.reconciliation).toMatchObject({ reconciliation_id: ids.reconciliation_id, channel_id: ids.channel_id, status: 'done', findings: [] });
    expect(before.user).toMatchObject({ user_id: ids.user_id, email: staffOfA, role: 'clerk', warehouse_ids: [ids.warehouse_id], disabled: false });
    expect(JSON.stringify(before)).not.toContain(credentialsOfA.access_token);
  });

  test("every route's request names A's real ids: each path parameter is A's, and so is every id in a body", () => {
    const real: Record<string, string> = { ...ids };
    const requests = requestsFor(ids);
    for (const route of Object.values(httpRoutes)) {
      const { path, body } = requestOf(requests, routeKey(route));
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      const pattern = new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/?]+)')}$`);
      const [pathname = '', search = ''] = path.split('?');
      const values = pattern.exec(pathname)!.slice(1);
      expect(Object.fromEntries(names.map((n, i) => [n, values[i]]))).toEqual(Object.fromEntries(names.map((n) => [n, real[n]])));
      const bodyIds = [
        ...[...JSON.stringify(body ?? {}).matchAll(/"(\w+_id)":"([^"]*)"/g)].map(([, name, value]) => ({ name, value })),
        ...[...new URLSearchParams(search).entries()].filter(([name]) => name.endsWith('_id')).map(([name, value]) => ({ name, value })),
      ];
      const foreign = bodyIds.filter(({ value }) => !Object.values(real).includes(value!));
      expect({ route: routeKey(route), foreign }).toEqual({ route: routeKey(route), foreign: [] });
    }
  });

  test.each(Object.keys(standInRequests))("%s by another tenant never reads or changes tenant A's data", async (key) => {
    const requests = requestsFor(ids);
    const sample = requestOf(requests, key);
    // A fresh tenant per route, so each request meets an empty world, not what an earlier case created.
    const res = await send(await t.client(), key, requests);
    const text = JSON.stringify(res.body);
    expect(res.status).toBeLessThan(500);
    // B sees its own (empty) world: A's names never come back to B.
    expect(text).not.toContain('Widget');
    expect(text).not.toContain(a.tenantId);
    if (key.includes('{') || key.startsWith('POST /api/inventory') || key.startsWith('POST /api/orders') || key === 'POST /api/skus') {
      expect(res.status).toBe(404);
    }
    expect(res.status).toBe(sample.asOther);
    if (sample.list) expect(res.body[sample.list]).toEqual([]);
    // Nothing only A's data holds comes back (an id B itself sent may be echoed in a 404).
    const sent = JSON.stringify(sample);
    expect(secretsOfA.filter((secret) => !sent.includes(secret) && text.includes(secret))).toEqual([]);
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

  test("after another tenant tried every route, all of A's state is as it was, also once A's event pipeline is idle", async () => {
    await pipeline.settle(2);
    expect(await stateOfA()).toEqual(before);
    expect(Object.values(pipeline.consumers.queues).flatMap((q) => q.deadLetters)).toEqual([]);
  });
});

describe('authentication', () => {
  const routes = Object.keys(standInRequests);
  const request = (key: string, authorization?: string) => {
    const [method] = key.split(' ');
    const { path, body } = requestOf(standInRequests, key);
    // Through the test API's checked request, so every 401 is also held to the OpenAPI document.
    return t.request(path, {
      method,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  };

  // The webhook route is 401 here too, for its missing signature (it reads no token: see the tenancy case and shopify-webhooks.test.ts).
  test.each(routes)('%s without a token is 401', async (key) => {
    const res = await request(key);
    expect(res.status).toBe(401);
    expect((res.body as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
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
    // The webhook route's is no role's permission (SIGNED_BY_PLATFORM): roles do not reach it, its signature does.
    const writes = Object.values(httpRoutes).filter((r) => r.permission.endsWith(':write')).map(routeKey);
    for (const key of writes) {
      const res = await send(viewer, key, standInRequests);
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
