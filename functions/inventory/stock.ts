import { encodeTime, monotonicFactory } from 'ulid';
import type { Db } from '../platform/db';
import { AppError } from '../platform/errors';
import { childIdempotency, claimKey, commitIdempotent, commitOptionsOf } from '../platform/idempotency';
import { keys } from '../platform/keys';
import type { TransactItem } from '../platform/transactions';
import type { RequestContext } from '../platform/http';
import { emptyLevel, type Movement, type Quantities, type StockLevel } from './model';
import type { StockChange, TransferInput } from './schemas';
import { applyChange, checkExpectations, type LevelChange, type Thresholds } from './stock-rules';
import { getItem, getLevel, levelIncrement, levelPut, levelsReturnedBy, movementPut, queryAll, queryPage, requireSku, requireWarehouse, type Page } from './store';

/** Sortable by time within a process even for movements in the same millisecond. */
const nextMovementId = monotonicFactory();

/** The dependencies and identity every stock operation runs with. */
export interface StockDeps {
  db: Db;
  ctx: RequestContext;
}

/** A level as stored, or the empty level once the SKU and warehouse are known to exist (404 otherwise). */
const readLevel = async ({ db, ctx }: StockDeps, skuId: string, warehouseId: string): Promise<StockLevel> => {
  const tenantId = ctx.caller.tenantId;
  const level = await getLevel(db, tenantId, skuId, warehouseId);
  if (level) return level;
  // A level exists only for a SKU and warehouse that existed when it was made, so these reads
  // are needed only before the first movement.
  const [, , inherited] = await Promise.all([
    requireSku(db, tenantId, skuId),
    requireWarehouse(db, tenantId, warehouseId),
    // A new level starts with the SKU's default thresholds, if it has any.
    getItem<Thresholds>(db, keys.thresholdDefault(tenantId, skuId)),
  ]);
  const empty = emptyLevel(skuId, warehouseId);
  if (!inherited) return empty;
  return {
    ...empty,
    reorder_point: inherited.reorder_point,
    safety_stock: inherited.safety_stock,
    ...(inherited.reorder_quantity === undefined ? {} : { reorder_quantity: inherited.reorder_quantity }),
    thresholds_from: 'sku_default',
  };
};

export interface MovementCause {
  reason?: string;
  reference?: string;
  note?: string;
  correlation_id?: string;
  unit_cost?: string;
  currency?: string;
}

/** Ledger row of one applied change. Its id carries the same instant as created_at. */
const movementOf = (
  after: StockLevel,
  type: Movement['type'],
  deltas: Quantities,
  cause: MovementCause,
  actor: string,
  at: Date,
): Movement => ({
  movement_id: nextMovementId(at.getTime()),
  sku_id: after.sku_id,
  warehouse_id: after.warehouse_id,
  type,
  deltas,
  resulting: { on_hand: after.on_hand, reserved: after.reserved, available: after.available, incoming: after.incoming },
  version: after.version,
  ...cause,
  actor,
  created_at: at.toISOString(),
});

export const levelKey = (skuId: string, warehouseId: string): string => `${skuId}\u0000${warehouseId}`;

/**
 * Applies changes in order to the levels they touch (each level read once)
 * and returns the writes: one conditional put per level touched and one ledger
 * row per change. Throws the first change's refusal, tagged with its index.
 */
export interface PlannedChange {
  sku_id: string;
  warehouse_id: string;
  change: LevelChange;
  cause: MovementCause;
  expected?: StockChange;
}

export const planChanges = async (
  deps: StockDeps,
  changes: PlannedChange[],
  options: {
    /** Prefix refusals with the change's index (batches). */
    tagIndex?: boolean;
    /** Levels already read in this attempt, or returned by the last cancelled one: not read again. */
    known?: StockLevel[];
  } = {},
): Promise<{ items: TransactItem[]; levels: StockLevel[] }> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  const at = ctx.now();
  const now = at.toISOString();
  const distinct = [...new Map(changes.map((c) => [levelKey(c.sku_id, c.warehouse_id), c])).values()];
  const returned = new Map((options.known ?? []).map((l) => [levelKey(l.sku_id, l.warehouse_id), l]));
  const read = await Promise.all(
    distinct.map((c) => returned.get(levelKey(c.sku_id, c.warehouse_id)) ?? readLevel(deps, c.sku_id, c.warehouse_id)),
  );
  const original = new Map(read.map((level) => [levelKey(level.sku_id, level.warehouse_id), level]));
  const current = new Map(original);
  const movements: Movement[] = [];
  const results: StockLevel[] = [];
  changes.forEach((c, index) => {
    const key = levelKey(c.sku_id, c.warehouse_id);
    const before = current.get(key) as StockLevel;
    try {
      if (c.expected) checkExpectations(before, c.expected);
      const { level, deltas } = applyChange(before, c.change, now);
      current.set(key, level);
      results.push(level);
      movements.push(movementOf(level, c.change.type, deltas, c.cause, ctx.caller.subject, at));
    } catch (error) {
      if (options.tagIndex && error instanceof AppError) {
        throw new AppError(error.code, `update ${index}: ${error.message}`, { index, ...(error.details as object) });
      }
      throw error;
    }
  });
  const items = [
    ...[...current.entries()].map(([key, after]) => levelPut(db, tenantId, original.get(key) as StockLevel, after)),
    ...movements.map((m) => movementPut(db, tenantId, m)),
  ];
  return { items, levels: results };
};

/** The order-driven changes, which move units between available and reserved or out of the building. */
export type ReservationChange = PlannedChange & { change: { type: 'allocation' | 'release' | 'shipment'; quantity: number } };

const reservationEffect = (change: ReservationChange['change']): { deltas: Quantities; guard: { attribute: 'available' | 'reserved'; atLeast: number } } => {
  const n = change.quantity;
  switch (change.type) {
    case 'allocation':
      return { deltas: { on_hand: 0, reserved: n, available: -n, incoming: 0 }, guard: { attribute: 'available', atLeast: n } };
    case 'release':
      return { deltas: { on_hand: 0, reserved: -n, available: n, incoming: 0 }, guard: { attribute: 'reserved', atLeast: n } };
    case 'shipment':
      // on_hand >= reserved always holds, so enough reserved means enough on hand.
      return { deltas: { on_hand: -n, reserved: -n, available: 0, incoming: 0 }, guard: { attribute: 'reserved', atLeast: n } };
  }
};

/**
 * Writes for reservation changes: per change, a conditional increment of the
 * level and a ledger row with its deltas, in the caller's transaction. Unlike
 * planChanges nothing is read and no version is compared, which is what lets
 * a flash sale's orders commit side by side instead of retrying one another;
 * the price is that these rows do not record the level's resulting quantities
 * (the level's stream images and StockLevelChanged events do).
 */
export const reservationWrites = (deps: StockDeps, changes: ReservationChange[]): TransactItem[] => {
  const { db, ctx } = deps;
  const at = ctx.now();
  return changes.flatMap((c) => {
    const { deltas, guard } = reservationEffect(c.change);
    const movement: Movement = {
      movement_id: nextMovementId(at.getTime()),
      sku_id: c.sku_id,
      warehouse_id: c.warehouse_id,
      type: c.change.type,
      deltas,
      ...c.cause,
      actor: ctx.caller.subject,
      created_at: at.toISOString(),
    };
    return [
      levelIncrement(db, ctx.caller.tenantId, c, deltas, guard, movement.movement_id, at.toISOString()),
      movementPut(db, ctx.caller.tenantId, movement),
    ];
  });
};

const causeOf = (input: StockChange): MovementCause => ({
  reason: input.reason,
  reference: input.reference,
  note: input.note,
});

const asPlanned = (input: StockChange) => ({
  sku_id: input.sku_id,
  warehouse_id: input.warehouse_id,
  change: { type: input.transaction_type, quantity: input.quantity },
  cause: causeOf(input),
  expected: input,
});

/** POST /api/inventory/update: one change to one level, its ledger row, atomically. */
export const updateStock = (deps: StockDeps, input: StockChange, idempotency = deps.ctx.idempotency): Promise<StockLevel> =>
  commitIdempotent(deps.db, commitOptionsOf(deps.ctx, idempotency), async (_attempt, lastCancelled) => {
    const { items, levels } = await planChanges(deps, [asPlanned(input)], { known: levelsReturnedBy(lastCancelled) });
    return { items, result: levels[0] as StockLevel };
  });

export interface TransferResult {
  transfer_id: string;
  from: StockLevel;
  to: StockLevel;
}

/** POST /api/inventory/transfer: out of one warehouse and into another in one transaction, two ledger rows. */
export const transferStock = (deps: StockDeps, input: TransferInput): Promise<TransferResult> => {
  const transferId = nextMovementId();
  const cause = { reference: input.reference, note: input.note, correlation_id: transferId };
  return commitIdempotent(deps.db, commitOptionsOf(deps.ctx), async (_attempt, lastCancelled) => {
    const { items, levels } = await planChanges(
      deps,
      [
        { sku_id: input.sku_id, warehouse_id: input.from_warehouse_id, change: { type: 'transfer_out', quantity: input.quantity }, cause },
        { sku_id: input.sku_id, warehouse_id: input.to_warehouse_id, change: { type: 'transfer_in', quantity: input.quantity }, cause },
      ],
      { known: levelsReturnedBy(lastCancelled) },
    );
    return { items, result: { transfer_id: transferId, from: levels[0] as StockLevel, to: levels[1] as StockLevel } };
  });
};

export type BulkItemResult =
  | { index: number; status: 'applied'; level: StockLevel }
  | { index: number; status: 'rejected'; error: { code: string; message: string; details?: unknown } };

export interface BulkResult {
  atomic: boolean;
  applied: number;
  rejected: number;
  results: BulkItemResult[];
}

/** All or nothing: every update in one TransactWriteItems, or the first refusal and nothing written. */
const bulkAtomic = (deps: StockDeps, updates: StockChange[]): Promise<BulkResult> => {
  const batchId = nextMovementId();
  return commitIdempotent(deps.db, commitOptionsOf(deps.ctx), async (_attempt, lastCancelled) => {
    const planned = updates.map((u) => ({ ...asPlanned(u), cause: { ...causeOf(u), correlation_id: batchId } }));
    const { items, levels } = await planChanges(deps, planned, { tagIndex: true, known: levelsReturnedBy(lastCancelled) });
    return {
      items,
      result: {
        atomic: true,
        applied: levels.length,
        rejected: 0,
        results: levels.map((level, index) => ({ index, status: 'applied' as const, level })),
      },
    };
  });
};

/** How many level groups are written at once; updates to the same level stay in request order. */
const BULK_CONCURRENCY = 8;

/**
 * Independent updates: each is its own transaction with its own idempotency
 * record (the request key plus the index), so a retried batch replays what
 * was applied and retries only what was not. Every update gets a result.
 */
const bulkIndependent = async (deps: StockDeps, updates: StockChange[]): Promise<BulkResult> => {
  const { ctx, db } = deps;
  if (ctx.idempotency) await claimKey(db, ctx.caller.tenantId, ctx.idempotency, ctx.now());
  const groups = new Map<string, number[]>();
  updates.forEach((u, index) => {
    const key = levelKey(u.sku_id, u.warehouse_id);
    groups.set(key, [...(groups.get(key) ?? []), index]);
  });
  const results: BulkItemResult[] = new Array(updates.length);
  const queue = [...groups.values()];
  const worker = async (): Promise<void> => {
    for (let group = queue.shift(); group; group = queue.shift()) {
      for (const index of group) {
        const update = updates[index] as StockChange;
        try {
          const level = await updateStock(deps, update, childIdempotency(ctx.idempotency, index, update));
          results[index] = { index, status: 'applied', level };
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          results[index] = {
            index,
            status: 'rejected',
            error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) },
          };
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, queue.length) }, worker));
  const applied = results.filter((r) => r.status === 'applied').length;
  return { atomic: false, applied, rejected: results.length - applied, results };
};

export const bulkUpdate = (deps: StockDeps, input: { atomic: boolean; updates: StockChange[] }): Promise<BulkResult> =>
  input.atomic ? bulkAtomic(deps, input.updates) : bulkIndependent(deps, input.updates);

export interface SkuInventory {
  sku_id: string;
  levels: StockLevel[];
  totals: Quantities;
  last_updated: string | null;
}

/** GET /api/inventory/sku/{sku_id}: every warehouse's level and the totals. */
export const getSkuInventory = async ({ db, ctx }: StockDeps, skuId: string): Promise<SkuInventory> => {
  const tenantId = ctx.caller.tenantId;
  const [levels] = await Promise.all([
    queryAll<StockLevel>(db, keys.stockLevelsOfSku(tenantId, skuId)),
    requireSku(db, tenantId, skuId),
  ]);
  const totals = levels.reduce<Quantities>(
    (sum, l) => ({
      on_hand: sum.on_hand + l.on_hand,
      reserved: sum.reserved + l.reserved,
      available: sum.available + l.available,
      incoming: sum.incoming + l.incoming,
    }),
    { on_hand: 0, reserved: 0, available: 0, incoming: 0 },
  );
  const last_updated = levels.reduce<string | null>(
    (latest, l) => (l.updated_at && (!latest || l.updated_at > latest) ? l.updated_at : latest),
    null,
  );
  return { sku_id: skuId, levels, totals, last_updated };
};

/** ULID bounds for a time range: movement ids sort by the instant they were made. */
const idRange = (from?: string, to?: string): [string, string] => [
  `${encodeTime(from ? Date.parse(from) : 0, 10)}${'0'.repeat(16)}`,
  `${encodeTime(to ? Date.parse(to) : 2 ** 48 - 1, 10)}${'Z'.repeat(16)}`,
];

export interface MovementsPage {
  movements: Movement[];
  next_cursor: string | null;
}

/** GET /api/inventory/sku/{sku_id}/movements: the ledger, newest first. */
export const listMovements = async (
  { db, ctx }: StockDeps,
  skuId: string,
  query: { warehouse_id?: string; from?: string; to?: string; cursor?: string; limit?: number },
): Promise<MovementsPage> => {
  const tenantId = ctx.caller.tenantId;
  await requireSku(db, tenantId, skuId);
  const common = { sortBetween: idRange(query.from, query.to), newestFirst: true, cursor: query.cursor, limit: query.limit };
  const page: Page<Movement> = query.warehouse_id
    ? await queryPage<Movement>(db, {
        ...common,
        index: 'gsi1',
        partition: keys.movementsOfSkuInWarehouseIndex(tenantId, skuId, query.warehouse_id),
      })
    : await queryPage<Movement>(db, { ...common, partition: keys.movementsOfSku(tenantId, skuId) });
  return { movements: page.items, next_cursor: page.next_cursor };
};
