/**
 * Every key, prefix and index key of the table, and nothing outside this file
 * builds one. Every tenant's key starts with the tenant, so no access pattern
 * can cross tenants: a query or get is always built from the caller's tenant
 * claim. The system partitions (hold shards, the connection index) are never reachable from the API; the one
 * exception, shop registrations, is on SYSTEM_PARTITIONS_OF_REQUESTS below. docs/data-model.md lists the access
 * patterns these serve. The tenant guard (tenant-guard.ts) and, in AWS, the tenant role's `dynamodb:LeadingKeys`
 * condition (lib/tenant-access.ts) hold every request to these shapes.
 */
export interface Key {
  pk: string;
  sk: string;
}

/** A gsi1 key pair, for items that are indexed. */
export interface IndexKey {
  gsi1pk: string;
  gsi1sk: string;
}

const TENANT_PREFIX = 'T#';
const t = (tenantId: string): string => `${TENANT_PREFIX}${tenantId}`;

/** The tenant a key belongs to, read back from its partition key (stream records without `tenant_id`). */
/** Does this partition key belong to this tenant? What the tenant guard asks of every key a request sends. */
export const isTenantPartition = (tenantId: string, pk: string): boolean => pk.startsWith(`${t(tenantId)}#`);

/**
 * Every partition of one tenant as an IAM `dynamodb:LeadingKeys` pattern, the tenant taken from the
 * session tag the tenant role is assumed with (lib/tenant-access.ts): the same template as every key.
 */
export const TENANT_LEADING_KEYS = `${t('${aws:PrincipalTag/tenant_id}')}#*`;

export const tenantOfPartition = (pk: string): string | undefined => /^T#([^#]+)#/.exec(pk)?.[1];

export const HOLD_SHARDS = 4;
const shardOf = (text: string): number => {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % HOLD_SHARDS;
};
const holdShard = (shard: number): string => `HOLDS#${shard}`;

const eventMarkerPartition = (tenantId: string, eventId: string): string => `${t(tenantId)}#EVENT#${eventId}`;

/**
 * The stream processor's own items (event markers) as an IAM `dynamodb:LeadingKeys`
 * pattern: the CDK grants it these partitions only, built by the same template.
 */
export const EVENT_MARKER_LEADING_KEYS = eventMarkerPartition('*', '*');

type Scope = { sku_id: string } | { warehouse_id: string } | { all: true } | { operations: true };

export const keys = {
  // ---------- catalogue ----------
  products: (tenantId: string): string => `${t(tenantId)}#PRODUCT`,
  product: (tenantId: string, productId: string): Key => ({ pk: keys.products(tenantId), sk: productId }),
  skus: (tenantId: string): string => `${t(tenantId)}#SKU`,
  sku: (tenantId: string, skuId: string): Key => ({ pk: keys.skus(tenantId), sk: skuId }),
  skusOfProductIndex: (tenantId: string, productId: string): string => `${t(tenantId)}#PRODUCT#${productId}#SKUS`,
  skuIndex: (tenantId: string, productId: string, skuId: string): IndexKey => ({
    gsi1pk: keys.skusOfProductIndex(tenantId, productId),
    gsi1sk: skuId,
  }),
  warehouses: (tenantId: string): string => `${t(tenantId)}#WAREHOUSE`,
  warehouse: (tenantId: string, warehouseId: string): Key => ({ pk: keys.warehouses(tenantId), sk: warehouseId }),

  // ---------- stock ----------
  /** All levels of one SKU share a partition, one item per warehouse. */
  stockLevelsOfSku: (tenantId: string, skuId: string): string => `${t(tenantId)}#STOCK#${skuId}`,
  stockLevel: (tenantId: string, skuId: string, warehouseId: string): Key => ({
    pk: keys.stockLevelsOfSku(tenantId, skuId),
    sk: warehouseId,
  }),
  /**
   * Sub-level `index` (1..K-1) of a level split into K (functions/inventory/sub-levels.ts); sub-level
   * 0 is the level item itself. Each on a partition of its own, so each takes its own share of
   * DynamoDB's per-item and per-partition write ceilings. Ids hold no '#', so these never meet a level's key.
   */
  stockSubLevel: (tenantId: string, skuId: string, warehouseId: string, index: number): Key => ({
    pk: `${keys.stockLevelsOfSku(tenantId, skuId)}#SUB#${index}`,
    sk: warehouseId,
  }),
  /** Ledger rows live on their own partition per SKU, never on the level's. Sort key: the movement ULID. */
  movementsOfSku: (tenantId: string, skuId: string): string => `${t(tenantId)}#LEDGER#${skuId}`,
  movement: (tenantId: string, skuId: string, movementId: string): Key => ({
    pk: keys.movementsOfSku(tenantId, skuId),
    sk: movementId,
  }),
  movementsOfSkuInWarehouseIndex: (tenantId: string, skuId: string, warehouseId: string): string =>
    `${t(tenantId)}#LEDGER#${skuId}#WH#${warehouseId}`,
  movementIndex: (tenantId: string, skuId: string, warehouseId: string, movementId: string): IndexKey => ({
    gsi1pk: keys.movementsOfSkuInWarehouseIndex(tenantId, skuId, warehouseId),
    gsi1sk: movementId,
  }),
  /** A SKU's default thresholds, inherited by each warehouse without its own (functions/alerts/thresholds.ts). */
  thresholdDefault: (tenantId: string, skuId: string): Key => ({ pk: `${t(tenantId)}#THRESHOLD#${skuId}`, sk: 'DEFAULT' }),

  // ---------- audit trail (its own table: functions/platform/table.ts AUDIT_TABLE) ----------
  /** A tenant's audit records of one UTC day (YYYY-MM-DD): a partition per day, so no tenant's trail is one hot partition forever. */
  auditDay: (tenantId: string, day: string): string => `${t(tenantId)}#AUDIT#${day}`,
  /** One request's record: unique per request (its id), in time order within the day (newest first when read backwards). */
  auditRecord: (tenantId: string, at: string, requestId: string): Key => ({ pk: keys.auditDay(tenantId, at.slice(0, 10)), sk: `${at}#${requestId}` }),

  // ---------- orders ----------
  orders: (tenantId: string): string => `${t(tenantId)}#ORDER`,
  order: (tenantId: string, orderId: string): Key => ({ pk: keys.orders(tenantId), sk: orderId }),
  /** The gsi1 partitions of checkout holds, one per shard: the sweeper reads every one. */
  holdShards: (): string[] => Array.from({ length: HOLD_SHARDS }, (_, shard) => holdShard(shard)),
  /**
   * Checkout holds by expiry, for the sweeper: a system index across tenants (never
   * reachable from the API), spread over a few partitions so a flash sale's holds
   * do not all land on one.
   */
  holdIndex: (tenantId: string, orderId: string, expiresAt: string): IndexKey => ({
    gsi1pk: holdShard(shardOf(`${tenantId}#${orderId}`)),
    gsi1sk: `${expiresAt}#${tenantId}#${orderId}`,
  }),
  /**
   * Orders past their hold by status on gsi1, oldest first (sort key `created_at#order_id`), so
   * "orders waiting to ship" is an exact query in the order they came in. Moves with the status.
   * A hold's gsi1 is the sweeper's (holdIndex), so held orders are not in these partitions.
   */
  ordersByStatus: (tenantId: string, status: string): string => `${t(tenantId)}#ORDER#STATUS#${status}`,
  ordersByStatusIndex: (tenantId: string, status: string, createdAt: string, orderId: string): IndexKey => ({
    gsi1pk: keys.ordersByStatus(tenantId, status),
    gsi1sk: `${createdAt}#${orderId}`,
  }),

  // ---------- purchasing ----------
  suppliers: (tenantId: string): string => `${t(tenantId)}#SUPPLIER`,
  supplier: (tenantId: string, supplierId: string): Key => ({ pk: keys.suppliers(tenantId), sk: supplierId }),
  purchaseOrders: (tenantId: string): string => `${t(tenantId)}#PO`,
  purchaseOrder: (tenantId: string, purchaseOrderId: string): Key => ({ pk: keys.purchaseOrders(tenantId), sk: purchaseOrderId }),
  /**
   * Purchase orders by status on gsi1 (sort key `supplier_id#purchase_order_id`), so
   * "open orders" and "open orders of one supplier" are exact queries. Moves with the status.
   */
  purchaseOrdersByStatus: (tenantId: string, status: string): string => `${t(tenantId)}#PO#STATUS#${status}`,
  purchaseOrdersByStatusIndex: (tenantId: string, status: string, supplierId: string, purchaseOrderId: string): IndexKey => ({
    gsi1pk: keys.purchaseOrdersByStatus(tenantId, status),
    gsi1sk: `${supplierId}#${purchaseOrderId}`,
  }),
  /** The gsi1 sort-key range of one supplier's orders within a status partition (ids never contain '#', and sort below '~'). */
  purchaseOrdersOfSupplierRange: (supplierId: string): [string, string] => [`${supplierId}#`, `${supplierId}#~`],

  // ---------- alerts ----------
  /**
   * The alert consumer's state per SKU x warehouse: the last level version applied and
   * the id of the alert that is not resolved yet, so there is at most one at a time.
   */
  alertState: (tenantId: string, skuId: string, warehouseId: string): Key => ({
    pk: `${t(tenantId)}#ALERT#${skuId}#${warehouseId}`,
    sk: 'STATE',
  }),
  alert: (tenantId: string, alertId: string): Key => ({ pk: `${t(tenantId)}#ALERT`, sk: alertId }),
  /**
   * Alerts by urgency on gsi1: one partition for the active ones (open and acknowledged),
   * one for the resolved; the sort key is severity rank, then days of cover (null last).
   */
  alertsIndex: (tenantId: string, active: boolean): string => `${t(tenantId)}#ALERTS#${active ? 'ACTIVE' : 'RESOLVED'}`,
  /** One alert's gsi1 key: its partition by status, its urgency (functions/alerts/rules.ts urgencyKey) as the sort key. */
  alertIndex: (tenantId: string, active: boolean, urgency: string): IndexKey => ({
    gsi1pk: keys.alertsIndex(tenantId, active),
    gsi1sk: urgency,
  }),

  // ---------- notifications ----------
  subscriptions: (tenantId: string): string => `${t(tenantId)}#SUBSCRIPTION`,
  subscription: (tenantId: string, subscriptionId: string): Key => ({ pk: keys.subscriptions(tenantId), sk: subscriptionId }),
  /** gsi1 partition of the subscriptions with one scope: what the consumer queries per alert (three partitions). */
  subscribersIndex: (tenantId: string, scope: Scope): string =>
    'operations' in scope
      ? `${t(tenantId)}#SUBSCRIBERS#OPERATIONS`
      : 'all' in scope
      ? `${t(tenantId)}#SUBSCRIBERS#ALL`
      : 'sku_id' in scope
        ? `${t(tenantId)}#SUBSCRIBERS#SKU#${scope.sku_id}`
        : `${t(tenantId)}#SUBSCRIBERS#WH#${scope.warehouse_id}`,
  /** The delivery record: one per subscription x alert x throttle window (sk: the window's start). */
  delivery: (tenantId: string, subscriptionId: string, alertId: string, windowStart: string): Key => ({
    pk: `${t(tenantId)}#DELIVERY#${subscriptionId}#${alertId}`,
    sk: windowStart,
  }),
  outbox: (tenantId: string): string => `${t(tenantId)}#OUTBOX`,
  outboxEntry: (tenantId: string, notificationId: string): Key => ({ pk: keys.outbox(tenantId), sk: notificationId }),

  // ---------- forecasting ----------
  forecastRuns: (tenantId: string): string => `${t(tenantId)}#FORECASTRUN`,
  /** One forecasting run of a tenant (functions/forecasting/run.ts): its state and summary. */
  forecastRun: (tenantId: string, runId: string): Key => ({ pk: keys.forecastRuns(tenantId), sk: runId }),
  /** One chunk of a run's series: written by the planner, each one's insert fans out to a worker through the stream. */
  forecastChunk: (tenantId: string, runId: string, chunk: number): Key => ({
    pk: `${t(tenantId)}#FORECASTRUN#${runId}`,
    sk: `CHUNK#${String(chunk).padStart(6, '0')}`,
  }),
  /** The latest forecast of every SKU of one warehouse share a partition: reorder points read a warehouse at once. */
  forecastsOfWarehouse: (tenantId: string, warehouseId: string): string => `${t(tenantId)}#FORECAST#${warehouseId}`,
  forecast: (tenantId: string, skuId: string, warehouseId: string): Key => ({ pk: keys.forecastsOfWarehouse(tenantId, warehouseId), sk: skuId }),

  // ---------- sales channels ----------
  channels: (tenantId: string): string => `${t(tenantId)}#CHANNEL`,
  /** One sales channel connection (functions/channels/): its settings and which credentials are stored, never their values. */
  channel: (tenantId: string, channelId: string): Key => ({ pk: keys.channels(tenantId), sk: channelId }),
  /** The listing map of one connection: one item per SKU (functions/channels/listings.ts). */
  listings: (tenantId: string, channelId: string): string => `${t(tenantId)}#CHANNEL#${channelId}#LISTING`,
  listing: (tenantId: string, channelId: string, skuId: string): Key => ({ pk: keys.listings(tenantId, channelId), sk: skuId }),
  /**
   * Every connection of a platform, across tenants, for the schedules (the Amazon order poll, the
   * reconciliation): a system index (gsi1) never reachable from the API, like the hold shards.
   */
  connectionsOfPlatform: (platform: string): string => `CHANNELS#${platform}`,
  connectionIndex: (platform: string, tenantId: string, channelId: string): IndexKey => ({
    gsi1pk: keys.connectionsOfPlatform(platform),
    gsi1sk: `${tenantId}#${channelId}`,
  }),
  /**
   * Which tenant and connection a Shopify shop belongs to: a webhook carries only the shop's
   * domain (X-Shopify-Shop-Domain) and no token, so this system item is how it finds the
   * connection (and its secret). One shop is connected to one tenant at most.
   */
  shopRegistration: (shopDomain: string): Key => ({ pk: `SHOP#${shopDomain}`, sk: 'CONNECTION' }),
  /** Per connection: what the push worker, the inbound paths and reconciliation record (functions/channels/). */
  channelRecords: (tenantId: string, channelId: string, kind: string): string => `${t(tenantId)}#CHANNEL#${channelId}#${kind}`,

  // ---------- platform ----------
  // ---------- users (issue 12) ----------
  /** The tenant's user directory: one item per user (sort key: the user id, the token's `sub`; in AWS the Cognito sub). */
  users: (tenantId: string): string => `${t(tenantId)}#USER`,
  user: (tenantId: string, userId: string): Key => ({ pk: keys.users(tenantId), sk: userId }),
  /** An e-mail address's claim within the tenant (sort key: the address lower-cased), written with the user: one user per address. */
  userEmail: (tenantId: string, email: string): Key => ({ pk: `${t(tenantId)}#USER-EMAIL`, sk: email.toLowerCase() }),
  /** The tenant's count of enabled admins, changed in the same transaction as any user change that moves it (the last admin stays). */
  enabledAdmins: (tenantId: string): Key => ({ pk: `${t(tenantId)}#USER-ADMINS`, sk: 'COUNT' }),

  idempotency: (tenantId: string, key: string): Key => ({ pk: `${t(tenantId)}#IDEMPOTENCY#${key}`, sk: 'RESPONSE' }),
  /** The stream processor's "published" marker of one domain event (see EVENT_MARKER_LEADING_KEYS). */
  eventMarker: (tenantId: string, eventId: string): Key => ({ pk: eventMarkerPartition(tenantId, eventId), sk: 'PUBLISHED' }),
};

/**
 * The system partitions a tenant's request may legitimately reach, and nothing else: the tenant guard
 * (tenant-guard.ts) lets exactly these through by key, on item reads and writes only (never a query),
 * and the tenant role in AWS allows their `leadingKeys` pattern for `actions` only.
 * - A shop registration: creating, changing or deleting a Shopify connection claims or gives up its
 *   shop (functions/channels/store.ts shopClaim/shopRelease) in the connection's own transaction. It
 *   names a shop, not a tenant, so it cannot carry the tenant prefix; its condition (tenant_id and
 *   channel_id equal the caller's) is what keeps one tenant off another's claim.
 */
export const SYSTEM_PARTITIONS_OF_REQUESTS = [
  {
    name: 'shop registration',
    matches: (key: Key): boolean => key.pk.startsWith(keys.shopRegistration('').pk) && key.sk === keys.shopRegistration('').sk,
    leadingKeys: keys.shopRegistration('*').pk,
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  },
] as const;

/**
 * What the Shopify webhook reads with its own role before it knows a tenant, as IAM `dynamodb:LeadingKeys`
 * patterns: the shop's registration, then the connection it names (functions/channels/webhooks.ts verify).
 * Everything after the signature is verified it does as that tenant (the tenant role, like a token route).
 */
export const WEBHOOK_VERIFY_LEADING_KEYS = [keys.shopRegistration('*').pk, keys.channels('*')] as const;

/**
 * Stock levels and their sub-levels as an IAM `dynamodb:LeadingKeys` pattern: the stream processor
 * reads a split level's sum (functions/events/processor.ts) and may read nothing else of a tenant's.
 */
export const STOCK_LEVEL_LEADING_KEYS = keys.stockLevelsOfSku('*', '*');
