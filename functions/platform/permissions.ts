/**
 * Roles and what they may do: the one permission matrix (issue 12 part 2). Tokens carry one role; routes declare
 * the one permission they need (functions/wiring.ts); GET /api/roles answers this matrix as it stands here, with
 * the descriptions below, so what a client reads and what the HTTP layer enforces cannot differ. Adding a
 * permission is an entry of `permissionDescriptions`; adding a role is an entry of `roleDescriptions` and one of
 * `permissionsOf` (the types make a role without permissions, or a permission without a description, not compile).
 */

/** Every permission and what it lets a role do, as GET /api/roles shows it. The keys are the permissions. */
export const permissionDescriptions = {
  'catalog:read': 'Read products, SKUs and warehouses',
  'catalog:write': 'Create and change products, SKUs and warehouses',
  'inventory:read': 'Read stock levels and the stock ledger',
  'inventory:write': 'Record stock changes (sales, restocks, adjustments, counts, transfers) and set thresholds and reorder points',
  'orders:read': 'Read orders and plan allocations (a dry run that reserves nothing)',
  'orders:write': 'Allocate, confirm, cancel and ship orders',
  'purchasing:read': 'Read suppliers, purchase orders and replenishment suggestions',
  'purchasing:write': 'Create suppliers, raise, submit, receive and cancel purchase orders',
  /** Personal data: only admins and purchasers see them. */
  'suppliers:contact': "See suppliers' contact details (names, e-mail addresses, phone numbers: personal data); without it they are left out of every answer",
  /** Everyone sees alerts; everyone who works the stock acknowledges them. */
  'alerts:read': 'Read low-stock alerts and the local notification outbox',
  'alerts:write': 'Acknowledge alerts, subscribe to them and delete subscriptions',
  /** Subscription targets are e-mail addresses and phone numbers: not for every reader. */
  'subscriptions:read': "List alert subscriptions with their targets (e-mail addresses, phone numbers, webhook URLs)",
  /** Everyone who subscribes deletes their own subscriptions; deleting another user's is for managers and admins. */
  'subscriptions:manage': "Delete another user's alert subscriptions",
  'api:read': 'Read the API description (OpenAPI) and this role matrix',
  /** Reports over the lake (issue 9): analysts, managers and admins. */
  'reports:read': 'Read reports (stock movement, sales trends, valuation, stock overview), demand forecasts and forecasting runs',
  /** Demand forecasting's inputs (issue 10): admins and managers. */
  'forecast:write': "Import past demand into the lake as forecasting history",
  /** Starting a forecasting run at once reads the tenant's whole history: admins only; the nightly run needs no one. */
  'forecast-runs:write': "Start a forecasting run of the tenant's every level now",
  /** Sales channel connections (issue 11): admins and managers see them (never their credentials); only admins connect, change or remove one. */
  'channels:read': 'Read sales channel connections (never their credentials), their listings, reconciliations and sync status',
  'channels:write': 'Connect, change and remove sales channels and map their listings',
  /**
   * Reconciling a channel now (POST /api/integration/sync): admins and managers. It changes stock only under a
   * connection's channel_wins rule, through ledgered adjustments, which managers may record anyway (inventory:write).
   */
  'channel-sync:write': 'Reconcile sales channels now',
  /** The tenant's users (issue 12): names and e-mail addresses are personal data. */
  'users:read': "Read the tenant's users (names and e-mail addresses: personal data)",
  'users:write': 'Invite, change, disable and remove users of the tenant',
  /** The audit trail (issue 12): admins only; reading it is itself audited. */
  'audit:read': 'Search and export the audit trail',
  /** Money: not every reader of stock needs it. */
  'costs:read': 'See money (unit costs, prices, valuations, revenue); without it those fields are left out of every answer and CSV export',
} as const satisfies Record<string, string>;

export type Permission = keyof typeof permissionDescriptions;

/** The keys of a declared literal record, typed as its keys. */
const keysOf = <K extends string>(record: Readonly<Record<K, unknown>>): K[] =>
  // The one cast: Object.keys types every key as string (an object may carry more keys than its type names); these records are declared literals, so their keys are exactly K.
  Object.keys(record) as K[];

/** Every permission, in the order described above. */
export const PERMISSIONS: readonly Permission[] = keysOf(permissionDescriptions);

/**
 * What a route a platform calls with a signed request (HttpRoute `auth: 'webhook'`, functions/platform/routes.ts)
 * names where every other route names a permission: no role holds it and no token reaches the route. The request's
 * signature names the tenant (a Shopify webhook: its shop's connection), and the route acts as the system for it.
 */
export const SIGNED_BY_PLATFORM = 'webhook';
/** What a route declares it needs: a permission of the caller's role, or a platform's signature. */
export type RoutePermission = Permission | typeof SIGNED_BY_PLATFORM;

/** Every role and who it is for, as GET /api/roles shows it. The keys are the roles. */
export const roleDescriptions = {
  admin: 'Runs the tenant: every permission, users and the audit trail included',
  manager: 'Runs the stock and the team: everything operational, reports and the users list; not users changes, the audit trail, channel changes, forecasting runs or supplier contacts',
  purchaser: 'Buys stock: raises and receives purchase orders, sees supplier contacts and costs',
  clerk: 'Warehouse staff: records stock changes, ships orders and acknowledges alerts; never changes the catalogue and sees no money',
  viewer: 'Reads stock, orders, purchasing and alerts; writes nothing and sees no money',
  analyst: 'Reports only: the catalogue and stock they are about, the reports and the money in them; nothing operational, writes nothing',
  integration: "A sales channel's service account (a connector acting for Shopify or Amazon): reads the catalogue and stock, takes and changes orders, reads its connections and asks for a reconciliation; no people, no money",
} as const satisfies Record<string, string>;

export type Role = keyof typeof roleDescriptions;

/** Every role, in the order described above. */
export const ROLES: readonly Role[] = keysOf(roleDescriptions);

const READ: Permission[] = ['catalog:read', 'inventory:read', 'orders:read', 'purchasing:read', 'alerts:read', 'api:read'];

export const permissionsOf: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  manager: [...READ, 'reports:read', 'users:read', 'costs:read', 'forecast:write', 'catalog:write', 'inventory:write', 'orders:write', 'purchasing:write', 'alerts:write', 'subscriptions:read', 'subscriptions:manage', 'channels:read', 'channel-sync:write'],
  purchaser: [...READ, 'costs:read', 'purchasing:write', 'suppliers:contact', 'alerts:write', 'subscriptions:read'],
  clerk: [...READ, 'inventory:write', 'orders:write', 'alerts:write', 'subscriptions:read'],
  viewer: READ,
  analyst: ['catalog:read', 'inventory:read', 'reports:read', 'costs:read', 'api:read'],
  integration: ['catalog:read', 'inventory:read', 'orders:read', 'orders:write', 'channels:read', 'channel-sync:write', 'api:read'],
};

/** May a role do what `permission` guards? */
export const roleMay = (role: Role, permission: Permission): boolean => permissionsOf[role].includes(permission);

export const isRole = (value: unknown): value is Role => typeof value === 'string' && ROLES.some((role) => role === value);

/** Claim names, the same in Cognito ID tokens (custom attributes) and the local issuer's tokens. */
export const CLAIMS = {
  tenant: 'custom:tenant_id',
  role: 'custom:role',
  subject: 'sub',
  email: 'email',
  /** The warehouses a scoped user works in, comma-separated; absent: every warehouse. The user directory's record wins over it (issue 12). */
  warehouses: 'custom:warehouse_ids',
} as const;
