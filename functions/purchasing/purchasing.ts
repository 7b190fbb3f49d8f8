import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../platform/db';
import { AppError, notFound, validationFailed } from '../platform/errors';
import type { RequestContext } from '../platform/http';
import { commitIdempotent, commitOptionsOf } from '../platform/idempotency';
import { newId } from '../platform/ids';
import { keys } from '../platform/keys';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor } from '../platform/pagination';
import { TABLE } from '../platform/table';
import { MAX_TRANSACTION_ITEMS, type TransactItem } from '../platform/transactions';
import { permissionsOf } from '../identity/roles';
import type { PlannedChange } from '../inventory/stock';
import { planChanges } from '../inventory/stock';
import { fromItem, getItem, levelsReturnedBy, queryPage, requireSku, requireWarehouse, type Page } from '../inventory/store';
import { isIncoming, withOpen, type PurchaseOrder, type PurchaseOrderLine, type Supplier } from './model';
import type { CreatePurchaseOrderInput, CreateSupplierInput, ListPurchaseOrdersQuery, ReceiveInput } from './schemas';

export interface PurchasingDeps {
  db: Db;
  ctx: RequestContext;
}

/** Drops undefined fields so stored items and responses carry only what was given. */
const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

const alreadyExists = (what: string, id: string): AppError =>
  new AppError('ALREADY_EXISTS', `${what} '${id}' already exists`, { [`${what}_id`]: id });

// ---------- suppliers ----------

/** Contact details are personal data: only roles with 'suppliers:contact' (admin, purchaser) see them. */
const visibleTo = (ctx: RequestContext, supplier: Supplier): Supplier => {
  if (permissionsOf[ctx.caller.role].includes('suppliers:contact')) return supplier;
  const { contact: _personal, ...rest } = supplier;
  return rest;
};

const getSupplier = (db: Db, tenantId: string, supplierId: string) => getItem<Supplier>(db, keys.supplier(tenantId, supplierId));

const requireSupplier = async (db: Db, tenantId: string, supplierId: string): Promise<Supplier> => {
  const supplier = await getSupplier(db, tenantId, supplierId);
  if (!supplier) throw notFound('supplier', supplierId);
  return supplier;
};

/** POST /api/suppliers */
export const createSupplier = ({ db, ctx }: PurchasingDeps, input: CreateSupplierInput): Promise<Supplier> => {
  const tenantId = ctx.caller.tenantId;
  const supplierId = input.supplier_id ?? newId();
  return commitIdempotent(db, commitOptionsOf(ctx), async () => {
    const now = ctx.now().toISOString();
    const supplier: Supplier = defined({ ...input, supplier_id: supplierId, version: 1, created_at: now, updated_at: now });
    return {
      items: [
        {
          Put: {
            TableName: db.table,
            Item: { ...keys.supplier(tenantId, supplierId), entity: 'supplier', tenant_id: tenantId, ...supplier },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      result: visibleTo(ctx, supplier),
      explainCancellation: () => alreadyExists('supplier', supplierId),
    };
  });
};

/** GET /api/suppliers/{supplier_id} */
export const readSupplier = async ({ db, ctx }: PurchasingDeps, supplierId: string): Promise<Supplier> =>
  visibleTo(ctx, await requireSupplier(db, ctx.caller.tenantId, supplierId));

/** GET /api/suppliers */
export const listSuppliers = async (
  { db, ctx }: PurchasingDeps,
  query: { cursor?: string; limit?: number },
): Promise<{ suppliers: Supplier[]; next_cursor: string | null }> => {
  const page = await queryPage<Supplier>(db, { partition: keys.supplier(ctx.caller.tenantId, '').pk, cursor: query.cursor, limit: query.limit });
  return { suppliers: page.items.map((s) => visibleTo(ctx, s)), next_cursor: page.next_cursor };
};

// ---------- purchase orders ----------

const getPurchaseOrder = (db: Db, tenantId: string, id: string) => getItem<PurchaseOrder>(db, keys.purchaseOrder(tenantId, id));

const requirePurchaseOrder = async (db: Db, tenantId: string, id: string): Promise<PurchaseOrder> => {
  const po = await getPurchaseOrder(db, tenantId, id);
  if (!po) throw notFound('purchase_order', id);
  return po;
};

/** The order record as a write: indexed by its status, guarded by the version it was read at (or new). */
const purchaseOrderPut = (db: Db, tenantId: string, po: PurchaseOrder, previousVersion?: number): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: {
      ...keys.purchaseOrder(tenantId, po.purchase_order_id),
      ...keys.purchaseOrdersByStatusIndex(tenantId, po.status, po.supplier_id, po.purchase_order_id),
      entity: 'purchase_order',
      tenant_id: tenantId,
      ...po,
    },
    ...(previousVersion === undefined
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': previousVersion } }),
  },
});

/** The first failure in argument order, so the 404 a caller sees does not depend on timing. */
const firstFailure = async <T>(checks: Promise<T>[]): Promise<T[]> => {
  const settled = await Promise.allSettled(checks);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
};

/**
 * POST /api/purchase-orders: a draft. The supplier, the destination warehouse
 * and every SKU must exist (404 otherwise); nothing in stock changes until it
 * is submitted. None of them can be deleted, so reading them first suffices.
 */
export const createPurchaseOrder = async ({ db, ctx }: PurchasingDeps, input: CreatePurchaseOrderInput): Promise<PurchaseOrder> => {
  const tenantId = ctx.caller.tenantId;
  const id = input.purchase_order_id ?? newId();
  const supplier = await requireSupplier(db, tenantId, input.supplier_id);
  await firstFailure<unknown>([requireWarehouse(db, tenantId, input.warehouse_id), ...input.lines.map((l) => requireSku(db, tenantId, l.sku_id))]);
  return commitIdempotent(db, commitOptionsOf(ctx), async () => {
    const now = ctx.now().toISOString();
    const po: PurchaseOrder = {
      purchase_order_id: id,
      supplier_id: supplier.supplier_id,
      warehouse_id: input.warehouse_id,
      currency: input.currency ?? supplier.currency,
      status: 'draft',
      lines: input.lines.map((l) => withOpen({ sku_id: l.sku_id, quantity: l.quantity, unit_cost: l.unit_cost, received: 0, cancelled: 0 })),
      receipts: 0,
      created_at: now,
      updated_at: now,
      version: 1,
    };
    return {
      items: [purchaseOrderPut(db, tenantId, po)],
      result: po,
      explainCancellation: (cancelled) => (cancelled.failedAt(0) ? alreadyExists('purchase_order', id) : undefined),
    };
  });
};

/** GET /api/purchase-orders/{purchase_order_id} */
export const readPurchaseOrder = ({ db, ctx }: PurchasingDeps, id: string): Promise<PurchaseOrder> =>
  requirePurchaseOrder(db, ctx.caller.tenantId, id);

const stateConflict = (po: PurchaseOrder, action: string): AppError =>
  new AppError('CONFLICT', `purchase order '${po.purchase_order_id}' is ${po.status}: it cannot be ${action}`, {
    purchase_order_id: po.purchase_order_id,
    status: po.status,
  });

type Decision = { po: PurchaseOrder; changes: PlannedChange[] } | { unchanged: PurchaseOrder };

/**
 * One retrying read-decide-write cycle on a purchase order and the stock
 * levels it touches: the levels (version-guarded, through planChanges), one
 * ledger row per change, the order (version-guarded) and the idempotency
 * record, all in one transaction. A lost race re-reads and decides again.
 */
const changePurchaseOrder = (deps: PurchasingDeps, id: string, decide: (po: PurchaseOrder, now: Date) => Decision): Promise<PurchaseOrder> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  return commitIdempotent(db, commitOptionsOf(ctx), async (_attempt, lastCancelled) => {
    const current = await requirePurchaseOrder(db, tenantId, id);
    const decided = decide(current, ctx.now());
    if ('unchanged' in decided) return { items: [], result: decided.unchanged };
    const { items } = decided.changes.length
      ? await planChanges(deps, decided.changes, { known: levelsReturnedBy(lastCancelled) })
      : { items: [] };
    const writes = items.length + 1 + (ctx.idempotency ? 1 : 0);
    if (writes > MAX_TRANSACTION_ITEMS) {
      // Only an over-receipt on many lines gets here (two ledger rows on a line): the schema caps lines at 49.
      throw new AppError('VALIDATION_FAILED', `this change needs ${writes} writes but one atomic transaction holds at most ${MAX_TRANSACTION_ITEMS}: split the delivery into two receipts`, {
        fields: [{ in: 'body', path: 'lines', message: `needs ${writes} writes, at most ${MAX_TRANSACTION_ITEMS}` }],
      });
    }
    const next: PurchaseOrder = { ...decided.po, version: current.version + 1, updated_at: ctx.now().toISOString() };
    return { items: [...items, purchaseOrderPut(db, tenantId, next, current.version)], result: next };
  });
};

const causeOf = (po: PurchaseOrder) => ({ reference: po.purchase_order_id, correlation_id: po.purchase_order_id });

/** POST /api/purchase-orders/{id}/submit: a draft goes to the supplier and its lines become `incoming`. */
export const submitPurchaseOrder = (deps: PurchasingDeps, id: string): Promise<PurchaseOrder> =>
  changePurchaseOrder(deps, id, (po, now) => {
    if (po.status === 'cancelled') throw stateConflict(po, 'submitted');
    // Submitted already (perhaps by this very request, retried): the order stands as it is.
    if (po.status !== 'draft') return { unchanged: po };
    const changes: PlannedChange[] = po.lines.map((line) => ({
      sku_id: line.sku_id,
      warehouse_id: po.warehouse_id,
      change: { type: 'purchase_ordered', quantity: line.open },
      cause: causeOf(po),
    }));
    return { po: { ...po, status: 'submitted', submitted_at: now.toISOString() }, changes };
  });

/**
 * POST /api/purchase-orders/{id}/receive: one delivery, all of it in one
 * transaction. Per line, up to the open quantity is a `receipt` (on hand and
 * available up, incoming down) carrying the line's unit cost and currency.
 * More than is open is refused whole (409) unless allow_over_receipt: then
 * the excess is a second ledger row on the same level, a `restock` with
 * reason `over_receipt` and the same cost, so `incoming` drops only by what
 * was open and the ledger still adds up.
 */
export const receivePurchaseOrder = (deps: PurchasingDeps, id: string, input: ReceiveInput): Promise<PurchaseOrder> =>
  changePurchaseOrder(deps, id, (po, now) => {
    if (po.status === 'draft') throw stateConflict(po, 'received before it is submitted');
    if (!isIncoming(po.status)) throw stateConflict(po, 'received');
    const bySku = new Map(po.lines.map((line, index) => [line.sku_id, index]));
    const unknown = input.lines.flatMap((l, i) => (bySku.has(l.sku_id) ? [] : [i]));
    if (unknown.length) {
      throw validationFailed(
        unknown.map((i) => ({ in: 'body', path: `lines.${i}.sku_id`, message: `SKU '${input.lines[i]!.sku_id}' is not a line of purchase order '${po.purchase_order_id}'` })),
      );
    }
    const over = input.lines
      .map((l) => ({ sku_id: l.sku_id, requested: l.quantity, open: po.lines[bySku.get(l.sku_id)!]!.open }))
      .filter((l) => l.requested > l.open);
    if (over.length && !input.allow_over_receipt) {
      throw new AppError(
        'CONFLICT',
        `receiving more than is still open on purchase order '${po.purchase_order_id}' (${over.map((l) => `${l.sku_id}: ${l.requested} of ${l.open}`).join(', ')}); nothing was received. Send "allow_over_receipt": true to accept the excess`,
        { purchase_order_id: po.purchase_order_id, over_receipt: over },
      );
    }
    const lines: PurchaseOrderLine[] = po.lines.map((line) => ({ ...line }));
    const changes: PlannedChange[] = [];
    for (const received of input.lines) {
      const index = bySku.get(received.sku_id)!;
      const line = lines[index]!;
      const cause = { ...causeOf(po), unit_cost: line.unit_cost, currency: po.currency, ...(input.note === undefined ? {} : { note: input.note }) };
      const expected = Math.min(received.quantity, line.open);
      const excess = received.quantity - expected;
      const place = { sku_id: line.sku_id, warehouse_id: po.warehouse_id };
      if (expected > 0) changes.push({ ...place, change: { type: 'receipt', quantity: expected }, cause });
      if (excess > 0) changes.push({ ...place, change: { type: 'restock', quantity: excess }, cause: { ...cause, reason: 'over_receipt' } });
      lines[index] = withOpen({ ...line, received: line.received + received.quantity });
    }
    const done = lines.every((line) => line.open === 0);
    return {
      po: {
        ...po,
        lines,
        receipts: po.receipts + 1,
        status: done ? 'received' : 'partially_received',
        ...(done ? { received_at: now.toISOString() } : {}),
      },
      changes,
    };
  });

/**
 * POST /api/purchase-orders/{id}/cancel: what has not arrived will not come.
 * A draft is simply cancelled; a submitted or partly received order gives
 * back its open quantities from `incoming` (`purchase_cancelled` rows).
 * Cancelling again changes nothing; a fully received order is 409.
 */
export const cancelPurchaseOrder = (deps: PurchasingDeps, id: string): Promise<PurchaseOrder> =>
  changePurchaseOrder(deps, id, (po, now) => {
    if (po.status === 'cancelled') return { unchanged: po };
    if (po.status === 'received') throw stateConflict(po, 'cancelled (everything has arrived)');
    const changes: PlannedChange[] = isIncoming(po.status)
      ? po.lines
          .filter((line) => line.open > 0)
          .map((line) => ({ sku_id: line.sku_id, warehouse_id: po.warehouse_id, change: { type: 'purchase_cancelled', quantity: line.open }, cause: causeOf(po) }))
      : [];
    const lines = po.lines.map((line) => withOpen({ ...line, cancelled: line.cancelled + line.open }));
    return { po: { ...po, lines, status: 'cancelled', cancelled_at: now.toISOString() }, changes };
  });

/** How many reads one page of a filtered list may take before it returns what it has (with a cursor). */
const MAX_FILTERED_READS = 10;

/**
 * One page of the tenant's purchase orders with supplier_id = the given one,
 * read from the base partition with a FilterExpression. DynamoDB applies Limit
 * before the filter, so this reads on until the page is full, the partition
 * ends, or MAX_FILTERED_READS reads were spent; a page may therefore be short
 * (even empty) and still carry a next_cursor. When a page fills in the middle
 * of a read, the cursor is the key of its last item.
 */
const purchaseOrdersOfSupplier = async (db: Db, tenantId: string, supplierId: string, cursor: string | undefined, limit: number): Promise<Page<PurchaseOrder>> => {
  const partition = keys.purchaseOrder(tenantId, '').pk;
  const items: Record<string, unknown>[] = [];
  let start = decodeCursor(cursor, { attribute: TABLE.partitionKey, value: partition });
  for (let reads = 0; reads < MAX_FILTERED_READS; reads++) {
    const out = await db.client.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: '#pk = :pk',
        FilterExpression: '#supplier = :supplier',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#supplier': 'supplier_id' },
        ExpressionAttributeValues: { ':pk': partition, ':supplier': supplierId },
        Limit: limit,
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    const found = out.Items ?? [];
    for (const [index, item] of found.entries()) {
      items.push(item);
      if (items.length === limit) {
        const last = index === found.length - 1;
        const next = last ? out.LastEvaluatedKey : { [TABLE.partitionKey]: item[TABLE.partitionKey], [TABLE.sortKey]: item[TABLE.sortKey] };
        return { items: items.map((i) => fromItem<PurchaseOrder>(i)), next_cursor: encodeCursor(next) };
      }
    }
    start = out.LastEvaluatedKey;
    if (!start) break;
  }
  return { items: items.map((i) => fromItem<PurchaseOrder>(i)), next_cursor: encodeCursor(start) };
};

/**
 * GET /api/purchase-orders?status=&supplier_id=
 * - status (with or without supplier_id): gsi1, partition per tenant and
 *   status, sort key `supplier_id#purchase_order_id`, so a supplier is a
 *   prefix range: exact pages, no filtering. Open orders are the list asked
 *   for most (receiving, replenishment), and they are few next to the
 *   received ones that pile up over the years.
 * - supplier_id alone: the base partition with a filter (see above). A second
 *   index for it is not worth its write cost yet; the table has one GSI.
 * - neither: the base partition, by purchase_order_id.
 * Index reads are eventually consistent: an order that just changed status
 * may show in its old status list for a moment.
 */
export const listPurchaseOrders = async (
  { db, ctx }: PurchasingDeps,
  query: ListPurchaseOrdersQuery,
): Promise<{ purchase_orders: PurchaseOrder[]; next_cursor: string | null }> => {
  const tenantId = ctx.caller.tenantId;
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let page: Page<PurchaseOrder>;
  if (query.status) {
    const { gsi1pk } = keys.purchaseOrdersByStatusIndex(tenantId, query.status, '', '');
    // Ids never contain '#' and sort below '~', so `s#` .. `s#~` is exactly supplier s.
    const sortBetween: [string, string] | undefined = query.supplier_id ? [`${query.supplier_id}#`, `${query.supplier_id}#~`] : undefined;
    page = await queryPage<PurchaseOrder>(db, { index: 'gsi1', partition: gsi1pk, sortBetween, cursor: query.cursor, limit });
  } else if (query.supplier_id) {
    page = await purchaseOrdersOfSupplier(db, tenantId, query.supplier_id, query.cursor, limit);
  } else {
    page = await queryPage<PurchaseOrder>(db, { partition: keys.purchaseOrder(tenantId, '').pk, cursor: query.cursor, limit });
  }
  return { purchase_orders: page.items, next_cursor: page.next_cursor };
};
