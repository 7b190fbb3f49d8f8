import type { Deps } from '../platform/context';
import { AppError, orNotFound, validationFailed, type FieldIssue } from '../platform/errors';
import { commitIdempotent, type Idempotency } from '../platform/idempotency';
import { newId } from '../platform/ids';
import { amountIn } from '../platform/money';
import { MAX_TRANSACTION_ITEMS } from '../platform/transactions';
import { transition, type Transition } from '../platform/transition';
import { definedOnly } from '../platform/values';
import { assertInScope } from '../platform/warehouse-scope';
import { requireSku, requireWarehouse } from '../inventory/catalog';
import { levelsReturnedBy, planChanges, type PlannedChange } from '../inventory/stock';
import { isIncoming, withOpen, type PurchaseOrder, type PurchaseOrderLine, type PurchaseOrderStatus, type Supplier } from './model';
import type { CreatePurchaseOrderInput, CreateSupplierInput, ListPurchaseOrdersQuery, ReceiveInput } from './schemas';
import { getPurchaseOrder, getSupplier, purchaseOrdersPage, purchaseOrderWrite, supplierCreate, suppliersPage } from './store';

// ---------- suppliers ----------

// Contact details are personal data: the response schema tags them (schemas.ts supplierResponse, suppliers:contact),
// and the HTTP layer leaves them out for roles without the permission, so these functions return whole suppliers.

/** The supplier as stored (contact included: for the system's own use, not for responses). */
export const findSupplier = ({ db, ctx }: Deps, supplierId: string): Promise<Supplier | undefined> =>
  getSupplier(db, ctx.caller.tenantId, supplierId);

export const requireSupplier = (deps: Deps, supplierId: string): Promise<Supplier> => orNotFound('supplier', supplierId, findSupplier(deps, supplierId));

/** POST /api/suppliers */
export const createSupplier = (deps: Deps, input: CreateSupplierInput): Promise<Supplier> => {
  const { db, ctx } = deps;
  const supplierId = input.supplier_id ?? newId();
  return commitIdempotent(deps, async () => {
    const now = ctx.now().toISOString();
    const supplier: Supplier = definedOnly({ ...input, supplier_id: supplierId, version: 1, created_at: now, updated_at: now });
    return { writes: [supplierCreate(db, ctx.caller.tenantId, supplier)], result: supplier };
  });
};

/** GET /api/suppliers/{supplier_id} */
export const readSupplier = async (deps: Deps, supplierId: string): Promise<Supplier> =>
  requireSupplier(deps, supplierId);

/** GET /api/suppliers */
export const listSuppliers = async (
  { db, ctx }: Deps,
  query: { cursor?: string; limit?: number },
): Promise<{ suppliers: Supplier[]; next_cursor: string | null }> => {
  const page = await suppliersPage(db, ctx.caller.tenantId, query);
  return { suppliers: page.items, next_cursor: page.next_cursor };
};

// ---------- purchase orders ----------

const requirePurchaseOrder = ({ db, ctx }: Deps, id: string): Promise<PurchaseOrder> =>
  orNotFound('purchase_order', id, getPurchaseOrder(db, ctx.caller.tenantId, id));

/** Every check, and the first failure in argument order, so the 404 a caller sees does not depend on timing. */
const firstFailure = async (checks: Promise<unknown>[]): Promise<void> => {
  for (const settled of await Promise.allSettled(checks)) if (settled.status === 'rejected') throw settled.reason;
};

/**
 * POST /api/purchase-orders: a draft. The supplier, the destination warehouse
 * and every SKU must exist (404 otherwise); nothing in stock changes until it
 * is submitted. None of them can be deleted, so reading them first suffices.
 * `idempotency` is the request's own key unless a caller creating several
 * (replenishment) gives each its own.
 */
export const createPurchaseOrder = async (
  deps: Deps,
  input: CreatePurchaseOrderInput,
  idempotency: Idempotency | undefined = deps.ctx.idempotency,
): Promise<PurchaseOrder> => {
  const { db, ctx } = deps;
  const id = input.purchase_order_id ?? newId();
  // A scoped user orders only for their own warehouses.
  assertInScope(ctx, [input.warehouse_id], 'ordering stock into it');
  const supplier = await requireSupplier(deps, input.supplier_id);
  await firstFailure([requireWarehouse(deps, input.warehouse_id), ...input.lines.map((l) => requireSku(deps, l.sku_id))]);
  return commitIdempotent(
    deps,
    async () => {
      const now = ctx.now().toISOString();
      const currency = input.currency ?? supplier.currency;
      const po: PurchaseOrder = {
        purchase_order_id: id,
        supplier_id: supplier.supplier_id,
        warehouse_id: input.warehouse_id,
        currency,
        status: 'draft',
        // In the minor unit of the order's currency, as the receipts write it to the ledger.
        lines: input.lines.map((l) => withOpen({ sku_id: l.sku_id, quantity: l.quantity, unit_cost: amountIn(l.unit_cost, currency), received: 0, cancelled: 0 })),
        receipts: 0,
        created_at: now,
        updated_at: now,
        version: 1,
      };
      return { writes: [purchaseOrderWrite(db, ctx.caller.tenantId, po, undefined)], result: po };
    },
    idempotency,
  );
};

/** GET /api/purchase-orders/{purchase_order_id} */
export const readPurchaseOrder = (deps: Deps, id: string): Promise<PurchaseOrder> => requirePurchaseOrder(deps, id);

const stateConflict = (po: PurchaseOrder, action: string): AppError =>
  new AppError('CONFLICT', `purchase order '${po.purchase_order_id}' is ${po.status}: it cannot be ${action}`, {
    purchase_order_id: po.purchase_order_id,
    status: po.status,
  });

type PurchaseOrderChange = Pick<Transition<PurchaseOrderStatus, PurchaseOrder>, 'from' | 'done' | 'refuse'> & {
  /** What the change does at the destination, for a scoped user's refusal. */
  doing: string;
  /** The order after the change and the stock changes it takes. */
  apply: (po: PurchaseOrder, now: Date) => { next: PurchaseOrder; changes: PlannedChange[] };
};

/**
 * A change of one purchase order and the stock levels it touches, through
 * the platform's state machine: the levels (through planChanges), one ledger
 * row per change, the order and the idempotency record, all in one
 * transaction. A lost race re-reads and decides again.
 */
const purchaseOrderTransition = (deps: Deps, id: string, { apply, doing, ...rules }: PurchaseOrderChange): Promise<PurchaseOrder> =>
  transition(deps, {
    ...rules,
    // A purchase order outside a scoped user's warehouses is not theirs to move, whatever its status.
    load: async () => {
      const po = await requirePurchaseOrder(deps, id);
      assertInScope(deps.ctx, [po.warehouse_id], doing);
      return po;
    },
    apply: async (po, now, lastCancelled) => {
      const { next, changes } = apply(po, now);
      const { writes } = changes.length ? await planChanges(deps, changes, { known: levelsReturnedBy(lastCancelled) }) : { writes: [] };
      const total = writes.length + 1 + (deps.ctx.idempotency ? 1 : 0);
      if (total > MAX_TRANSACTION_ITEMS) {
        // Only an over-receipt on many lines gets here (two ledger rows on a line): the schema caps lines at 49.
        throw validationFailed(
          [{ path: 'lines', message: `needs ${total} writes, at most ${MAX_TRANSACTION_ITEMS}` }],
          `this change needs ${total} writes but one atomic transaction holds at most ${MAX_TRANSACTION_ITEMS}: split the delivery into two receipts`,
        );
      }
      return { next, writes };
    },
    persist: (next, previousVersion) => purchaseOrderWrite(deps.db, deps.ctx.caller.tenantId, next, previousVersion),
  });

const causeOf = (po: PurchaseOrder) => ({ reference: po.purchase_order_id, correlation_id: po.purchase_order_id });

/** POST /api/purchase-orders/{id}/submit: a draft goes to the supplier and its lines become `incoming`. */
export const submitPurchaseOrder = (deps: Deps, id: string): Promise<PurchaseOrder> =>
  purchaseOrderTransition(deps, id, {
    doing: 'submitting a purchase order into it',
    from: ['draft'],
    // Submitted already (perhaps by this very request, retried): the order stands as it is.
    done: ['submitted', 'partially_received', 'received'],
    refuse: (po) => stateConflict(po, 'submitted'),
    apply: (po, now) => ({
      next: { ...po, status: 'submitted', submitted_at: now.toISOString() },
      changes: po.lines.map((line) => ({
        sku_id: line.sku_id,
        warehouse_id: po.warehouse_id,
        change: { type: 'purchase_ordered', quantity: line.open },
        cause: causeOf(po),
      })),
    }),
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
export const receivePurchaseOrder = (deps: Deps, id: string, input: ReceiveInput): Promise<PurchaseOrder> =>
  purchaseOrderTransition(deps, id, {
    doing: 'receiving a purchase order into it',
    from: ['submitted', 'partially_received'],
    refuse: (po) => stateConflict(po, po.status === 'draft' ? 'received before it is submitted' : 'received'),
    apply: (po, now) => {
      const lineOf = new Map(po.lines.map((line) => [line.sku_id, line]));
      const deliveries: { quantity: number; line: PurchaseOrderLine }[] = [];
      const unknown: FieldIssue[] = [];
      input.lines.forEach((received, i) => {
        const line = lineOf.get(received.sku_id);
        if (line) deliveries.push({ quantity: received.quantity, line });
        else unknown.push({ path: `lines.${i}.sku_id`, message: `SKU '${received.sku_id}' is not a line of purchase order '${po.purchase_order_id}'` });
      });
      if (unknown.length) throw validationFailed(unknown);
      const over = deliveries
        .filter(({ quantity, line }) => quantity > line.open)
        .map(({ quantity, line }) => ({ sku_id: line.sku_id, requested: quantity, open: line.open }));
      if (over.length && !input.allow_over_receipt) {
        throw new AppError(
          'CONFLICT',
          `receiving more than is still open on purchase order '${po.purchase_order_id}' (${over.map((l) => `${l.sku_id}: ${l.requested} of ${l.open}`).join(', ')}); nothing was received. Send "allow_over_receipt": true to accept the excess`,
          { purchase_order_id: po.purchase_order_id, over_receipt: over },
        );
      }
      const changes: PlannedChange[] = [];
      const after = new Map<string, PurchaseOrderLine>();
      for (const { quantity, line } of deliveries) {
        const cause = { ...causeOf(po), unit_cost: amountIn(line.unit_cost, po.currency), currency: po.currency, ...(input.note === undefined ? {} : { note: input.note }) };
        const expected = Math.min(quantity, line.open);
        const excess = quantity - expected;
        const place = { sku_id: line.sku_id, warehouse_id: po.warehouse_id };
        if (expected > 0) changes.push({ ...place, change: { type: 'receipt', quantity: expected }, cause });
        if (excess > 0) changes.push({ ...place, change: { type: 'restock', quantity: excess }, cause: { ...cause, reason: 'over_receipt' } });
        after.set(line.sku_id, withOpen({ ...line, received: line.received + quantity }));
      }
      const lines = po.lines.map((line) => after.get(line.sku_id) ?? line);
      const done = lines.every((line) => line.open === 0);
      return {
        next: {
          ...po,
          lines,
          receipts: po.receipts + 1,
          status: done ? 'received' : 'partially_received',
          ...(done ? { received_at: now.toISOString() } : {}),
        },
        changes,
      };
    },
  });

/**
 * POST /api/purchase-orders/{id}/cancel: what has not arrived will not come.
 * A draft is simply cancelled; a submitted or partly received order gives
 * back its open quantities from `incoming` (`purchase_cancelled` rows).
 * Cancelling again changes nothing; a fully received order is 409.
 */
export const cancelPurchaseOrder = (deps: Deps, id: string): Promise<PurchaseOrder> =>
  purchaseOrderTransition(deps, id, {
    doing: 'cancelling a purchase order into it',
    from: ['draft', 'submitted', 'partially_received'],
    done: ['cancelled'],
    refuse: (po) => stateConflict(po, 'cancelled (everything has arrived)'),
    apply: (po, now) => ({
      next: { ...po, lines: po.lines.map((line) => withOpen({ ...line, cancelled: line.cancelled + line.open })), status: 'cancelled', cancelled_at: now.toISOString() },
      changes: isIncoming(po.status)
        ? po.lines
            .filter((line) => line.open > 0)
            .map((line) => ({ sku_id: line.sku_id, warehouse_id: po.warehouse_id, change: { type: 'purchase_cancelled', quantity: line.open }, cause: causeOf(po) }))
        : [],
    }),
  });

/**
 * GET /api/purchase-orders?status=&supplier_id=: by status on gsi1 (a
 * supplier is a prefix range there), by supplier alone on the base partition
 * with a filter (a second index for it is not worth its write cost yet; the
 * table has one GSI), or all by id (functions/purchasing/store.ts). Open
 * orders are the list asked for most (receiving, replenishment), and they
 * are few next to the received ones that pile up over the years.
 */
export const listPurchaseOrders = async (
  { db, ctx }: Deps,
  query: ListPurchaseOrdersQuery,
): Promise<{ purchase_orders: PurchaseOrder[]; next_cursor: string | null }> => {
  const page = await purchaseOrdersPage(db, ctx.caller.tenantId, query);
  return { purchase_orders: page.items, next_cursor: page.next_cursor };
};
