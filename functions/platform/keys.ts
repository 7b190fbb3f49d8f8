/**
 * Every key starts with the tenant, so no access pattern can cross tenants:
 * a query or get is always built from the caller's tenant claim.
 * docs/data-model.md lists the access patterns these serve.
 */
export interface Key {
  pk: string;
  sk: string;
}

const t = (tenantId: string): string => `T#${tenantId}`;

export const HOLD_SHARDS = 4;
const shardOf = (text: string): number => {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % HOLD_SHARDS;
};

export const keys = {
  product: (tenantId: string, productId: string): Key => ({ pk: `${t(tenantId)}#PRODUCT`, sk: productId }),
  sku: (tenantId: string, skuId: string): Key => ({ pk: `${t(tenantId)}#SKU`, sk: skuId }),
  skusOfProductIndex: (tenantId: string, productId: string): string => `${t(tenantId)}#PRODUCT#${productId}#SKUS`,
  warehouse: (tenantId: string, warehouseId: string): Key => ({ pk: `${t(tenantId)}#WAREHOUSE`, sk: warehouseId }),
  /** All levels of one SKU share a partition, one item per warehouse. */
  stockLevel: (tenantId: string, skuId: string, warehouseId: string): Key => ({
    pk: `${t(tenantId)}#STOCK#${skuId}`,
    sk: warehouseId,
  }),
  stockLevelsOfSku: (tenantId: string, skuId: string): string => `${t(tenantId)}#STOCK#${skuId}`,
  /** Ledger rows live on their own partition per SKU, never on the level's. Sort key: the movement ULID. */
  movement: (tenantId: string, skuId: string, movementId: string): Key => ({
    pk: `${t(tenantId)}#LEDGER#${skuId}`,
    sk: movementId,
  }),
  movementsOfSku: (tenantId: string, skuId: string): string => `${t(tenantId)}#LEDGER#${skuId}`,
  movementsOfSkuInWarehouseIndex: (tenantId: string, skuId: string, warehouseId: string): string =>
    `${t(tenantId)}#LEDGER#${skuId}#WH#${warehouseId}`,
  order: (tenantId: string, orderId: string): Key => ({ pk: `${t(tenantId)}#ORDER`, sk: orderId }),
  /**
   * Checkout holds by expiry, for the sweeper: a system index across tenants (never
   * reachable from the API), spread over a few partitions so a flash sale's holds
   * do not all land on one.
   */
  holdIndex: (tenantId: string, orderId: string, expiresAt: string): { gsi1pk: string; gsi1sk: string } => ({
    gsi1pk: `HOLDS#${shardOf(`${tenantId}#${orderId}`)}`,
    gsi1sk: `${expiresAt}#${tenantId}#${orderId}`,
  }),
  idempotency: (tenantId: string, key: string): Key => ({ pk: `${t(tenantId)}#IDEMPOTENCY#${key}`, sk: 'RESPONSE' }),
  supplier: (tenantId: string, supplierId: string): Key => ({ pk: `${t(tenantId)}#SUPPLIER`, sk: supplierId }),
  purchaseOrder: (tenantId: string, purchaseOrderId: string): Key => ({ pk: `${t(tenantId)}#PO`, sk: purchaseOrderId }),
  /**
   * Purchase orders by status on gsi1 (sort key `supplier_id#purchase_order_id`), so
   * "open orders" and "open orders of one supplier" are exact queries. Moves with the status.
   */
  purchaseOrdersByStatusIndex: (tenantId: string, status: string, supplierId: string, purchaseOrderId: string): { gsi1pk: string; gsi1sk: string } => ({
    gsi1pk: `${t(tenantId)}#PO#STATUS#${status}`,
    gsi1sk: `${supplierId}#${purchaseOrderId}`,
  }),
  /** A SKU's default thresholds, inherited by each warehouse without its own (functions/alerts/thresholds.ts). */
  thresholdDefault: (tenantId: string, skuId: string): Key => ({ pk: `${t(tenantId)}#THRESHOLD#${skuId}`, sk: 'DEFAULT' }),
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
};
