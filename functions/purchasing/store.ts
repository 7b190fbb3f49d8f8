import type { Db } from '../platform/db';
import { alreadyExists } from '../platform/errors';
import { keys } from '../platform/keys';
import { decodeWith, getItem, queryPage, type Decoder, type Page } from '../platform/storage';
import { putItem, when, type Write } from '../platform/writes';
import type { PurchaseOrder, PurchaseOrderStatus, Supplier } from './model';
import { purchaseOrderResponse, supplierResponse } from './schemas';

/**
 * Purchasing's own storage: how suppliers and purchase orders are decoded,
 * written and listed. Private to the context; other contexts go through
 * functions/purchasing/purchasing.ts.
 */

// Stored items are decoded with the response schemas (fields they do not name pass through as
// written); the annotations check that their outputs are the model's types.
const decodeSupplier: Decoder<Supplier> = decodeWith('supplier', supplierResponse.loose());
const decodePurchaseOrder: Decoder<PurchaseOrder> = decodeWith('purchase order', purchaseOrderResponse.loose());

const SUPPLIER = 'supplier';
const PURCHASE_ORDER = 'purchase_order';

// ---------- suppliers ----------

export const getSupplier = (db: Db, tenantId: string, supplierId: string): Promise<Supplier | undefined> =>
  getItem(db, keys.supplier(tenantId, supplierId), decodeSupplier);

/** A new supplier; its id already taken is a 409. */
export const supplierCreate = (db: Db, tenantId: string, supplier: Supplier): Write =>
  putItem(db, {
    name: SUPPLIER,
    key: keys.supplier(tenantId, supplier.supplier_id),
    entity: SUPPLIER,
    tenantId,
    value: supplier,
    when: when.absent(),
    onConditionFailed: () => alreadyExists('supplier', supplier.supplier_id),
  });

export const suppliersPage = (db: Db, tenantId: string, page: { cursor?: string; limit?: number }): Promise<Page<Supplier>> =>
  queryPage(db, { partition: keys.suppliers(tenantId), cursor: page.cursor, limit: page.limit }, decodeSupplier);

// ---------- purchase orders ----------

export const getPurchaseOrder = (db: Db, tenantId: string, id: string): Promise<PurchaseOrder | undefined> =>
  getItem(db, keys.purchaseOrder(tenantId, id), decodePurchaseOrder);

/**
 * The order record as a write, indexed by its status: new (its id already
 * taken is a 409), or still at the version it was read at (else it moved, and
 * the change is decided again).
 */
export const purchaseOrderWrite = (db: Db, tenantId: string, po: PurchaseOrder, previousVersion: number | undefined): Write =>
  putItem(db, {
    name: PURCHASE_ORDER,
    key: keys.purchaseOrder(tenantId, po.purchase_order_id),
    index: keys.purchaseOrdersByStatusIndex(tenantId, po.status, po.supplier_id, po.purchase_order_id),
    entity: PURCHASE_ORDER,
    tenantId,
    value: po,
    when: when.newOrVersion(previousVersion),
    onConditionFailed: () => (previousVersion === undefined ? alreadyExists('purchase_order', po.purchase_order_id) : undefined),
  });

/** How many reads one page of a filtered list may take before it returns what it has (with a cursor). */
const MAX_FILTERED_READS = 10;

export interface PurchaseOrderListing {
  status?: PurchaseOrderStatus;
  supplier_id?: string;
  cursor?: string;
  limit?: number;
}

/**
 * One page of a tenant's purchase orders:
 * - with a status (and perhaps a supplier): gsi1, a partition per tenant and
 *   status, sort key `supplier_id#purchase_order_id`, so a supplier is a
 *   prefix range: exact pages, no filtering. Index reads are eventually
 *   consistent: an order that just changed status may show in its old status
 *   list for a moment.
 * - a supplier alone: the base partition with a filter. DynamoDB applies Limit
 *   before the filter, so this reads on until the page is full, the partition
 *   ends or MAX_FILTERED_READS reads were spent; a page may be short (even
 *   empty) and still carry a next_cursor.
 * - neither: the base partition, by purchase_order_id.
 */
export const purchaseOrdersPage = (db: Db, tenantId: string, listing: PurchaseOrderListing): Promise<Page<PurchaseOrder>> => {
  const page = { cursor: listing.cursor, limit: listing.limit };
  if (listing.status) {
    const sort = listing.supplier_id === undefined ? undefined : { between: keys.purchaseOrdersOfSupplierRange(listing.supplier_id) };
    return queryPage(db, { index: 'gsi1', partition: keys.purchaseOrdersByStatus(tenantId, listing.status), sort, ...page }, decodePurchaseOrder);
  }
  if (listing.supplier_id) {
    return queryPage(
      db,
      { partition: keys.purchaseOrders(tenantId), filter: when.equals('supplier_id', listing.supplier_id), maxReads: MAX_FILTERED_READS, ...page },
      decodePurchaseOrder,
    );
  }
  return queryPage(db, { partition: keys.purchaseOrders(tenantId), ...page }, decodePurchaseOrder);
};
