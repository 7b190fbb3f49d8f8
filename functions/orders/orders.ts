import type { Db } from '../platform/db';
import { AppError, errorMessage, notFound, orNotFound, validationFailed } from '../platform/errors';
import { systemContext, type Deps } from '../platform/context';
import { commitIdempotent, fingerprint, type WritePlan } from '../platform/idempotency';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import type { TransactionCancelled } from '../platform/transactions';
import { transition, type Transition } from '../platform/transition';
import { assertInScope } from '../platform/warehouse-scope';
import { recentWarehouses } from '../inventory/catalog';
import type { Warehouse } from '../inventory/model';
import { levelKey, levelsForOrder, levelsReturnedBy, rebalanceUneven, reservationWrites, type LevelAvailability, type ReservationChange } from '../inventory/stock';
import { ORDER_STATUSES, outstanding, type AllocationLeg, type Order, type OrderStatus } from './model';
import { planAllocation, type LineShortfall, type PlannedLine, type PlanResult } from './planner';
import { MAX_ALLOCATION_LEGS, type AllocateInput, type ShipInput } from './schemas';
import { findOrder, holdsDueIn, orderWrite, ordersPage, type OrderListing } from './store';
import { countMetric, METRIC_NAMES } from '../platform/metrics';

const requireOrder = ({ db, ctx }: Deps, orderId: string): Promise<Order> => orNotFound('order', orderId, findOrder(db, ctx.caller.tenantId, orderId));

interface Snapshot {
  warehouses: Warehouse[];
  levels: LevelAvailability[];
  available: (skuId: string, warehouseId: string) => number;
}

const snapshotOf = (warehouses: Warehouse[], levels: LevelAvailability[]): Snapshot => {
  const byKey = new Map(levels.map((l) => [levelKey(l.sku_id, l.warehouse_id), l]));
  return { warehouses, levels: [...byKey.values()], available: (sku, wh) => byKey.get(levelKey(sku, wh))?.available ?? 0 };
};

type OrderInput = Omit<AllocateInput, 'order_id'>;

/**
 * The planner's view of the world in one call: the tenant's warehouses (as
 * this container read them at most a few seconds ago, see recentWarehouses),
 * then one strongly consistent BatchGetItem of the order's SKUs and what they
 * have available in every warehouse the planner may choose.
 */
const readSnapshot = async (deps: Deps, input: OrderInput): Promise<Snapshot> => {
  const warehouses = await recentWarehouses(deps);
  const allowed = input.warehouse_ids && new Set(input.warehouse_ids);
  const eligible = warehouses.filter((w) => w.active && (!allowed || allowed.has(w.warehouse_id))).map((w) => w.warehouse_id);
  const { levels, unknownSkus } = await levelsForOrder(
    deps,
    input.lines.map((l) => l.sku_id),
    eligible,
  );
  // An unknown SKU is a 404, not a shortfall.
  const [unknown] = unknownSkus;
  if (unknown !== undefined) throw notFound('sku', unknown);
  return snapshotOf(warehouses, levels);
};

/**
 * The snapshot for a retry. A transaction cancelled on a level's condition hands back
 * the levels as they now stand (ALL_OLD), which is all that moved as far as this plan
 * knew: re-plan from them without reading anything. Otherwise (a TransactionConflict
 * returns no items) read again.
 */
const refreshSnapshot = async (deps: Deps, input: OrderInput, previous: Snapshot | undefined, cancelled: TransactionCancelled | undefined): Promise<Snapshot> => {
  const returned = levelsReturnedBy(cancelled);
  if (!previous || returned.length === 0) return readSnapshot(deps, input);
  return snapshotOf(previous.warehouses, [...previous.levels, ...returned]);
};

const planFor = (input: OrderInput, snapshot: Snapshot): PlanResult =>
  planAllocation({
    lines: input.lines,
    ship_to: input.ship_to,
    strategy: input.strategy,
    allow_split: input.allow_split,
    warehouse_ids: input.warehouse_ids,
    warehouses: snapshot.warehouses,
    available: snapshot.available,
  });

const shortfallError = (plan: Extract<PlanResult, { ok: false }>): AppError =>
  new AppError('INSUFFICIENT_STOCK', `the order cannot be filled: ${plan.explanation}`, {
    shortfall: plan.shortfall,
    partial_fill: plan.partial,
  });

export interface PlanPreview {
  feasible: boolean;
  lines: PlannedLine[];
  shipments: number;
  warehouses: string[];
  explanation: string;
  shortfall?: LineShortfall[];
}

/** POST /api/orders/plan: the allocation the system would make now, reserving nothing. */
export const previewPlan = async (deps: Deps, input: OrderInput): Promise<PlanPreview> => {
  const snapshot = await readSnapshot(deps, input);
  const plan = planFor(input, snapshot);
  if (plan.ok) {
    return { feasible: true, lines: plan.lines, shipments: plan.shipments, warehouses: plan.warehouses, explanation: plan.explanation };
  }
  const used = [...new Set(plan.partial.flatMap((l) => l.allocations.map((a) => a.warehouse_id)))];
  return { feasible: false, lines: plan.partial, shipments: used.length, warehouses: used, explanation: plan.explanation, shortfall: plan.shortfall };
};

/** Another call created this order_id first (the order record's condition failed). */
class OrderExists extends AppError {
  constructor(orderId: string) {
    super('ALREADY_EXISTS', `order '${orderId}' already exists`);
  }
}

/**
 * What makes two allocation requests the same order: its lines (in any order;
 * a SKU appears once), where it ships and the strategy. The options that only
 * steered the allocation (allow_split, warehouse_ids, hold_seconds) are not
 * stored with the order, so a retry that changes them still gets the order.
 */
const orderIdentity = (order: Pick<Order, 'lines' | 'ship_to' | 'strategy'>): string =>
  fingerprint('order', { lines: [...order.lines].sort((a, b) => a.sku_id.localeCompare(b.sku_id)), ship_to: order.ship_to, strategy: order.strategy });

const sameOrder = (existing: Order, input: AllocateInput): boolean => orderIdentity(existing) === orderIdentity(input);

/**
 * The same order_id again: the same order is answered with what was
 * allocated (a client's retry), a different one is refused with the existing
 * order, since silently answering 201 with other lines would ship the wrong
 * goods.
 */
const existingOrder = async (deps: Deps, input: AllocateInput): Promise<Order> => {
  const existing = await requireOrder(deps, input.order_id);
  if (sameOrder(existing, input)) return existing;
  throw new AppError(
    'ALREADY_EXISTS',
    `order '${input.order_id}' already exists with other lines, destination or strategy; use a new order_id for a new order`,
    { order_id: input.order_id, order: existing },
  );
};

/**
 * POST /api/orders/allocate: plan from a strongly consistent snapshot of the
 * levels, then reserve every leg (conditional increments of the levels:
 * enough available) and create the order in one transaction. If stock ran
 * short in between, the transaction is cancelled and the next attempt
 * re-plans from the levels it returned; an order is never half-allocated. The
 * same order_id again returns the existing order if it is the same order.
 */
export const allocateOrder = async (deps: Deps, input: AllocateInput): Promise<Order> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  // A scoped user who names the warehouses to allocate from names only their own.
  if (input.warehouse_ids) assertInScope(ctx, input.warehouse_ids, 'allocating an order from them');
  const decide = async (snapshot: Snapshot, lastCancelled: TransactionCancelled | undefined): Promise<WritePlan<Order>> => {
    const plan = planFor(input, snapshot);
    if (!plan.ok) {
      // A repeated order_id is answered with the order, even once its stock is gone. Checked only
      // here: on the happy path the order write's condition (a new item) catches it.
      if (await findOrder(db, tenantId, input.order_id)) throw new OrderExists(input.order_id);
      throw shortfallError(plan);
    }
    const legs: AllocationLeg[] = plan.lines.flatMap((line) =>
      line.allocations.map((a) => ({ sku_id: line.sku_id, warehouse_id: a.warehouse_id, quantity: a.quantity, shipped: 0, released: 0, distance_km: a.distance_km })),
    );
    // The plan is made over every warehouse, as for anyone (a scoped user's order is not quietly
    // filled worse than another's); one that would reserve outside the caller's warehouses is
    // refused whole before anything is written. The same order_id again is still answered with its order.
    try {
      assertInScope(ctx, legs.map((leg) => leg.warehouse_id), 'the allocation would reserve stock there');
    } catch (error) {
      if (await findOrder(db, tenantId, input.order_id)) throw new OrderExists(input.order_id);
      throw error;
    }
    if (legs.length > MAX_ALLOCATION_LEGS) {
      throw validationFailed(
        [{ path: 'lines', message: `needs ${legs.length} allocations, at most ${MAX_ALLOCATION_LEGS}` }],
        `this order needs ${legs.length} warehouse allocations; at most ${MAX_ALLOCATION_LEGS} fit one atomic transaction: split the order or set allow_split to false`,
      );
    }
    const cause = { reference: input.order_id, correlation_id: input.order_id };
    const changes: ReservationChange[] = legs.map((leg) => ({ sku_id: leg.sku_id, warehouse_id: leg.warehouse_id, change: { type: 'allocation', quantity: leg.quantity }, cause }));
    const now = ctx.now();
    const order: Order = {
      order_id: input.order_id,
      status: input.hold_seconds === undefined ? 'allocated' : 'held',
      lines: input.lines,
      allocations: legs,
      shipments: plan.shipments,
      strategy: input.strategy,
      ship_to: input.ship_to,
      ...(input.hold_seconds === undefined ? {} : { hold_expires_at: new Date(now.getTime() + input.hold_seconds * 1000).toISOString() }),
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      version: 1,
    };
    return {
      writes: [...(await reservationWrites(deps, changes, lastCancelled)), orderWrite(db, tenantId, order, undefined, () => new OrderExists(input.order_id))],
      result: order,
    };
  };
  try {
    let snapshot: Snapshot | undefined;
    const order = await commitIdempotent(deps, async (_attempt, lastCancelled) => {
      snapshot = await refreshSnapshot(deps, input, snapshot, lastCancelled);
      return decide(snapshot, lastCancelled);
    });
    countMetric(METRIC_NAMES.allocations);
    await rebalanceUneven(deps);
    return order;
  } catch (error) {
    // The order_id exists (perhaps a concurrent call with it won): the same order is answered with it.
    if (error instanceof OrderExists) return existingOrder(deps, input);
    throw error;
  }
};

/** GET /api/orders/status/{order_id} */
export const readOrder = (deps: Deps, orderId: string): Promise<Order> => requireOrder(deps, orderId);

/** GET /api/orders: a page of the tenant's orders, of one status (oldest first) or all of them (by order_id). */
export const listOrders = async ({ db, ctx }: Deps, listing: OrderListing): Promise<{ orders: Order[]; next_cursor: string | null }> => {
  const page = await ordersPage(db, ctx.caller.tenantId, listing);
  return { orders: page.items, next_cursor: page.next_cursor };
};

const stateConflict = (order: Order, action: string): AppError =>
  new AppError('CONFLICT', `order '${order.order_id}' is ${order.status}: it cannot be ${action}`, { order_id: order.order_id, status: order.status });

type OrderChange = Pick<Transition<OrderStatus, Order>, 'from' | 'done' | 'refuse'> & {
  /** The order after the change and the reservation changes it takes, or 'unchanged'. */
  apply: (order: Order, now: Date) => { next: Order; changes: ReservationChange[] } | 'unchanged';
};

/** A change of one order (and the levels it touches): the platform's state machine with the order's own write. */
const orderTransition = async (deps: Deps, orderId: string, { apply, ...rules }: OrderChange): Promise<Order> => {
  const order = await transition(deps, {
    ...rules,
    load: () => requireOrder(deps, orderId),
    apply: async (order, now, lastCancelled) => {
      const decided = apply(order, now);
      return decided === 'unchanged' ? decided : { next: decided.next, writes: await reservationWrites(deps, decided.changes, lastCancelled) };
    },
    persist: (next, previousVersion) => orderWrite(deps.db, deps.ctx.caller.tenantId, next, previousVersion),
  });
  await rebalanceUneven(deps);
  return order;
};

const holdExpired = (order: Order, now: Date): boolean =>
  order.status === 'held' && order.hold_expires_at !== undefined && Date.parse(order.hold_expires_at) <= now.getTime();

/** POST /api/orders/{order_id}/confirm: a hold becomes a firm allocation, unless its time ran out first. */
export const confirmOrder = (deps: Deps, orderId: string): Promise<Order> =>
  orderTransition(deps, orderId, {
    from: ['held'],
    // Firm already (perhaps by this very request, retried): the order stands as it is.
    done: ['allocated', 'partially_shipped', 'shipped'],
    refuse: (order) => stateConflict(order, 'confirmed'),
    apply: (order, now) => {
      // Confirming makes the hold's reservations firm in every warehouse it holds stock in.
      assertInScope(deps.ctx, order.allocations.filter((leg) => outstanding(leg) > 0).map((leg) => leg.warehouse_id), 'confirming the hold');
      if (holdExpired(order, now)) {
        throw new AppError('CONFLICT', `the hold on order '${order.order_id}' expired at ${order.hold_expires_at}; its stock is being released`, {
          order_id: order.order_id,
          status: 'expired',
          hold_expires_at: order.hold_expires_at,
        });
      }
      const { hold_expires_at: _expired, ...firm } = order;
      return { next: { ...firm, status: 'allocated', confirmed_at: now.toISOString() }, changes: [] };
    },
  });

const releaseAll = (order: Order, reason: 'cancelled' | 'expired', now: Date): { next: Order; changes: ReservationChange[] } => {
  const cause = { reference: order.order_id, correlation_id: order.order_id, reason: reason === 'expired' ? 'hold_expired' : 'order_cancelled' };
  const changes: ReservationChange[] = order.allocations
    .filter((leg) => outstanding(leg) > 0)
    .map((leg) => ({ sku_id: leg.sku_id, warehouse_id: leg.warehouse_id, change: { type: 'release', quantity: outstanding(leg) }, cause }));
  const { hold_expires_at: _hold, ...rest } = order;
  const released: Order = {
    ...(reason === 'expired' ? order : rest),
    status: reason,
    allocations: order.allocations.map((leg) => ({ ...leg, released: leg.released + outstanding(leg) })),
    ...(reason === 'expired' ? { expired_at: now.toISOString() } : { cancelled_at: now.toISOString() }),
  };
  return { next: released, changes };
};

/** POST /api/orders/{order_id}/cancel: every unit still reserved goes back, exactly once. */
export const cancelOrder = (deps: Deps, orderId: string): Promise<Order> =>
  orderTransition(deps, orderId, {
    from: ['held', 'allocated', 'partially_shipped'],
    done: ['cancelled', 'expired'],
    refuse: (order) => stateConflict(order, 'cancelled (everything has shipped)'),
    apply: (order, now) => {
      const released = releaseAll(order, 'cancelled', now);
      // Cancelling gives stock back in every warehouse the order still holds some in.
      assertInScope(deps.ctx, released.changes.map((c) => c.warehouse_id), 'cancelling the order releases stock there');
      return released;
    },
  });

/** The sweeper's release of one hold; a hold that was confirmed, cancelled or is not yet due stays as it is. */
export const expireHold = (deps: Deps, orderId: string): Promise<Order> =>
  orderTransition(deps, orderId, {
    from: ['held'],
    done: ORDER_STATUSES.filter((status) => status !== 'held'),
    // Never reached: every status is in `from` or `done`.
    refuse: (order) => stateConflict(order, 'expired'),
    apply: (order, now) => (holdExpired(order, now) ? releaseAll(order, 'expired', now) : 'unchanged'),
  });

/** POST /api/orders/{order_id}/ship: reserved units leave; shipping more than is outstanding is refused whole. */
export const shipOrder = (deps: Deps, orderId: string, input: ShipInput): Promise<Order> =>
  orderTransition(deps, orderId, {
    from: ['allocated', 'partially_shipped'],
    refuse: (order) => stateConflict(order, order.status === 'held' ? 'shipped before it is confirmed' : 'shipped'),
    apply: (order, now) => {
      const legs = order.allocations.map((leg) => ({ ...leg }));
      const changes: ReservationChange[] = [];
      for (const line of input.lines) {
        const candidates = legs.filter((l) => l.sku_id === line.sku_id && (!line.warehouse_id || l.warehouse_id === line.warehouse_id));
        const open = candidates.reduce((sum, l) => sum + outstanding(l), 0);
        if (open < line.quantity) {
          throw new AppError('CONFLICT', `cannot ship ${line.quantity} of SKU '${line.sku_id}'${line.warehouse_id ? ` from '${line.warehouse_id}'` : ''}: ${open} allocated and not yet shipped`, {
            sku_id: line.sku_id,
            warehouse_id: line.warehouse_id,
            requested: line.quantity,
            outstanding: open,
          });
        }
        let left = line.quantity;
        for (const leg of candidates) {
          const n = Math.min(left, outstanding(leg));
          if (n === 0) continue;
          leg.shipped += n;
          left -= n;
          changes.push({ sku_id: leg.sku_id, warehouse_id: leg.warehouse_id, change: { type: 'shipment', quantity: n }, cause: { reference: order.order_id, correlation_id: order.order_id } });
        }
      }
      // Only the warehouses this shipment takes units out of: a scoped clerk ships their part of a
      // split order (naming their warehouse_id), not the others'.
      assertInScope(deps.ctx, changes.map((c) => c.warehouse_id), 'shipping from them');
      const done = legs.every((leg) => outstanding(leg) === 0);
      return {
        next: { ...order, allocations: legs, status: done ? 'shipped' : 'partially_shipped', ...(done ? { shipped_at: now.toISOString() } : {}) },
        changes,
      };
    },
  });

const SWEEPER = 'system:hold-sweeper';

/**
 * The scheduled sweeper: every hold past its expiry, across tenants, is
 * released with `release` ledger rows, each as the system acting in the
 * hold's tenant. DynamoDB TTL is not used for this: it may act days late, and
 * a TTL delete would lose the reservation's undo. Idempotent and safe beside
 * a late confirm: both are conditional on the order's version, so exactly
 * one wins.
 */
export const expireHolds = async (db: Db, now: Date = new Date()): Promise<{ released: number; failed: number }> => {
  let released = 0;
  let failed = 0;
  const requestId = `sweep-${now.getTime()}`;
  for (const partition of keys.holdShards()) {
    for (const hold of await holdsDueIn(db, partition, now)) {
      const ctx = systemContext({ tenantId: hold.tenant_id, actor: SWEEPER, requestId, now: () => now });
      try {
        const after = await expireHold({ db, ctx }, hold.order_id);
        if (after.status === 'expired' && after.expired_at === now.toISOString()) released++;
      } catch (error) {
        failed++;
        log.error('hold release failed', { tenant_id: hold.tenant_id, order_id: hold.order_id, error: errorMessage(error) });
      }
    }
  }
  return { released, failed };
};
