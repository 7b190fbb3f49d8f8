/**
 * Roles and what they may do. Tokens carry one role; routes declare the one
 * permission they need (functions/wiring.ts). A later issue adds more roles
 * and an audit trail; adding a role is a row here.
 */
export const PERMISSIONS = [
  'catalog:read',
  'catalog:write',
  'inventory:read',
  'inventory:write',
  'orders:read',
  'orders:write',
  'purchasing:read',
  'purchasing:write',
  /** Supplier contact details are personal data: only admins and purchasers see them. */
  'suppliers:contact',
  /** Low-stock alerts: everyone sees them; everyone who works the stock acknowledges them. */
  'alerts:read',
  'alerts:write',
  /** Subscription targets are e-mail addresses and phone numbers: not for every reader. */
  'subscriptions:read',
  /** Everyone who subscribes deletes their own subscriptions; deleting another user's is for managers and admins. */
  'subscriptions:manage',
  'api:read',
  /** Reports over the lake (issue 9): analysts, managers and admins. */
  'reports:read',
  /** Demand forecasting's inputs (issue 10): importing a business's past demand into the lake. Admins and managers. */
  'forecast:write',
  /** Starting a forecasting run at once (it reads the tenant's whole history): admins only; the nightly run needs no one. */
  'forecast-runs:write',
  /** Sales channel connections (issue 11): admins and managers see them (never their credentials); only admins connect, change or remove one. */
  'channels:read',
  'channels:write',
  /**
   * Reconciling a channel now (POST /api/integration/sync): admins and managers. It changes stock only under a
   * connection's channel_wins rule, through ledgered adjustments, which managers may record anyway (inventory:write).
   */
  'channel-sync:write',
  /** The tenant's users (issue 12): admins and managers see them (names and e-mail addresses are personal data); only admins invite, change or remove one. */
  'users:read',
  'users:write',
  /** The audit trail (issue 12): admins only; reading it is itself audited. */
  'audit:read',
  /** What stock cost and sells for (unit costs, prices, valuations): not every reader of stock needs the money. */
  'costs:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * What a route a platform calls with a signed request (HttpRoute `auth: 'webhook'`, functions/platform/routes.ts)
 * names where every other route names a permission: no role holds it and no token reaches the route. The request's
 * signature names the tenant (a Shopify webhook: its shop's connection), and the route acts as the system for it.
 */
export const SIGNED_BY_PLATFORM = 'webhook';
/** What a route declares it needs: a permission of the caller's role, or a platform's signature. */
export type RoutePermission = Permission | typeof SIGNED_BY_PLATFORM;

export const ROLES = ['admin', 'manager', 'purchaser', 'clerk', 'viewer', 'analyst', 'integration'] as const;
export type Role = (typeof ROLES)[number];

const READ: Permission[] = ['catalog:read', 'inventory:read', 'orders:read', 'purchasing:read', 'alerts:read', 'api:read'];

export const permissionsOf: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  manager: [...READ, 'reports:read', 'users:read', 'costs:read', 'forecast:write', 'catalog:write', 'inventory:write', 'orders:write', 'purchasing:write', 'alerts:write', 'subscriptions:read', 'subscriptions:manage', 'channels:read', 'channel-sync:write'],
  /** Buys stock: raises and receives purchase orders, and sees supplier contacts. */
  purchaser: [...READ, 'costs:read', 'purchasing:write', 'suppliers:contact', 'alerts:write', 'subscriptions:read'],
  /** Warehouse staff: record stock changes and ship orders, but not change the catalogue. */
  clerk: [...READ, 'inventory:write', 'orders:write', 'alerts:write', 'subscriptions:read'],
  viewer: READ,
  /** Reports only: the catalogue and stock they are about, the reports and what they cost; nothing operational, writes nothing. */
  analyst: ['catalog:read', 'inventory:read', 'reports:read', 'costs:read', 'api:read'],
  /**
   * A sales channel's service account (a connector or middleware acting for Shopify or Amazon): reads the catalogue
   * and stock, takes and changes orders, reads its connections and asks for a reconciliation. No people, no money.
   */
  integration: ['catalog:read', 'inventory:read', 'orders:read', 'orders:write', 'channels:read', 'channel-sync:write', 'api:read'],
};

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
