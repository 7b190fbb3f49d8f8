import type { Db } from '../platform/db';
import { AppError, notFound } from '../platform/errors';
import type { RequestContext } from '../platform/http';
import { commitIdempotent, commitOptionsOf } from '../platform/idempotency';
import { HOLD_SHARDS, keys } from '../platform/keys';
import { log } from '../platform/log';
import type { TransactionCancelled, TransactItem } from '../platform/transactions';
import type { StockLevel, Warehouse } from '../inventory/model';
import { levelKey, reservationWrites, type ReservationChange } from '../inventory/stock';
import { getItem, levelsReturnedBy, queryAll, queryIndexAll, requireSku } from '../inventory/store';
import { outstanding, type AllocationLeg, type Order } from './model';
import { planAllocation, type LineShortfall, type PlannedLine, type PlanResult } from './planner';
import { MAX_ALLOCATION_LEGS, type AllocateInput, type ShipInput } from './schemas';

export interface OrderDeps {
  db: Db;
  ctx: RequestContext;
}

const getOrder = (db: Db, tenantId: string, orderId: string) => getItem<Order>(db, keys.order(tenantId, orderId));

const requireOrder = async (db: Db, tenantId: string, orderId: string): Promise<Order> => {
  const order = await getOrder(db, tenantId, orderId);
  if (!order) throw notFound('order', orderId);
  return order;
};

/** The order record as a write: the hold index only while held, and guarded by the version it was read at. */
const orderPut = (db: Db, tenantId: string, order: Order, previousVersion?: number): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: {
      ...keys.order(tenantId, order.order_id),
      ...(order.status === 'held' && order.hold_expires_at ? keys.holdIndex(tenantId, order.order_id, order.hold_expires_at) : {}),
      entity: 'order',
      tenant_id: tenantId,
      ...order,
    },
    ...(previousVersion === undefined
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': previousVersion } }),
  },
});

interface Snapshot {
  warehouses: Warehouse[];
  levels: StockLevel[];
  available: (skuId: string, warehouseId: string) => number;
}

const snapshotOf = (warehouses: Warehouse[], levels: StockLevel[]): Snapshot => {
  const byKey = new Map(levels.map((l) => [levelKey(l.sku_id, l.warehouse_id), l]));
  return { warehouses, levels: [...byKey.values()], available: (sku, wh) => byKey.get(levelKey(sku, wh))?.available ?? 0 };
};

/** Every warehouse and every level of the order's SKUs, read strongly: the planner's view of the world. */
const readSnapshot = async (db: Db, tenantId: string, skuIds: string[]): Promise<Snapshot> => {
  const [warehouses, ...levelLists] = await Promise.all([
    queryAll<Warehouse>(db, keys.warehouse(tenantId, '').pk),
    ...skuIds.map((skuId) => queryAll<StockLevel>(db, keys.stockLevelsOfSku(tenantId, skuId))),
  ]);
  // A SKU with a level exists; one without might not, and an unknown SKU is a 404, not a shortfall.
  await Promise.all(skuIds.filter((_, i) => levelLists[i]!.length === 0).map((skuId) => requireSku(db, tenantId, skuId)));
  return snapshotOf(warehouses, levelLists.flat());
};

/**
 * The snapshot for a retry. A transaction cancelled on level versions hands back those
 * levels as they now stand (ALL_OLD), which is all that moved as far as this plan knew:
 * re-plan from them without reading anything. Otherwise (a TransactionConflict
 * returns no items) read everything again.
 */
const refreshSnapshot = async (db: Db, tenantId: string, skuIds: string[], previous: Snapshot | undefined, cancelled: TransactionCancelled | undefined): Promise<Snapshot> => {
  const returned = levelsReturnedBy(cancelled);
  if (!previous || returned.length === 0) return readSnapshot(db, tenantId, skuIds);
  return snapshotOf(previous.warehouses, [...previous.levels, ...returned]);
};

const planFor = (input: Omit<AllocateInput, 'order_id'>, snapshot: Snapshot): PlanResult =>
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
export const previewPlan = async ({ db, ctx }: OrderDeps, input: Omit<AllocateInput, 'order_id'>): Promise<PlanPreview> => {
  const snapshot = await readSnapshot(db, ctx.caller.tenantId, input.lines.map((l) => l.sku_id));
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
 * POST /api/orders/allocate: plan from a strongly consistent snapshot, then
 * reserve every leg and create the order in one transaction (each level
 * guarded by its version). If stock moved in between, the transaction is
 * cancelled and the next attempt re-reads and re-plans; an order is never
 * half-allocated. The same order_id again returns the existing order.
 */
export const allocateOrder = async (deps: OrderDeps, input: AllocateInput): Promise<Order> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  try {
    let snapshot: Snapshot | undefined;
    return await commitIdempotent(db, commitOptionsOf(ctx), async (_attempt, lastCancelled) => {
      snapshot = await refreshSnapshot(db, tenantId, input.lines.map((l) => l.sku_id), snapshot, lastCancelled);
      const plan = planFor(input, snapshot);
      if (!plan.ok) {
        // A repeated order_id is answered with the order, even once its stock is gone. Checked only
        // here: on the happy path the order record's attribute_not_exists condition catches it.
        if (await getOrder(db, tenantId, input.order_id)) throw new OrderExists(input.order_id);
        throw shortfallError(plan);
      }
      const legs: AllocationLeg[] = plan.lines.flatMap((line) =>
        line.allocations.map((a) => ({ sku_id: line.sku_id, warehouse_id: a.warehouse_id, quantity: a.quantity, shipped: 0, released: 0, distance_km: a.distance_km })),
      );
      if (legs.length > MAX_ALLOCATION_LEGS) {
        throw new AppError('VALIDATION_FAILED', `this order needs ${legs.length} warehouse allocations; at most ${MAX_ALLOCATION_LEGS} fit one atomic transaction: split the order or set allow_split to false`, {
          fields: [{ in: 'body', path: 'lines', message: `needs ${legs.length} allocations, at most ${MAX_ALLOCATION_LEGS}` }],
        });
      }
      const cause = { reference: input.order_id, correlation_id: input.order_id };
      const changes: ReservationChange[] = legs.map((leg) => ({ sku_id: leg.sku_id, warehouse_id: leg.warehouse_id, change: { type: 'allocation', quantity: leg.quantity }, cause }));
      const items = reservationWrites(deps, changes);
      const now = ctx.now();
      const held = input.hold_seconds !== undefined;
      const order: Order = {
        order_id: input.order_id,
        status: held ? 'held' : 'allocated',
        lines: input.lines,
        allocations: legs,
        shipments: plan.shipments,
        strategy: input.strategy,
        ship_to: input.ship_to,
        ...(held ? { hold_expires_at: new Date(now.getTime() + input.hold_seconds! * 1000).toISOString() } : {}),
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
        version: 1,
      };
      const orderIndex = items.length;
      return {
        items: [...items, orderPut(db, tenantId, order)],
        result: order,
        explainCancellation: (cancelled) => (cancelled.failedAt(orderIndex) ? new OrderExists(input.order_id) : undefined),
      };
    });
  } catch (error) {
    // A concurrent call with the same order_id won: return what it allocated.
    if (error instanceof OrderExists) return requireOrder(db, tenantId, input.order_id);
    throw error;
  }
};

/** GET /api/orders/status/{order_id} */
export const readOrder = ({ db, ctx }: OrderDeps, orderId: string): Promise<Order> => requireOrder(db, ctx.caller.tenantId, orderId);

const stateConflict = (order: Order, action: string): AppError =>
  new AppError('CONFLICT', `order '${order.order_id}' is ${order.status}: it cannot be ${action}`, { order_id: order.order_id, status: order.status });

/** One retrying read-decide-write cycle on an order (and the levels it touches). */
const changeOrder = (
  deps: OrderDeps,
  orderId: string,
  decide: (order: Order, now: Date) => { order: Order; changes: ReservationChange[] } | { unchanged: Order },
): Promise<Order> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  return commitIdempotent(db, commitOptionsOf(ctx), async () => {
    const current = await requireOrder(db, tenantId, orderId);
    const decided = decide(current, ctx.now());
    if ('unchanged' in decided) return { items: [], result: decided.unchanged };
    const items = reservationWrites(deps, decided.changes);
    const next = { ...decided.order, version: current.version + 1, updated_at: ctx.now().toISOString() };
    return { items: [...items, orderPut(db, tenantId, next, current.version)], result: next };
  });
};

const holdExpired = (order: Order, now: Date): boolean =>
  order.status === 'held' && order.hold_expires_at !== undefined && Date.parse(order.hold_expires_at) <= now.getTime();

/** POST /api/orders/{order_id}/confirm: a hold becomes a firm allocation, unless its time ran out first. */
export const confirmOrder = (deps: OrderDeps, orderId: string): Promise<Order> =>
  changeOrder(deps, orderId, (order, now) => {
    if (order.status !== 'held') {
      if (order.status === 'cancelled' || order.status === 'expired') throw stateConflict(order, 'confirmed');
      return { unchanged: order };
    }
    if (holdExpired(order, now)) {
      throw new AppError('CONFLICT', `the hold on order '${order.order_id}' expired at ${order.hold_expires_at}; its stock is being released`, {
        order_id: order.order_id,
        status: 'expired',
        hold_expires_at: order.hold_expires_at,
      });
    }
    const { hold_expires_at: _expired, ...firm } = order;
    return { order: { ...firm, status: 'allocated', confirmed_at: now.toISOString() }, changes: [] };
  });

const releaseAll = (order: Order, reason: 'cancelled' | 'expired', now: Date): { order: Order; changes: ReservationChange[] } => {
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
  return { order: released, changes };
};

/** POST /api/orders/{order_id}/cancel: every unit still reserved goes back, exactly once. */
export const cancelOrder = (deps: OrderDeps, orderId: string): Promise<Order> =>
  changeOrder(deps, orderId, (order, now) => {
    if (order.status === 'cancelled' || order.status === 'expired') return { unchanged: order };
    if (order.status === 'shipped') throw stateConflict(order, 'cancelled (everything has shipped)');
    return releaseAll(order, 'cancelled', now);
  });

/** The sweeper's release of one hold; a hold that was confirmed, cancelled or is not yet due stays as it is. */
export const expireHold = (deps: OrderDeps, orderId: string): Promise<Order> =>
  changeOrder(deps, orderId, (order, now) => (holdExpired(order, now) ? releaseAll(order, 'expired', now) : { unchanged: order }));

/** POST /api/orders/{order_id}/ship: reserved units leave; shipping more than is outstanding is refused whole. */
export const shipOrder = (deps: OrderDeps, orderId: string, input: ShipInput): Promise<Order> =>
  changeOrder(deps, orderId, (order, now) => {
    if (order.status === 'held') throw stateConflict(order, 'shipped before it is confirmed');
    if (order.status !== 'allocated' && order.status !== 'partially_shipped') throw stateConflict(order, 'shipped');
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
    const done = legs.every((leg) => outstanding(leg) === 0);
    return {
      order: { ...order, allocations: legs, status: done ? 'shipped' : 'partially_shipped', ...(done ? { shipped_at: now.toISOString() } : {}) },
      changes,
    };
  });

/**
 * The scheduled sweeper: every hold past its expiry, across tenants, is
 * released with `release` ledger rows. DynamoDB TTL is not used for this: it
 * may act days late, and a TTL delete would lose the reservation's undo.
 * Idempotent and safe beside a late confirm: both are conditional on the
 * order's version, so exactly one wins.
 */
export const expireHolds = async (db: Db, now: Date = new Date()): Promise<{ released: number; failed: number }> => {
  let released = 0;
  let failed = 0;
  for (let shard = 0; shard < HOLD_SHARDS; shard++) {
    for (const item of await queryIndexAll(db, { partition: `HOLDS#${shard}`, sortBelow: now.toISOString() })) {
      const tenantId = String(item.tenant_id);
      const orderId = String(item.order_id);
      const ctx: RequestContext = { caller: { tenantId, role: 'admin', subject: 'system:hold-sweeper' }, requestId: `sweep-${now.getTime()}`, now: () => now };
      try {
        const after = await expireHold({ db, ctx }, orderId);
        if (after.status === 'expired' && after.expired_at === now.toISOString()) released++;
      } catch (error) {
        failed++;
        log.error('hold release failed', { tenant_id: tenantId, order_id: orderId, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  return { released, failed };
};
