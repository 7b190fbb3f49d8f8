import { ulid } from 'ulid';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import { permissionsOf, roleMay, ROLES, type Permission, type Role } from '../../functions/identity/roles';
import { permissionsShownIn } from '../../functions/platform/sensitive';
import { isWebhookRoute, type HttpRoute } from '../../functions/platform/routes';
import { entriesOf, httpRoutes, routeKey, type RouteName } from '../../functions/wiring';
import { newTenantId, ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { ContractViolation } from '../support/contract';
import { startLocalPipeline } from '../support/pipeline';
import { chosenIds, requestsFor, requestsWithoutRoute, routesWithoutRequest, send, shipTo, standInIds, type Ids, type ShopCredentials } from '../support/route-requests';
import { newShopDomain } from '../support/shops';
import { ShopifyAdminFake } from '../fakes/shopify-admin';

/**
 * The permission matrix drives this suite (issue 12): every route of the wiring x every role of roles.ts, one real
 * request each, through the local API Gateway stand-in to the handler and DynamoDB Local. A role that lacks the
 * route's permission gets exactly 403 naming that permission; a role that holds it gets the route's own success
 * status (its declared `status`, or 200; a lake report may also answer 202 while its query runs), never just
 * "not 403". The webhook route reads no token: every role's bearer token is a 401 there.
 *
 * Each role works in a tenant of its own, set up once (the same world in each), so no role's request meets what
 * another role's changed. Within a tenant, a request that moves an entity through its states (confirm, cancel,
 * ship, submit, receive, delete, deactivate) or creates one under a chosen id gets a fresh entity of its own,
 * made just before it by the tenant's admin (`freshFor` below); the tenants' requests run concurrently, each
 * tenant's one after another (they share its stock levels, whose conditional writes would otherwise race).
 */

// The local runtime's mode (bin/local.ts sets it): the notification consumer writes email to the outbox.
process.env[LOCAL_MODE_ENV] = '1';

const ACCESS_TOKEN = 'shpat_role_matrix';

let t: TestApi;
let shopify: ShopifyAdminFake;
beforeAll(async () => {
  t = await startTestApi();
  shopify = await ShopifyAdminFake.start(ACCESS_TOKEN);
});
afterAll(async () => {
  await t.close();
  await shopify.stop();
});

/** A shop no connection holds yet (a shop belongs to one connection across all tenants), served by the Shopify fake. */
const newShop = (): ShopCredentials => ({ shop_domain: newShopDomain('matrix'), access_token: ACCESS_TOKEN, webhook_secret: 'whsec_role_matrix' });

/** An id no request of the suite used before. */
const unique = (prefix: string): string => `${prefix}-${ulid().toLowerCase()}`;

/** One role's tenant: its admin (who sets the world up and makes fresh entities), the role's own client, and the ids of its world. */
interface RoleTenant {
  role: Role;
  admin: Client;
  caller: Client;
  ids: Ids;
}

/** The Amazon connection of each tenant: PUT .../listings/{sku_id} takes the Amazon shape in the shared request table. */
const AMAZON_CHANNEL = 'chan-amz';

const allocate = async (admin: Client, extra: Record<string, unknown> = {}): Promise<string> => {
  const orderId = unique('order');
  ok(await admin.post('/api/orders/allocate', { order_id: orderId, lines: [{ sku_id: chosenIds.sku_id, quantity: 1 }], ship_to: shipTo, ...extra }), 201);
  return orderId;
};

const draftPurchaseOrder = async (admin: Client): Promise<string> => {
  const purchaseOrderId = unique('po');
  const { supplier_id, warehouse_id, sku_id } = chosenIds;
  ok(await admin.post('/api/purchase-orders', { purchase_order_id: purchaseOrderId, supplier_id, warehouse_id, lines: [{ sku_id, quantity: 3, unit_cost: '2.50' }] }), 201);
  return purchaseOrderId;
};

const submittedPurchaseOrder = async (admin: Client): Promise<string> => {
  const purchaseOrderId = await draftPurchaseOrder(admin);
  ok(await admin.post(`/api/purchase-orders/${purchaseOrderId}/submit`));
  return purchaseOrderId;
};

/** A clerk of the tenant, made by its admin through the users API: its user id. */
const newStaff = async (admin: Client): Promise<string> =>
  ok(await admin.post('/api/users', { email: `${unique('staff')}@matrix.example`, name: 'Staff', role: 'clerk' }), 201).user_id;

/**
 * The ids a request gets instead of its tenant's world, made just for it: for routes that create under a chosen id
 * (the world's id exists already) or move an entity through its states (the world's would be moved once for all).
 * Only requests a role may make get one (a 403 comes before any lookup). A new route of that kind is one line here.
 * The world's one alert is acknowledged by one request only (one role per tenant), so acknowledgeAlert needs none.
 */
const freshFor: Partial<Record<RouteName, (tenant: RoleTenant) => Promise<Partial<Ids>>>> = {
  createProduct: async () => ({ product_id: unique('prod') }),
  createSku: async () => ({ sku_id: unique('sku') }),
  createWarehouse: async () => ({ warehouse_id: unique('wh') }),
  patchWarehouse: async ({ admin }) => {
    const warehouseId = unique('wh');
    ok(await admin.post('/api/warehouses', { warehouse_id: warehouseId, name: 'To deactivate', latitude: 1, longitude: 1 }), 201);
    return { warehouse_id: warehouseId };
  },
  allocateOrder: async () => ({ order_id: unique('order') }),
  confirmOrder: async ({ admin }) => ({ order_id: await allocate(admin, { hold_seconds: 600 }) }),
  cancelOrder: async ({ admin }) => ({ order_id: await allocate(admin) }),
  shipOrder: async ({ admin }) => ({ order_id: await allocate(admin) }),
  createSupplier: async () => ({ supplier_id: unique('sup') }),
  createPurchaseOrder: async () => ({ purchase_order_id: unique('po') }),
  submitPurchaseOrder: async ({ admin }) => ({ purchase_order_id: await draftPurchaseOrder(admin) }),
  receivePurchaseOrder: async ({ admin }) => ({ purchase_order_id: await submittedPurchaseOrder(admin) }),
  cancelPurchaseOrder: async ({ admin }) => ({ purchase_order_id: await submittedPurchaseOrder(admin) }),
  // Deleting another user's subscription is subscriptions:manage's: the caller deletes one of its own.
  deleteAlertSubscription: async ({ caller }) => ({
    subscription_id: ok(await caller.post('/api/alerts/subscribe', { scope: { sku_id: chosenIds.sku_id }, channel: 'email', target: 'own@example.com' }), 201).subscription_id,
  }),
  createChannel: async () => ({ channel_id: unique('chan') }),
  deleteChannel: async ({ admin }) => {
    const channelId = unique('chan');
    ok(await admin.post('/api/channels', { channel_id: channelId, platform: 'shopify', warehouse_ids: [chosenIds.warehouse_id], api_base_url: shopify.url, credentials: newShop() }), 201);
    return { channel_id: channelId };
  },
  putListing: async () => ({ channel_id: AMAZON_CHANNEL }),
  // A user of its own to change or remove (only roles with users:write get here), so the world's stays as it was.
  patchUser: async ({ admin }) => ({ user_id: await newStaff(admin) }),
  deleteUser: async ({ admin }) => ({ user_id: await newStaff(admin) }),
};

/**
 * One tenant's world, the same for every role: the catalogue, stock, a supplier, a submitted purchase order, an
 * allocated order, a subscription, a Shopify connection (on the fake) and an Amazon one, an open alert, a report
 * query, a forecasting run and a reconciliation run. Built by the tenant's admin; the event pipeline opens the alert.
 */
const setUpWorld = async (admin: Client): Promise<Omit<Ids, 'alert_id' | 'query_id' | 'run_id' | 'reconciliation_id'>> => {
  const { sku_id, warehouse_id, to_warehouse_id, supplier_id, purchase_order_id, order_id, channel_id } = chosenIds;
  await setupCatalog(admin, { skuId: sku_id, warehouses: [warehouse_id, to_warehouse_id] });
  ok(await admin.post('/api/inventory/update', { sku_id, warehouse_id, transaction_type: 'restock', quantity: 100 }));
  ok(await admin.post('/api/suppliers', { supplier_id, name: 'Matrix Supply', contact: { email: 'buyer@matrix.example' }, lead_time_days: 7, currency: 'USD' }), 201);
  ok(await admin.patch(`/api/skus/${sku_id}`, { supplier_id, unit_cost: '2.50', price: '4.00', currency: 'USD' }));
  ok(await admin.post('/api/purchase-orders', { purchase_order_id, supplier_id, warehouse_id, lines: [{ sku_id, quantity: 1, unit_cost: '2.50' }] }), 201);
  ok(await admin.post(`/api/purchase-orders/${purchase_order_id}/submit`));
  // A receipt: the ledger holds a row with a unit cost.
  ok(await admin.post(`/api/purchase-orders/${await submittedPurchaseOrder(admin)}/receive`, { lines: [{ sku_id, quantity: 3 }] }));
  ok(await admin.post('/api/orders/allocate', { order_id, lines: [{ sku_id, quantity: 2 }], ship_to: shipTo }), 201);
  const subscription = ok(await admin.post('/api/alerts/subscribe', { scope: { sku_id }, channel: 'email', target: 'alerts@matrix.example' }), 201);
  ok(await admin.post('/api/channels', { channel_id, platform: 'shopify', warehouse_ids: [warehouse_id], api_base_url: shopify.url, credentials: newShop() }), 201);
  ok(await admin.post('/api/channels', {
    channel_id: AMAZON_CHANNEL, platform: 'amazon', warehouse_ids: [warehouse_id],
    credentials: { seller_id: 'A1MATRIX', marketplace_ids: ['ATVPDKIKX0DER'], lwa_client_id: 'amzn1.application-oa2-client.matrix', lwa_client_secret: 'lwa_secret_matrix', refresh_token: 'Atzr|matrix' },
  }), 201);
  // 98 available + 1 incoming against a reorder point of 500: the re-evaluated level opens an alert.
  ok(await admin.put('/api/thresholds', { sku_id, warehouse_id, reorder_point: 500, safety_stock: 5 }));
  return { ...chosenIds, subscription_id: subscription.subscription_id, user_id: await newStaff(admin) };
};

/**
 * Routes whose answer in this world holds fields not every role may see (functions/platform/sensitive.ts tags
 * them in the response schemas): a role with the permission is shown them, a role without gets the answer
 * without them. (Every other success is held to "nothing shown that the role may not see" too; the lake
 * reports, empty here, are test/integration/sensitive-fields.test.ts's.)
 */
const shownInThisWorld: Partial<Record<RouteName, Permission[]>> = {
  createSku: ['costs:read'],
  getSku: ['costs:read'],
  patchSku: ['costs:read'],
  listSkus: ['costs:read'],
  listMovements: ['costs:read'],
  createSupplier: ['suppliers:contact'],
  listSuppliers: ['suppliers:contact'],
  getSupplier: ['suppliers:contact'],
  createPurchaseOrder: ['costs:read'],
  listPurchaseOrders: ['costs:read'],
  getPurchaseOrder: ['costs:read'],
  submitPurchaseOrder: ['costs:read'],
  receivePurchaseOrder: ['costs:read'],
  cancelPurchaseOrder: ['costs:read'],
};

/** What a role's request got: the response, or what broke before one came (a fixture, or a response that breaks the OpenAPI document). */
type Outcome = { status: number; body: any } | { failed: string };

/** The success statuses of a route: its declared one, and 202 where it may answer that a lake query still runs. */
const successOf = (route: HttpRoute): number[] => [route.status ?? 200, ...(route.accepted ? [202] : [])];

const routes = entriesOf(httpRoutes);
const cases = ROLES.flatMap((role) => routes.map(([name, route]) => ({ role, name, key: routeKey(route) })));
const outcomes = new Map<string, Outcome>();
const caseId = (role: Role, name: string): string => `${role} ${name}`;

test('every declared route has a request here (test/support/route-requests.ts), and every request a route', () => {
  expect({ withoutRequest: routesWithoutRequest(requestsFor(standInIds)), withoutRoute: requestsWithoutRoute(requestsFor(standInIds)) }).toEqual({
    withoutRequest: [],
    withoutRoute: [],
  });
});

describe('every route x every role', () => {
  beforeAll(async () => {
    const tenantIds = new Map(ROLES.map((role) => [role, newTenantId()] as const));
    const pipeline = await startLocalPipeline([...tenantIds.values()]);
    let tenants: RoleTenant[];
    try {
      tenants = await Promise.all(
        ROLES.map(async (role) => {
          const tenantId = tenantIds.get(role)!;
          const admin = await t.client({ tenantId, role: 'admin' });
          const caller = role === 'admin' ? admin : await t.client({ tenantId, role });
          const world = await setUpWorld(admin);
          return { role, admin, caller, ids: { ...standInIds, ...world } };
        }),
      );
      // The alerts come from the event pipeline (stream -> bus -> queued consumers), as under `npm start`.
      let waiting = tenants;
      for (let round = 0; round < 20 && waiting.length > 0; round++) {
        await pipeline.settle();
        const found = await Promise.all(waiting.map(async (tenant) => ({ tenant, alerts: ok(await tenant.admin.get('/api/alerts')).alerts as { alert_id: string }[] })));
        for (const { tenant, alerts } of found) if (alerts[0]) tenant.ids.alert_id = alerts[0].alert_id;
        waiting = found.filter(({ alerts }) => alerts.length === 0).map(({ tenant }) => tenant);
      }
      if (waiting.length > 0) throw new Error(`no alert opened for ${waiting.map((tenant) => tenant.role).join(', ')}`);
      await Promise.all(
        tenants.map(async ({ admin, ids }) => {
          ids.query_id = ok(await admin.get('/api/reports/valuation?as_of=2027-01-01')).query_id;
          ids.run_id = ok(await admin.post('/api/reports/demand-forecast/run'), 202).run_id;
          // No listing is mapped: the reconciliation completes through the pipeline without calling the shop.
          ids.reconciliation_id = ok(await admin.post('/api/integration/sync', { channel_id: ids.channel_id }), 202).reconciliations[0].reconciliation_id;
        }),
      );
      // Every run done and the world idle before the requests: nothing of the setup moves under them.
      await pipeline.settle(3);
    } finally {
      await pipeline.stop();
    }
    await Promise.all(
      tenants.map(async (tenant) => {
        for (const [name, declared] of routes) {
          const route: HttpRoute = declared;
          const key = routeKey(route);
          try {
            const fresh = !isWebhookRoute(route) && roleMay(tenant.role, route.permission) ? await freshFor[name]?.(tenant) : undefined;
            const requests = requestsFor({ ...tenant.ids, ...fresh }, { create: newShop(), patch: newShop() });
            const res = await send(tenant.caller, key, requests);
            outcomes.set(caseId(tenant.role, name), { status: res.status, body: res.body });
          } catch (error) {
            const shown = error instanceof ContractViolation ? `${error.message}\n(status ${error.response.status})` : String(error);
            outcomes.set(caseId(tenant.role, name), { failed: shown });
          }
        }
      }),
    );
  }, 240_000);

  test.each(cases)('$key as $role', ({ role, name }) => {
    const route: HttpRoute = httpRoutes[name];
    const outcome = outcomes.get(caseId(role, name));
    expect(outcome).toBeDefined();
    if (outcome === undefined || 'failed' in outcome) throw new Error(`no response: ${outcome?.failed ?? 'the request was never made'}`);
    if (isWebhookRoute(route)) {
      // A bearer token is no signature: the webhook route refuses it whatever its role.
      expect({ status: outcome.status, code: outcome.body?.error?.code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
      return;
    }
    if (!roleMay(role, route.permission)) {
      expect({ status: outcome.status, code: outcome.body?.error?.code, permission: outcome.body?.error?.details?.permission }).toEqual({
        status: 403,
        code: 'FORBIDDEN',
        permission: route.permission,
      });
      expect(outcome.body.error.message).toContain(`'${route.permission}'`);
      return;
    }
    // The body is shown only when the status is not a success: it says why.
    const success = successOf(route);
    const got = success.includes(outcome.status);
    expect({ status: outcome.status, body: got ? 'a success' : outcome.body }).toEqual({
      status: got ? outcome.status : success.join(' or '),
      body: 'a success',
    });
    const schema = outcome.status === 202 && route.accepted ? route.accepted : route.response;
    const shown = [...permissionsShownIn(schema, outcome.body)];
    expect({ shownWithout: shown.filter((permission) => !roleMay(role, permission)) }).toEqual({ shownWithout: [] });
    for (const permission of shownInThisWorld[name] ?? []) {
      expect({ permission, shown: shown.includes(permission) }).toEqual({ permission, shown: roleMay(role, permission) });
    }
  });
});

test("GET /api/roles answers roles.ts's matrix: each role's permissions as permissionsOf holds them", async () => {
  const viewer = await t.client({ role: 'viewer' });
  const matrix = ok(await viewer.get('/api/roles'));
  expect(matrix.roles.map((r: { role: string }) => r.role)).toEqual([...ROLES]);
  for (const entry of matrix.roles as { role: Role; permissions: string[]; description: string }[]) {
    expect({ role: entry.role, permissions: [...entry.permissions].sort() }).toEqual({ role: entry.role, permissions: [...permissionsOf[entry.role]].sort() });
    expect(entry.description.length).toBeGreaterThan(10);
  }
});
