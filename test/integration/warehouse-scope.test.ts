import { evaluateLevelChange } from '../../functions/alerts/alerts';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import { systemContext } from '../../functions/platform/context';
import { permissionsOf, type Role } from '../../functions/platform/permissions';
import { httpRoutes, type RouteName } from '../../functions/wiring';
import { ok, startTestApi, type Client, type Response, type TestApi } from '../support/api';
import { testDb } from '../support/domain';
import { stockLevelChanged } from '../support/events';
import { allMovements } from '../support/ledger';
import { newShopDomain } from '../support/shops';

/**
 * Warehouse-scoped users (issue 12): a user with warehouse_ids changes stock, receives, ships and
 * counts only in those warehouses (403 FORBIDDEN naming the others in the message and in
 * details.warehouse_ids, nothing written), and their lists show only those warehouses' levels.
 *
 * Driven by the wiring: every route that may write the table is classified below, as bound to a
 * warehouse (with its out-of-scope and in-scope requests) or not (with the reason), so a new
 * writing route without a case fails the first test. Scoped callers are made only through
 * `t.client({ warehouseIds })`, which keeps working when the user directory supplies the scope.
 */
process.env[LOCAL_MODE_ENV] = '1';

let t: TestApi;
const db = testDb();
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
  db.client.destroy();
});

/** The scoped user's warehouses, and the one they do not work in. */
const SCOPE = ['wh-in', 'wh-in2'] as const;
const OUT = 'wh-out';
const SKU = 'sku-1';
const WAREHOUSES = [
  { warehouse_id: 'wh-in', name: 'In', latitude: 40, longitude: -74 },
  { warehouse_id: 'wh-in2', name: 'In two', latitude: 45, longitude: -80 },
  { warehouse_id: OUT, name: 'Out', latitude: 30, longitude: -90 },
];
const near = (warehouseId: string) => {
  const w = WAREHOUSES.find((x) => x.warehouse_id === warehouseId)!;
  return { latitude: w.latitude, longitude: w.longitude };
};

/** A new tenant: a supplier, one SKU it supplies at a cost, three warehouses with 10 units each; its admin (unscoped). */
const newTenant = async (): Promise<Client> => {
  const admin = await t.client({ role: 'admin' });
  ok(await admin.post('/api/suppliers', { supplier_id: 'sup-1', name: 'Supply Co', lead_time_days: 3, currency: 'USD' }), 201);
  ok(await admin.post('/api/products', { product_id: 'prod-1', name: 'Widget' }), 201);
  ok(await admin.post('/api/skus', { sku_id: SKU, product_id: 'prod-1', name: 'Widget, blue', supplier_id: 'sup-1', unit_cost: '2.00', currency: 'USD' }), 201);
  for (const w of WAREHOUSES) {
    ok(await admin.post('/api/warehouses', w), 201);
    ok(await admin.post('/api/inventory/update', { sku_id: SKU, warehouse_id: w.warehouse_id, transaction_type: 'restock', quantity: 10 }));
  }
  return admin;
};

const scoped = (admin: Client, role: Role, warehouseIds: readonly string[] = SCOPE): Promise<Client> => t.client({ tenantId: admin.tenantId, role, warehouseIds });

/** An alert opened on a level, as the alert consumer opens one from the level's StockLevelChanged. */
const openAlert = async (tenantId: string, warehouseId: string): Promise<void> => {
  const ctx = systemContext({ tenantId, actor: 'system:alert-evaluator', requestId: `test-${warehouseId}` });
  await evaluateLevelChange({ db, ctx }, stockLevelChanged(tenantId, 1, 12, { warehouse_id: warehouseId, before: null }));
  await evaluateLevelChange({ db, ctx }, stockLevelChanged(tenantId, 2, 3, { warehouse_id: warehouseId, before: { on_hand: 12, reserved: 0, available: 12, incoming: 0 } }));
};

const activeAlertAt = async (admin: Client, warehouseId: string): Promise<string> => {
  const alerts: { alert_id: string; warehouse_id: string }[] = ok(await admin.get('/api/alerts')).alerts;
  const alert = alerts.find((a) => a.warehouse_id === warehouseId);
  if (!alert) throw new Error(`no alert at ${warehouseId}: ${JSON.stringify(alerts)}`);
  return alert.alert_id;
};

const shopify = (channelId: string, warehouseIds: string[]) => ({
  channel_id: channelId,
  platform: 'shopify',
  warehouse_ids: warehouseIds,
  credentials: { shop_domain: newShopDomain(channelId), access_token: 'shpat_test', webhook_secret: 'whsec_test' },
});

/** Everything of the tenant a writing route could change, read by its unscoped admin. */
const stateOf = async (admin: Client, extra: readonly string[] = []) => {
  const paths = ['/api/inventory/sku/sku-1', '/api/warehouses', '/api/purchase-orders', '/api/alerts', '/api/alerts/subscriptions', '/api/channels', '/api/integration/status', ...extra];
  // `as_of` is when the answer was made, not state.
  const reads = await Promise.all(paths.map(async (path) => [path, { ...ok(await admin.get(path)), as_of: undefined }] as const));
  return { ...Object.fromEntries(reads), movements: await allMovements(admin, SKU) };
};

interface ScopeCase {
  /** What the case exercises, for the test name. */
  name: string;
  /** The tenant's own state the requests need (made by its admin), beyond newTenant's. */
  setup?: (admin: Client) => Promise<void>;
  /** A request that would touch a warehouse outside the scope (`admin` for ids only the admin can see). */
  out: (c: Client, admin: Client) => Promise<Response>;
  /** How the refusal reads: it names wh-out (the default), or (for what no scoped user may do) the user's own warehouses. */
  names?: 'outside' | 'scope';
  /** For a route that reports refusals item by item (200): checks the answer instead of a 403. */
  refused?: (res: Response) => void;
  /** The same request in scope, answered with the route's success status; none when no scoped user may do it at all. */
  in?: (c: Client) => Promise<Response>;
  /** More of the tenant to read for "nothing written" (e.g. the order the request acts on). */
  reads?: string[];
}

type Classification = { scoped: ScopeCase[] } | { unbound: string };

type WriteRoute = { [K in RouteName]: (typeof httpRoutes)[K]['table'] extends 'write' ? K : never }[RouteName];

const stock = (warehouseId: string, change: Record<string, unknown>) => (c: Client) => c.post('/api/inventory/update', { sku_id: SKU, warehouse_id: warehouseId, ...change });
const stockCase = (kind: string, change: Record<string, unknown>): ScopeCase => ({
  name: `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`,
  out: stock(OUT, { transaction_type: kind, ...change }),
  in: stock('wh-in', { transaction_type: kind, ...change }),
});
const order = (orderId: string, warehouseId: string, extra: Record<string, unknown> = {}) => ({
  order_id: orderId,
  lines: [{ sku_id: SKU, quantity: 2 }],
  ship_to: near(warehouseId),
  warehouse_ids: [warehouseId],
  ...extra,
});
/** Two orders placed by the admin, one from wh-out and one from wh-in. */
const twoOrders = (extra: Record<string, unknown> = {}) => async (admin: Client) => {
  ok(await admin.post('/api/orders/allocate', order('o-out', OUT, extra)), 201);
  ok(await admin.post('/api/orders/allocate', order('o-in', 'wh-in', extra)), 201);
};
const purchaseOrder = (id: string, warehouseId: string) => ({ purchase_order_id: id, supplier_id: 'sup-1', warehouse_id: warehouseId, lines: [{ sku_id: SKU, quantity: 4, unit_cost: '2.00' }] });
/** Two purchase orders placed by the admin (into wh-out and into wh-in), submitted unless `draft`. */
const twoPurchaseOrders = (draft = false) => async (admin: Client) => {
  for (const [id, wh] of [['po-out', OUT], ['po-in', 'wh-in']] as const) {
    ok(await admin.post('/api/purchase-orders', purchaseOrder(id, wh)), 201);
    if (!draft) ok(await admin.post(`/api/purchase-orders/${id}/submit`));
  }
};
const twoChannels = async (admin: Client) => {
  ok(await admin.post('/api/channels', shopify('ch-out', ['wh-in', OUT])), 201);
  ok(await admin.post('/api/channels', shopify('ch-in', ['wh-in'])), 201);
};
const CATALOG = 'the catalogue (products, SKUs) is not kept per warehouse';
/** The users twoStaff made, by the warehouse they work in (the directory makes their ids). */
const staff: Record<'out' | 'in', string> = { out: '', in: '' };
/** Two clerks made by the admin: one of wh-out, one of wh-in. */
const twoStaff = async (admin: Client) => {
  for (const [which, wh] of [['out', OUT], ['in', 'wh-in']] as const) {
    staff[which] = ok(await admin.post('/api/users', { email: `${which}-${Date.now()}-${Math.random().toString(36).slice(2)}@scope.example`, name: `Clerk ${which}`, role: 'clerk', warehouse_ids: [wh] }), 201).user_id;
  }
};
const newClerk = (warehouseIds?: string[]) => (c: Client) =>
  c.post('/api/users', { email: `new-${Date.now()}-${Math.random().toString(36).slice(2)}@scope.example`, name: 'New clerk', role: 'clerk', ...(warehouseIds ? { warehouse_ids: warehouseIds } : {}) });

const writeRoutes: Record<WriteRoute, Classification> = {
  createProduct: { unbound: CATALOG },
  createSku: { unbound: CATALOG },
  patchSku: { unbound: CATALOG },
  createSupplier: { unbound: 'a supplier serves every warehouse; ordering from one into a warehouse is createPurchaseOrder' },
  createWarehouse: {
    scoped: [{ name: 'a new warehouse (in nobody\'s scope yet)', out: (c) => c.post('/api/warehouses', { warehouse_id: 'wh-new', name: 'New', latitude: 1, longitude: 1 }), names: 'scope', reads: [] }],
  },
  patchWarehouse: {
    scoped: [{ name: 'a change of the warehouse', out: (c) => c.patch(`/api/warehouses/${OUT}`, { name: 'Renamed' }), in: (c) => c.patch('/api/warehouses/wh-in', { name: 'Renamed' }) }],
  },
  updateStock: {
    scoped: [
      stockCase('sale', { quantity: 1 }),
      stockCase('restock', { quantity: 1 }),
      stockCase('adjustment', { quantity: -1, reason: 'damaged' }),
      stockCase('count', { quantity: 7 }),
    ],
  },
  setSubLevels: {
    scoped: [
      {
        name: 'a split of a level in another warehouse',
        out: (c) => c.post('/api/inventory/sub-levels', { sku_id: SKU, warehouse_id: OUT, count: 2 }),
        in: (c) => c.post('/api/inventory/sub-levels', { sku_id: SKU, warehouse_id: 'wh-in', count: 2 }),
      },
    ],
  },
  transferStock: {
    scoped: [
      {
        name: 'a transfer out of another warehouse',
        out: (c) => c.post('/api/inventory/transfer', { sku_id: SKU, from_warehouse_id: OUT, to_warehouse_id: 'wh-in', quantity: 1 }),
        in: (c) => c.post('/api/inventory/transfer', { sku_id: SKU, from_warehouse_id: 'wh-in2', to_warehouse_id: 'wh-in', quantity: 1 }),
      },
      {
        name: 'a transfer into another warehouse',
        out: (c) => c.post('/api/inventory/transfer', { sku_id: SKU, from_warehouse_id: 'wh-in', to_warehouse_id: OUT, quantity: 1 }),
        in: (c) => c.post('/api/inventory/transfer', { sku_id: SKU, from_warehouse_id: 'wh-in', to_warehouse_id: 'wh-in2', quantity: 1 }),
      },
    ],
  },
  bulkUpdateStock: {
    scoped: [
      {
        name: 'an atomic batch with one update in another warehouse',
        out: (c) =>
          c.post('/api/inventory/bulk-update', {
            atomic: true,
            updates: [
              { sku_id: SKU, warehouse_id: 'wh-in', transaction_type: 'sale', quantity: 1 },
              { sku_id: SKU, warehouse_id: OUT, transaction_type: 'sale', quantity: 1 },
            ],
          }),
        in: (c) =>
          c.post('/api/inventory/bulk-update', {
            atomic: true,
            updates: SCOPE.map((warehouse_id) => ({ sku_id: SKU, warehouse_id, transaction_type: 'sale', quantity: 1 })),
          }),
      },
      {
        name: 'independent updates in another warehouse, each rejected on its own',
        out: (c) =>
          c.post('/api/inventory/bulk-update', {
            atomic: false,
            updates: [
              { sku_id: SKU, warehouse_id: OUT, transaction_type: 'sale', quantity: 1 },
              { sku_id: SKU, warehouse_id: OUT, transaction_type: 'count', quantity: 3 },
            ],
          }),
        refused: (res) => {
          expect(res.status).toBe(200);
          expect(res.body).toMatchObject({ atomic: false, applied: 0, rejected: 2 });
          for (const result of res.body.results) {
            expect(result).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN', details: { warehouse_ids: [OUT] } } });
            expect(result.error.message).toContain(`'${OUT}'`);
          }
        },
        in: (c) => c.post('/api/inventory/bulk-update', { atomic: false, updates: [{ sku_id: SKU, warehouse_id: 'wh-in', transaction_type: 'sale', quantity: 1 }] }),
      },
    ],
  },
  putThresholds: {
    scoped: [
      {
        name: "a level's thresholds",
        out: (c) => c.put('/api/thresholds', { sku_id: SKU, warehouse_id: OUT, reorder_point: 5, safety_stock: 1 }),
        in: (c) => c.put('/api/thresholds', { sku_id: SKU, warehouse_id: 'wh-in', reorder_point: 5, safety_stock: 1 }),
      },
      {
        name: 'a batch with one level in another warehouse',
        out: (c) =>
          c.put('/api/thresholds', {
            items: [
              { sku_id: SKU, warehouse_id: 'wh-in', reorder_point: 5, safety_stock: 1 },
              { sku_id: SKU, warehouse_id: OUT, reorder_point: 5, safety_stock: 1 },
            ],
          }),
        in: (c) => c.put('/api/thresholds', { items: SCOPE.map((warehouse_id) => ({ sku_id: SKU, warehouse_id, reorder_point: 5, safety_stock: 1 })) }),
      },
      {
        name: "a SKU's default (it moves every warehouse's level)",
        out: (c) => c.put('/api/thresholds', { sku_id: SKU, reorder_point: 5, safety_stock: 1 }),
        names: 'scope',
      },
    ],
  },
  allocateOrder: {
    scoped: [
      {
        name: 'an order the plan fills from another warehouse',
        out: (c) => c.post('/api/orders/allocate', { order_id: 'o-1', lines: [{ sku_id: SKU, quantity: 5 }], ship_to: near(OUT), strategy: 'nearest', allow_split: false }),
        in: (c) => c.post('/api/orders/allocate', { order_id: 'o-1', lines: [{ sku_id: SKU, quantity: 5 }], ship_to: near('wh-in'), strategy: 'nearest', allow_split: false }),
      },
      {
        name: 'an order split across the scope and another warehouse',
        out: (c) => c.post('/api/orders/allocate', { order_id: 'o-1', lines: [{ sku_id: SKU, quantity: 25 }], ship_to: near('wh-in') }),
        in: (c) => c.post('/api/orders/allocate', { order_id: 'o-1', lines: [{ sku_id: SKU, quantity: 15 }], ship_to: near('wh-in') }),
      },
      {
        name: 'an order that names another warehouse to allocate from',
        out: (c) => c.post('/api/orders/allocate', order('o-1', OUT)),
        in: (c) => c.post('/api/orders/allocate', order('o-1', 'wh-in2')),
      },
    ],
  },
  confirmOrder: {
    scoped: [
      {
        name: 'a hold on another warehouse',
        setup: twoOrders({ hold_seconds: 600 }),
        out: (c) => c.post('/api/orders/o-out/confirm'),
        in: (c) => c.post('/api/orders/o-in/confirm'),
        reads: ['/api/orders/status/o-out'],
      },
    ],
  },
  cancelOrder: {
    scoped: [
      {
        name: 'an order allocated in another warehouse',
        setup: twoOrders(),
        out: (c) => c.post('/api/orders/o-out/cancel'),
        in: (c) => c.post('/api/orders/o-in/cancel'),
        reads: ['/api/orders/status/o-out'],
      },
    ],
  },
  shipOrder: {
    scoped: [
      {
        name: 'a shipment from another warehouse',
        setup: twoOrders(),
        out: (c) => c.post('/api/orders/o-out/ship', { lines: [{ sku_id: SKU, quantity: 1 }] }),
        in: (c) => c.post('/api/orders/o-in/ship', { lines: [{ sku_id: SKU, quantity: 1 }] }),
        reads: ['/api/orders/status/o-out'],
      },
    ],
  },
  createPurchaseOrder: {
    scoped: [
      {
        name: 'a purchase order into another warehouse',
        out: (c) => c.post('/api/purchase-orders', purchaseOrder('po-1', OUT)),
        in: (c) => c.post('/api/purchase-orders', purchaseOrder('po-1', 'wh-in')),
      },
    ],
  },
  submitPurchaseOrder: {
    scoped: [{ name: 'a draft into another warehouse', setup: twoPurchaseOrders(true), out: (c) => c.post('/api/purchase-orders/po-out/submit'), in: (c) => c.post('/api/purchase-orders/po-in/submit') }],
  },
  receivePurchaseOrder: {
    scoped: [
      {
        name: 'a delivery into another warehouse',
        setup: twoPurchaseOrders(),
        out: (c) => c.post('/api/purchase-orders/po-out/receive', { lines: [{ sku_id: SKU, quantity: 2 }] }),
        in: (c) => c.post('/api/purchase-orders/po-in/receive', { lines: [{ sku_id: SKU, quantity: 2 }] }),
      },
    ],
  },
  cancelPurchaseOrder: {
    scoped: [{ name: 'a purchase order into another warehouse', setup: twoPurchaseOrders(), out: (c) => c.post('/api/purchase-orders/po-out/cancel'), in: (c) => c.post('/api/purchase-orders/po-in/cancel') }],
  },
  acknowledgeAlert: {
    scoped: [
      {
        name: "another warehouse's alert",
        setup: async (admin) => {
          await openAlert(admin.tenantId, OUT);
          await openAlert(admin.tenantId, 'wh-in');
        },
        out: async (c, admin) => c.post(`/api/alerts/${await activeAlertAt(admin, OUT)}/acknowledge`),
        in: async (c) => c.post(`/api/alerts/${await activeAlertAt(c, 'wh-in')}/acknowledge`),
      },
    ],
  },
  subscribeAlerts: {
    scoped: [
      {
        name: "another warehouse's alerts",
        out: (c) => c.post('/api/alerts/subscribe', { scope: { warehouse_id: OUT }, channel: 'email', target: 'clerk@example.com' }),
        in: (c) => c.post('/api/alerts/subscribe', { scope: { warehouse_id: 'wh-in' }, channel: 'email', target: 'clerk@example.com' }),
      },
      { name: "a SKU's alerts in every warehouse", out: (c) => c.post('/api/alerts/subscribe', { scope: { sku_id: SKU }, channel: 'email', target: 'clerk@example.com' }), names: 'scope' },
      { name: 'every alert', out: (c) => c.post('/api/alerts/subscribe', { scope: { all: true }, channel: 'email', target: 'clerk@example.com' }), names: 'scope' },
    ],
  },
  deleteAlertSubscription: { unbound: 'a subscription is a person\'s own notice and changes no stock; who may delete whose is the subscriptions:manage rule' },
  createPurchaseOrdersFromSuggestions: {
    scoped: [
      {
        name: 'a suggestion for another warehouse',
        out: (c) =>
          c.post('/api/replenishment/suggestions/purchase-orders', {
            suggestions: [
              { sku_id: SKU, warehouse_id: 'wh-in', quantity: 5 },
              { sku_id: SKU, warehouse_id: OUT, quantity: 5 },
            ],
          }),
        in: (c) => c.post('/api/replenishment/suggestions/purchase-orders', { suggestions: [{ sku_id: SKU, warehouse_id: 'wh-in', quantity: 5 }] }),
      },
    ],
  },
  applyReorderPoints: {
    scoped: [
      {
        name: "another warehouse's reorder points",
        out: (c) => c.post('/api/replenishment/reorder-points', { warehouse_id: OUT, sku_ids: [SKU], dry_run: false }),
        in: (c) => c.post('/api/replenishment/reorder-points', { warehouse_id: 'wh-in', sku_ids: [SKU], dry_run: false }),
      },
    ],
  },
  requestForecastRun: { unbound: 'a forecasting run writes forecasts of the whole tenant, never stock (admins only)' },
  createChannel: {
    scoped: [{ name: 'a connection selling from another warehouse', out: (c) => c.post('/api/channels', shopify('ch-1', ['wh-in', OUT])), in: (c) => c.post('/api/channels', shopify('ch-1', ['wh-in'])) }],
  },
  patchChannel: {
    scoped: [
      { name: 'a connection selling from another warehouse', setup: twoChannels, out: (c) => c.patch('/api/channels/ch-out', { buffer: 2 }), in: (c) => c.patch('/api/channels/ch-in', { buffer: 2 }) },
      { name: 'a connection moved to another warehouse', setup: twoChannels, out: (c) => c.patch('/api/channels/ch-in', { warehouse_ids: [OUT] }), in: (c) => c.patch('/api/channels/ch-in', { warehouse_ids: ['wh-in2'] }) },
    ],
  },
  deleteChannel: {
    scoped: [{ name: 'a connection selling from another warehouse', setup: twoChannels, out: (c) => c.delete('/api/channels/ch-out'), in: (c) => c.delete('/api/channels/ch-in') }],
  },
  putListing: { unbound: "a listing maps a SKU to the platform's item; it moves no stock (the connection's warehouses are createChannel's and patchChannel's)" },
  discoverListings: { unbound: 'discovery maps SKUs to the platform\'s items; it moves no stock' },
  requestSync: {
    scoped: [
      {
        name: 'a reconciliation of a connection selling from another warehouse',
        setup: twoChannels,
        out: (c) => c.post('/api/integration/sync', { channel_id: 'ch-out' }),
        in: (c) => c.post('/api/integration/sync', { channel_id: 'ch-in' }),
      },
      { name: 'a reconciliation of every connection of a platform', setup: twoChannels, out: (c) => c.post('/api/integration/sync', { platform_name: 'shopify' }) },
    ],
  },
  // Users: a scoped admin gives, changes and removes only users within their own warehouses (never "every warehouse").
  createUser: {
    scoped: [
      { name: 'a user of another warehouse', out: newClerk([OUT]), in: newClerk(['wh-in']), reads: ['/api/users'] },
      { name: 'a user of every warehouse', out: newClerk(), names: 'scope', reads: ['/api/users'] },
    ],
  },
  patchUser: {
    scoped: [
      { name: 'a user of another warehouse', setup: twoStaff, out: (c) => c.patch(`/api/users/${staff.out}`, { name: 'Renamed' }), in: (c) => c.patch(`/api/users/${staff.in}`, { name: 'Renamed' }), reads: ['/api/users'] },
      { name: 'a user moved to another warehouse', setup: twoStaff, out: (c) => c.patch(`/api/users/${staff.in}`, { warehouse_ids: [OUT] }), in: (c) => c.patch(`/api/users/${staff.in}`, { warehouse_ids: ['wh-in2'] }), reads: ['/api/users'] },
    ],
  },
  deleteUser: {
    scoped: [{ name: 'a user of another warehouse', setup: twoStaff, out: (c) => c.delete(`/api/users/${staff.out}`), in: (c) => c.delete(`/api/users/${staff.in}`), reads: ['/api/users'] }],
  },
  shopifyWebhook: { unbound: 'no user: the shop signs it and the route acts as the system for the connection\'s tenant' },
};

test('every route that may write the table is classified as warehouse-bound (with cases) or not (with the reason)', () => {
  const writing = Object.entries(httpRoutes)
    .filter(([, route]) => route.table === 'write')
    .map(([name]) => name)
    .sort();
  expect(Object.keys(writeRoutes).sort()).toEqual(writing);
  for (const [name, classified] of Object.entries(writeRoutes)) {
    if ('unbound' in classified) expect({ name, reason: classified.unbound.length > 10 }).toEqual({ name, reason: true });
    else expect({ name, cases: classified.scoped.length > 0 }).toEqual({ name, cases: true });
  }
});

/** The scoped roles each case runs as: a manager and a clerk where their role may call the route, else a scoped admin. */
const rolesFor = (route: WriteRoute): Role[] => {
  const permission = httpRoutes[route].permission;
  const permitted = (['manager', 'clerk'] as const).filter((role) => permissionsOf[role].some((p) => p === permission));
  return permitted.length > 0 ? permitted : ['admin'];
};

const cases = Object.entries(writeRoutes).flatMap(([route, classified]) =>
  'scoped' in classified ? classified.scoped.flatMap((c) => rolesFor(route as WriteRoute).map((role) => [route as WriteRoute, role, c] as const)) : [],
);

describe.each(cases)('%s as a scoped %s', (route, role, scopeCase) => {
  test(`${scopeCase.name}: refused outside the scope with nothing written${scopeCase.in ? ', allowed inside it' : ''}`, async () => {
    const admin = await newTenant();
    await scopeCase.setup?.(admin);
    const user = await scoped(admin, role);
    const before = await stateOf(admin, scopeCase.reads);
    const res = await scopeCase.out(user, admin);
    if (scopeCase.refused) {
      scopeCase.refused(res);
    } else {
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
      if (scopeCase.names === 'scope') {
        expect(res.body.error.details.warehouse_ids).toEqual([...SCOPE]);
        for (const id of SCOPE) expect(res.body.error.message).toContain(`'${id}'`);
      } else {
        expect(res.body.error.details.warehouse_ids).toEqual([OUT]);
        expect(res.body.error.message).toContain(`'${OUT}'`);
      }
    }
    // Nothing written: levels, ledger and everything else the route could reach are as they were.
    expect(await stateOf(admin, scopeCase.reads)).toEqual(before);
    if (scopeCase.in) {
      const allowed = await scopeCase.in(user);
      const status: number = 'status' in httpRoutes[route] ? (httpRoutes[route] as { status: number }).status : 200;
      expect({ status: allowed.status, body: allowed.status === status ? 'ok' : allowed.body }).toEqual({ status, body: 'ok' });
    }
  });
});

describe('what a scoped user sees', () => {
  let admin: Client;
  let clerk: Client;
  let manager: Client;
  beforeAll(async () => {
    admin = await newTenant();
    // A sale in each warehouse, so each has two ledger rows, and an open alert at wh-in and at wh-out.
    for (const w of WAREHOUSES) ok(await admin.post('/api/inventory/update', { sku_id: SKU, warehouse_id: w.warehouse_id, transaction_type: 'sale', quantity: 1 }));
    await openAlert(admin.tenantId, 'wh-in');
    await openAlert(admin.tenantId, OUT);
    clerk = await scoped(admin, 'clerk');
    manager = await scoped(admin, 'manager');
  });

  test("a SKU's inventory lists and totals only the levels of the user's warehouses; an unscoped user's all of them", async () => {
    const mine = ok(await clerk.get(`/api/inventory/sku/${SKU}`));
    expect(mine.levels.map((l: { warehouse_id: string }) => l.warehouse_id).sort()).toEqual([...SCOPE]);
    expect(mine.totals).toEqual({ on_hand: 18, reserved: 0, available: 18, incoming: 0 });
    const all = ok(await (await t.client({ tenantId: admin.tenantId, role: 'clerk' })).get(`/api/inventory/sku/${SKU}`));
    expect(all.levels).toHaveLength(3);
    expect(all.totals.on_hand).toBe(27);
  });

  test("the ledger holds only the user's warehouses' rows; asking for another warehouse's is 403", async () => {
    const rows = await allMovements(clerk, SKU);
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((m) => m.warehouse_id))).toEqual(new Set(SCOPE));
    // Paged one row at a time, the filtered ledger still comes back whole and in order.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { movements: { movement_id: string }[]; next_cursor: string | null } = ok(
        await clerk.get(`/api/inventory/sku/${SKU}/movements?limit=1${cursor ? `&cursor=${cursor}` : ''}`),
      );
      paged.push(...page.movements.map((m) => m.movement_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual(rows.map((m) => m.movement_id));
    expect(ok(await clerk.get(`/api/inventory/sku/${SKU}/movements?warehouse_id=wh-in2`)).movements).toHaveLength(2);
    const other = await clerk.get(`/api/inventory/sku/${SKU}/movements?warehouse_id=${OUT}`);
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ code: 'FORBIDDEN', details: { warehouse_ids: [OUT] } });
  });

  test("the level list holds only the levels of the user's warehouses; asking for another warehouse's is 403", async () => {
    const rows: { sku_id: string; warehouse_id: string }[] = ok(await clerk.get('/api/inventory/levels')).levels;
    expect(rows.map((l) => `${l.sku_id}@${l.warehouse_id}`)).toEqual(SCOPE.map((w) => `${SKU}@${w}`));
    expect(ok(await admin.get('/api/inventory/levels')).levels).toHaveLength(3);
    const other = await clerk.get(`/api/inventory/levels?warehouse_id=${OUT}`);
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ code: 'FORBIDDEN', details: { warehouse_ids: [OUT] } });
  });

  test("the warehouse list holds only the user's warehouses", async () => {
    expect(ok(await clerk.get('/api/warehouses')).warehouses.map((w: { warehouse_id: string }) => w.warehouse_id).sort()).toEqual([...SCOPE]);
    expect(ok(await admin.get('/api/warehouses')).warehouses).toHaveLength(3);
  });

  test("alerts and replenishment suggestions are only the user's warehouses'; asking for another warehouse's is 403", async () => {
    expect(ok(await clerk.get('/api/alerts')).alerts.map((a: { warehouse_id: string }) => a.warehouse_id)).toEqual(['wh-in']);
    expect(ok(await admin.get('/api/alerts')).alerts).toHaveLength(2);
    expect((await clerk.get(`/api/alerts?warehouse_id=${OUT}`)).status).toBe(403);
    expect(ok(await manager.get('/api/replenishment/suggestions')).suggestions.map((s: { warehouse_id: string }) => s.warehouse_id)).toEqual(['wh-in']);
    expect((await manager.get(`/api/replenishment/suggestions?warehouse_id=${OUT}`)).status).toBe(403);
    expect((await manager.get(`/api/replenishment/reorder-points?warehouse_id=${OUT}`)).status).toBe(403);
    expect((await manager.get(`/api/reports/demand-forecast?sku_id=${SKU}&warehouse_id=${OUT}`)).status).toBe(403);
  });

  test("the stock overview covers only the user's warehouses; asking for another warehouse's is 403", async () => {
    const overview = ok(await manager.get('/api/reports/stock-overview'));
    expect(overview.warehouses.map((w: { warehouse_id: string }) => w.warehouse_id)).toEqual([...SCOPE]);
    expect(overview.warehouses.reduce((sum: number, w: { on_hand: number }) => sum + w.on_hand, 0)).toBe(18);
    const other = await manager.get(`/api/reports/stock-overview?warehouse_id=${OUT}`);
    expect(other.status).toBe(403);
    expect(other.body.error.details).toEqual({ warehouse_ids: [OUT] });
  });

  test('a lake report covers one of the user\'s warehouses: another is 403, none is 403 for several and their only one for one', async () => {
    const window = 'from=2026-01-01&to=2027-01-01';
    const other = await manager.get(`/api/reports/stock-movement?${window}&warehouse_id=${OUT}`);
    expect(other.status).toBe(403);
    expect(other.body.error.details).toEqual({ warehouse_ids: [OUT] });
    const unnamed = await manager.get(`/api/reports/sales-trends?${window}`);
    expect(unnamed.status).toBe(403);
    expect(unnamed.body.error.details).toEqual({ warehouse_ids: [...SCOPE] });
    expect(unnamed.body.error.message).toContain('warehouse_id');
    expect((await manager.get(`/api/reports/valuation?as_of=2027-01-01&warehouse_id=wh-in`)).status).toBe(200);
    // A user of one warehouse gets the report of it: the answer's query id names the query that ran.
    const single = await scoped(admin, 'manager', ['wh-in2']);
    const report = ok(await single.get(`/api/reports/stock-movement?${window}`));
    expect(JSON.parse(Buffer.from(report.query_id, 'base64url').toString('utf8')).q.warehouse_id).toBe('wh-in2');
    // A query id the unscoped admin was given covers every warehouse: a scoped user may not read it back.
    const everything = ok(await admin.get('/api/reports/valuation?as_of=2027-01-01'));
    const polled = await manager.get(`/api/reports/queries/${everything.query_id}`);
    expect(polled.status).toBe(403);
    expect(ok(await admin.get(`/api/reports/queries/${everything.query_id}`)).report).toBe('valuation');
  });
});

test('an allocation that would draw from a warehouse outside the scope reserves nothing anywhere, not even in the scope', async () => {
  const admin = await newTenant();
  const clerk = await scoped(admin, 'clerk');
  const res = await clerk.post('/api/orders/allocate', { order_id: 'o-big', lines: [{ sku_id: SKU, quantity: 25 }], ship_to: near('wh-in') });
  expect(res.status).toBe(403);
  expect(res.body.error.details).toEqual({ warehouse_ids: [OUT] });
  const levels = ok(await admin.get(`/api/inventory/sku/${SKU}`)).levels;
  expect(levels.map((l: { reserved: number }) => l.reserved)).toEqual([0, 0, 0]);
  expect((await admin.get('/api/orders/status/o-big')).status).toBe(404);
  // The same order within the scope's stock is allocated, from the scope only.
  const allowed = ok(await clerk.post('/api/orders/allocate', { order_id: 'o-big', lines: [{ sku_id: SKU, quantity: 20 }], ship_to: near('wh-in') }), 201);
  expect(allowed.allocations.map((a: { warehouse_id: string }) => a.warehouse_id).sort()).toEqual([...SCOPE]);
});

test('independent bulk updates apply those in the scope and reject each outside it, with its warehouse named', async () => {
  const admin = await newTenant();
  const clerk = await scoped(admin, 'clerk');
  const res = ok(
    await clerk.post('/api/inventory/bulk-update', {
      atomic: false,
      updates: [
        { sku_id: SKU, warehouse_id: 'wh-in', transaction_type: 'sale', quantity: 1 },
        { sku_id: SKU, warehouse_id: OUT, transaction_type: 'sale', quantity: 1 },
        { sku_id: SKU, warehouse_id: 'wh-in2', transaction_type: 'sale', quantity: 2 },
      ],
    }),
  );
  expect(res).toMatchObject({ applied: 2, rejected: 1 });
  expect(res.results.map((r: { status: string }) => r.status)).toEqual(['applied', 'rejected', 'applied']);
  expect(res.results[1].error).toMatchObject({ code: 'FORBIDDEN', details: { warehouse_ids: [OUT] } });
  const onHand = Object.fromEntries(ok(await admin.get(`/api/inventory/sku/${SKU}`)).levels.map((l: { warehouse_id: string; on_hand: number }) => [l.warehouse_id, l.on_hand]));
  expect(onHand).toEqual({ 'wh-in': 9, 'wh-in2': 8, [OUT]: 10 });
});

test('a scoped clerk ships their part of a split order by naming their warehouse, and not the other part', async () => {
  const admin = await newTenant();
  const clerk = await scoped(admin, 'clerk', ['wh-in']);
  // 15 units from wh-in (10) and the nearest other with stock.
  const placed = ok(await admin.post('/api/orders/allocate', { order_id: 'o-split', lines: [{ sku_id: SKU, quantity: 15 }], ship_to: near('wh-in'), warehouse_ids: ['wh-in', OUT] }), 201);
  expect(placed.allocations.map((a: { warehouse_id: string }) => a.warehouse_id).sort()).toEqual(['wh-in', OUT]);
  const theirs = await clerk.post('/api/orders/o-split/ship', { lines: [{ sku_id: SKU, warehouse_id: OUT, quantity: 1 }] });
  expect(theirs.status).toBe(403);
  const mine = ok(await clerk.post('/api/orders/o-split/ship', { lines: [{ sku_id: SKU, warehouse_id: 'wh-in', quantity: 10 }] }));
  expect(mine.status).toBe('partially_shipped');
  // Cancelling would release the other warehouse's reservation too: refused.
  expect((await clerk.post('/api/orders/o-split/cancel')).status).toBe(403);
});
