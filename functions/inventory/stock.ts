import { countMetric, METRIC_NAMES } from '../platform/metrics';
import { encodeTime, monotonicFactory } from 'ulid';
import { isBreached } from '../alerts/rules';
import type { Deps } from '../platform/context';
import { AppError, errorBody, errorMessage, type ErrorBody } from '../platform/errors';
import { log } from '../platform/log';
import { transactWrite, type TransactionCancelled } from '../platform/transactions';
import { childIdempotency, claimKey, commitIdempotent, type Idempotency } from '../platform/idempotency';
import { keys } from '../platform/keys';
import { DEFAULT_PAGE_SIZE, queryDigest, unwrapCursor, wrapCursor } from '../platform/pagination';
import { mapBounded } from '../platform/pool';
import { batchGet, getItem, queryAll, queryPage } from '../platform/storage';
import { assertInScope, inScope, scopeFilter, SCOPED_LIST_READS } from '../platform/warehouse-scope';
import type { Write } from '../platform/writes';
import { findSku, listSkus, requireSku, requireWarehouse } from './catalog';
import { emptyLevel, type Movement, type MovementCause, type Quantities, type Sku, type StockLevel } from './model';
import { LEVEL_LIST_READS, MAX_SUB_LEVEL_COUNT, type LevelStatus, type ListLevelsQuery, type StockChange, type SubLevelsInput, type TransferInput } from './schemas';
import {
  applyChange,
  checkExpectations,
  incrementEffect,
  isIncrement,
  isStockOut,
  refusalFor,
  type IncrementType,
  type LevelChange,
  type ReservationType,
} from './stock-rules';
import {
  AVAILABILITY_PROJECTION,
  decodeLevel,
  decodeAvailability,
  decodeMovement,
  decodeThresholdDefault,
  getLevel,
  getLevelsOfSku,
  levelIncrement,
  levelPut,
  levelWriteName,
  movementPut,
  partMove,
  returnedLevels,
  getSplitLevel,
  STOCK_LEVEL,
  STOCK_SUB_LEVEL,
  subLevelDelete,
  subLevelIncrement,
  subLevelPut,
  subLevelUnchanged,
  type LevelAvailability,
  type StoredSubLevel,
} from './store';
import {
  distribute,
  isSplit,
  isUneven,
  rebalanceMoves,
  knownParts,
  MAX_SUB_LEVELS,
  partsOf,
  rememberParts,
  spread,
  subLevelCount,
  summed,
  type Part,
  type PartChange,
  type Split,
} from './sub-levels';

/** Sortable by time within a process even for movements in the same millisecond. */
const nextMovementId = monotonicFactory();

/** A level as read: the sum of its parts, and the parts as stored when it is split into sub-levels. */
interface LevelRead {
  level: StockLevel;
  split?: Split;
}

/** A stored level item read whole: as it is, or, when split, summed with its sub-levels (read strongly consistent). */
const completed = async (deps: Deps, header: StockLevel): Promise<LevelRead> => {
  if (!isSplit(header)) return { level: header };
  const tenantId = deps.ctx.caller.tenantId;
  // Read again with its parts as of one instant: the header in hand may be older than them.
  const split = await getSplitLevel(deps.db, tenantId, header, subLevelCount(header));
  if (!split) throw new Error(`level ${header.sku_id} @ ${header.warehouse_id} was read but is gone`);
  if (!isSplit(split.header)) return { level: split.header };
  rememberParts(tenantId, header, partsOf(split));
  return { level: summed(split), split };
};

/** Stored level items, each summed with its sub-levels when split. */
const completedAll = (deps: Deps, headers: StockLevel[]): Promise<StockLevel[]> =>
  Promise.all(headers.map(async (h) => (isSplit(h) ? (await completed(deps, h)).level : h)));

/** A level as stored (summed), or the empty level once the SKU and warehouse are known to exist (404 otherwise). */
const readLevel = async (deps: Deps, skuId: string, warehouseId: string): Promise<LevelRead> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  const level = await getLevel(db, tenantId, skuId, warehouseId);
  if (level) return completed(deps, level);
  // A level exists only for a SKU and warehouse that existed when it was made, so these reads
  // are needed only before the first movement.
  const [, , inherited] = await Promise.all([
    requireSku(deps, skuId),
    requireWarehouse(deps, warehouseId),
    // A new level starts with the SKU's default thresholds, if it has any.
    getItem(db, keys.thresholdDefault(tenantId, skuId), decodeThresholdDefault),
  ]);
  const empty = emptyLevel(skuId, warehouseId);
  if (!inherited) return { level: empty };
  return {
    level: {
      ...empty,
      reorder_point: inherited.reorder_point,
      safety_stock: inherited.safety_stock,
      ...(inherited.reorder_quantity === undefined ? {} : { reorder_quantity: inherited.reorder_quantity }),
      thresholds_from: 'sku_default',
    },
  };
};

export type { LevelAvailability, MovementCause };

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

/** A batch's refusal says which update it was. */
const taggedWithIndex = (error: AppError, index: number): AppError => {
  const details = typeof error.details === 'object' && error.details !== null ? error.details : {};
  return new AppError(error.code, `update ${index}: ${error.message}`, { index, ...details });
};

/** Every level a plan touches was read before it is applied; a miss is a bug, never an empty level. */
const readLevelOf = (levels: Map<string, StockLevel>, key: string): StockLevel => {
  const level = levels.get(key);
  if (!level) throw new Error(`planChanges: level ${key} was not read`);
  return level;
};

export const planChanges = async (
  deps: Deps,
  changes: PlannedChange[],
  options: {
    /** Prefix refusals with the change's index (batches). */
    tagIndex?: boolean;
    /** Levels already read in this attempt, or returned by the last cancelled one: not read again. */
    known?: StockLevel[];
  } = {},
): Promise<{ writes: Write[]; levels: StockLevel[] }> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  const at = ctx.now();
  const now = at.toISOString();
  const distinct = [...new Map(changes.map((c) => [levelKey(c.sku_id, c.warehouse_id), c])).values()];
  // A split level known only by its sum is read again: its writes need its parts as stored.
  const returned = new Map((options.known ?? []).filter((l) => !isSplit(l)).map((l) => [levelKey(l.sku_id, l.warehouse_id), l]));
  const read = await Promise.all(
    distinct.map(async (c): Promise<LevelRead> => {
      const known = returned.get(levelKey(c.sku_id, c.warehouse_id));
      return known ? { level: known } : readLevel(deps, c.sku_id, c.warehouse_id);
    }),
  );
  const splits = new Map(read.flatMap((r) => (r.split ? [[levelKey(r.level.sku_id, r.level.warehouse_id), r.split] as const] : [])));
  const original = new Map(read.map(({ level }) => [levelKey(level.sku_id, level.warehouse_id), level]));
  const current = new Map(original);
  const movements: Movement[] = [];
  const results: StockLevel[] = [];
  changes.forEach((c, index) => {
    const key = levelKey(c.sku_id, c.warehouse_id);
    const before = readLevelOf(current, key);
    try {
      if (c.expected) checkExpectations(before, c.expected);
      const { level: applied, deltas } = applyChange(before, c.change, now);
      const movement = movementOf(applied, c.change.type, deltas, c.cause, ctx.caller.subject, at);
      const level = { ...applied, last_movement_id: movement.movement_id };
      current.set(key, level);
      results.push(level);
      movements.push(movement);
    } catch (error) {
      throw options.tagIndex && error instanceof AppError ? taggedWithIndex(error, index) : error;
    }
  });
  const writes = [
    ...[...current.entries()].flatMap(([key, after]) => {
      const split = splits.get(key);
      return split ? splitWrites(deps, split, after) : [levelPut(db, tenantId, readLevelOf(original, key), after)];
    }),
    ...movements.map((m) => movementPut(db, tenantId, m)),
  ];
  return { writes, levels: results };
};

/**
 * A split level written whole from its sum after a planned change (or with K
 * parts where it had split.subs.length + 1): the units spread evenly over the
 * parts, which rebalances them. Sub-level 0 is put on the version it was read
 * at, taking the level's version growth; the other parts are put (or checked,
 * when their share is unchanged) on theirs and keep their versions, so the
 * sum's version grows exactly as an unsplit level's would. That is safe
 * because every such write also writes sub-level 0 on its version: two of
 * them never both land, and a blind increment of a part in between changes
 * that part's version. Sub-levels beyond `count` are deleted, their units
 * spread over the rest.
 */
const splitWrites = (deps: Deps, split: Split, after: StockLevel, count = subLevelCount(split.header)): Write[] => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  const before = summed(split);
  const parts = distribute(after, count);
  const own = parts[0] ?? { on_hand: 0, reserved: 0, available: 0 };
  const header: StockLevel = {
    ...after,
    on_hand: own.on_hand,
    reserved: own.reserved,
    available: own.available,
    // Sub-levels taken away take their versions with them: sub-level 0 keeps them, so the sum's never goes back.
    version: split.header.version + Math.max(1, after.version - before.version) + split.subs.filter((s) => s.sub_level >= count).reduce((n, s) => n + s.version, 0),
  };
  const { sub_levels: _previous, ...unsplit } = header;
  const generation = header.version;
  const stored = new Map(split.subs.map((s) => [s.sub_level, s]));
  const subWrites = parts.slice(1).map((part) => {
    const was = stored.get(part.index);
    if (was && was.on_hand === part.on_hand && was.reserved === part.reserved) return subLevelUnchanged(db, tenantId, was);
    const next: StoredSubLevel = {
      sku_id: after.sku_id,
      warehouse_id: after.warehouse_id,
      sub_level: part.index,
      generation: was?.generation ?? generation,
      on_hand: part.on_hand,
      reserved: part.reserved,
      available: part.available,
      version: was?.version ?? 0,
      updated_at: after.updated_at,
    };
    return subLevelPut(db, tenantId, was?.version ?? 0, next);
  });
  const removed = split.subs.filter((s) => s.sub_level >= count).map((s) => subLevelDelete(db, tenantId, s));
  return [levelPut(db, tenantId, split.header, count > 1 ? { ...header, sub_levels: count } : unsplit), ...subWrites, ...removed];
};

/** A change with fixed deltas (see incrementEffect): the level can take it without being read. */
export type IncrementChange = PlannedChange & { change: { type: IncrementType; quantity: number } };

/** The order-driven changes, which move units between available and reserved or out of the building. */
export type ReservationChange = PlannedChange & { change: { type: ReservationType; quantity: number } };

/**
 * Writes for increments: per change, a conditional increment of the level and
 * a ledger row with its deltas, in the caller's transaction. Unlike
 * planChanges nothing is read and no version is compared, which is what lets
 * a busy SKU's sales and a flash sale's orders commit side by side instead of
 * retrying one another; the price is that these rows do not record the
 * level's resulting quantities (the level's stream images and
 * StockLevelChanged events do). `refuse` explains a failed guard from the
 * level as it stands; undefined re-plans.
 */
const incrementWrites = (
  deps: Deps,
  changes: IncrementChange[],
  placed: PartChange[][],
  refuse: (level: StockLevel | undefined, index: number) => AppError | undefined,
): Write[] => {
  const { db, ctx } = deps;
  const at = ctx.now();
  return changes.flatMap((c, index) => {
    const effect = incrementEffect(c.change);
    const movement: Movement = {
      movement_id: nextMovementId(at.getTime()),
      sku_id: c.sku_id,
      warehouse_id: c.warehouse_id,
      type: c.change.type,
      deltas: effect.deltas,
      ...c.cause,
      actor: ctx.caller.subject,
      created_at: at.toISOString(),
    };
    // Sub-level 0 when the level is not split (or not known to be); else the parts `place` chose.
    const pieces = placed[index] ?? [{ index: 0, quantity: c.change.quantity }];
    return [
      ...pieces.map((piece) => {
        const partEffect = incrementEffect({ type: c.change.type, quantity: piece.quantity });
        return piece.index === 0
          ? levelIncrement(db, ctx.caller.tenantId, c, partEffect, movement.movement_id, at.toISOString(), (level) =>
              // Sub-level 0 of a split level short says nothing of the level: planned again from all its parts.
              level && isSplit(level) ? undefined : refuse(level, index),
            )
          : subLevelIncrement(db, ctx.caller.tenantId, c, piece.index, partEffect, at.toISOString());
      }),
      movementPut(db, ctx.caller.tenantId, movement),
    ];
  });
};

/** Did this cancelled attempt meet a split level (one of its parts, or sub-level 0 saying it is split)? */
const metSplitLevel = (cancelled: TransactionCancelled | undefined): boolean =>
  cancelled !== undefined && (cancelled.returned(STOCK_SUB_LEVEL).length > 0 || returnedLevels(cancelled.returned(STOCK_LEVEL)).some(isSplit));

/** A level's parts read now (undefined: not split, or no level yet), remembered for the next writer. */
const freshParts = async (deps: Deps, target: { sku_id: string; warehouse_id: string }): Promise<{ parts: Part[]; level: StockLevel } | undefined> => {
  const header = await getLevel(deps.db, deps.ctx.caller.tenantId, target.sku_id, target.warehouse_id);
  if (!header || !isSplit(header)) {
    if (header) rememberParts(deps.ctx.caller.tenantId, header, undefined);
    return undefined;
  }
  const { level, split } = await completed(deps, header);
  return split && { parts: partsOf(split), level };
};

/** Split levels a request found uneven (a part under half its even share), to rebalance once its change is in. */
const unevenLevels = new WeakMap<Deps['ctx'], Map<string, { sku_id: string; warehouse_id: string }>>();

const noteUneven = (deps: Deps, level: { sku_id: string; warehouse_id: string }): void => {
  const noted = unevenLevels.get(deps.ctx) ?? new Map<string, { sku_id: string; warehouse_id: string }>();
  noted.set(levelKey(level.sku_id, level.warehouse_id), { sku_id: level.sku_id, warehouse_id: level.warehouse_id });
  unevenLevels.set(deps.ctx, noted);
};

/**
 * The rebalancer: after a request's change is in, each split level it found
 * uneven is evened out with blind moves of available units between its parts
 * (rebalanceMoves), in one transaction and one attempt. Blind, so a flash
 * sale's writes do not cancel it the way they would a write on the versions
 * read; a part that ran short meanwhile cancels it, and the next request
 * that finds the level uneven tries again. Never the request's failure: its
 * change is already in. No unit enters or leaves the level, so no ledger row.
 */
const REBALANCE_SPACING_MS = 1_000;
const lastRebalance = new Map<string, number>();

export const rebalanceUneven = async (deps: Deps): Promise<void> => {
  const noted = unevenLevels.get(deps.ctx);
  if (!noted) return;
  unevenLevels.delete(deps.ctx);
  const tenantId = deps.ctx.caller.tenantId;
  for (const level of noted.values()) {
    // At most one rebalance of a level per container a second: each writes every part, which a flash sale needs for itself.
    const key = `${tenantId}\u0000${levelKey(level.sku_id, level.warehouse_id)}`;
    const last = lastRebalance.get(key);
    if (last !== undefined && Date.now() - last < REBALANCE_SPACING_MS) continue;
    lastRebalance.delete(key);
    lastRebalance.set(key, Date.now());
    if (lastRebalance.size > 10_000) lastRebalance.delete(lastRebalance.keys().next().value ?? key);
    try {
      const now = await freshParts(deps, level);
      const moves = now ? rebalanceMoves(now.parts) : [];
      if (!now || moves.length < 2) continue;
      const at = deps.ctx.now().toISOString();
      await transactWrite(deps.db, moves.map((m) => partMove(deps.db, tenantId, level, m.index, m.delta, at)));
      const moved = new Map(moves.map((m) => [m.index, m.delta]));
      rememberParts(
        tenantId,
        level,
        now.parts.map((p) => ({ ...p, on_hand: p.on_hand + (moved.get(p.index) ?? 0), available: p.available + (moved.get(p.index) ?? 0) })),
      );
    } catch (error) {
      log.info('sub-level rebalance skipped', { sku_id: level.sku_id, warehouse_id: level.warehouse_id, reason: errorMessage(error) });
    }
  }
};

/**
 * Where each increment goes: sub-level 0 of a level not known to be split;
 * for a split one, the parts chosen by spread() from what this container last
 * read of them, or read now (`fresh`: the last attempt met a split level, so
 * what was known is stale). When the parts as read now cannot cover a
 * change, the sum cannot either: `refuse` answers, or undefined leaves it on
 * sub-level 0 to fail and be planned again (an allocation, which the order
 * may take elsewhere).
 */
const place = async (
  deps: Deps,
  changes: IncrementChange[],
  fresh: boolean,
  refuse: (level: StockLevel, index: number) => AppError | undefined,
): Promise<PartChange[][]> => {
  const tenantId = deps.ctx.caller.tenantId;
  return Promise.all(
    changes.map(async (c, index) => {
      const remembered = fresh ? undefined : knownParts(tenantId, c);
      if (remembered) {
        const pieces = spread(remembered, c.change);
        if (pieces !== 'short') {
          if (isUneven(remembered)) noteUneven(deps, c);
          return pieces;
        }
      } else if (!fresh) {
        return [{ index: 0, quantity: c.change.quantity }];
      }
      const now = await freshParts(deps, c);
      if (!now) return [{ index: 0, quantity: c.change.quantity }];
      // A part was found short, or is about to be: even them out once this change is in.
      if (isUneven(now.parts)) noteUneven(deps, c);
      const pieces = spread(now.parts, c.change);
      if (pieces !== 'short') return pieces;
      const refused = refuse(now.level, index);
      if (refused) throw refused;
      return [{ index: 0, quantity: c.change.quantity }];
    }),
  );
};

/**
 * Reservation changes for an order's transaction. An allocation the level can
 * no longer cover is re-planned (the order may fit elsewhere); a release or
 * shipment the level cannot take means the books were already wrong: refused.
 */
export const reservationWrites = async (deps: Deps, changes: ReservationChange[], lastCancelled?: TransactionCancelled): Promise<Write[]> => {
  const placed = await place(deps, changes, metSplitLevel(lastCancelled), (level, index) => {
    const c = changes[index];
    return c && c.change.type !== 'allocation' ? refusalFor(level, c.change) : undefined;
  });
  return incrementWrites(deps, changes, placed, (level, index) => {
    const c = changes[index];
    if (!c || c.change.type === 'allocation') return undefined;
    if (!level) {
      return new AppError('CONFLICT', `no stock level of SKU '${c.sku_id}' in warehouse '${c.warehouse_id}': nothing is reserved there to ${c.change.type === 'release' ? 'release' : 'ship'}`, {
        sku_id: c.sku_id,
        warehouse_id: c.warehouse_id,
        requested: c.change.quantity,
      });
    }
    return refusalFor(level, c.change);
  });
};

const hasExpectation = (expected: StockChange | undefined): boolean =>
  expected?.expected_available !== undefined || expected?.expected_version !== undefined;

/**
 * The changes as increments, if all of them can be: fixed deltas, no
 * expectation to compare (that needs the level in hand), and each level
 * touched once (one transaction cannot write an item twice).
 */
const asIncrements = (changes: PlannedChange[]): IncrementChange[] | undefined => {
  const touched = new Set<string>();
  const increments: IncrementChange[] = [];
  for (const c of changes) {
    const { type, quantity } = c.change;
    const key = levelKey(c.sku_id, c.warehouse_id);
    if (!isIncrement(type) || hasExpectation(c.expected) || touched.has(key)) return undefined;
    touched.add(key);
    increments.push({ ...c, change: { type, quantity } });
  }
  return increments;
};

/**
 * What committed changes answer with: the level after each change, as
 * planned (compare-and-set), or for increments the levels to read back once
 * written, since nothing was read before. This is what the idempotency record
 * keeps, so a replay answers the same way.
 */
type Committed<E> = ({ levels: StockLevel[] } | { readBack: { sku_id: string; warehouse_id: string }[] }) & { extra: E };

/** Levels as they stand right after the commit (strongly consistent), in the order asked. */
const readBackLevels = async (deps: Deps, targets: { sku_id: string; warehouse_id: string }[]): Promise<StockLevel[]> => {
  const tenantId = deps.ctx.caller.tenantId;
  const [only, ...more] = targets;
  // One level (a sale, a restock) is a GetItem; a transfer or a batch one BatchGetItem.
  const read =
    only && more.length === 0
      ? [await getItem(deps.db, keys.stockLevel(tenantId, only.sku_id, only.warehouse_id), decodeLevel)]
      : await batchGet(deps.db, targets.map((t) => keys.stockLevel(tenantId, t.sku_id, t.warehouse_id)), decodeLevel);
  const levels = await completedAll(deps, read.flatMap((l) => (l ? [l] : [])));
  const byKey = new Map(levels.map((l) => [levelKey(l.sku_id, l.warehouse_id), l] as const));
  return targets.map((t) => {
    const level = byKey.get(levelKey(t.sku_id, t.warehouse_id));
    if (!level) throw new Error(`level ${t.sku_id} @ ${t.warehouse_id} was written but cannot be read back`);
    return level;
  });
};

/**
 * Commits changes to stock levels with their ledger rows and the idempotency
 * record, atomically, and answers with the level after each change. Changes
 * without an expectation are conditional increments: no read, no version
 * compared, so a busy level's sales never retry one another, and the answer is
 * the level read back after the commit (it includes this change and perhaps
 * later ones). `extra` is kept with the answer, so a replay returns the
 * original (e.g. a transfer's id). A change with `expected_version` or `expected_available`, a
 * count (an absolute value) and a level's first movement (written whole, with
 * the SKU's default thresholds) are planned from the level in hand and land
 * only on the version they were planned from.
 */
const commitChanges = async <E = undefined>(
  deps: Deps,
  changes: PlannedChange[],
  options: { tagIndex?: boolean; idempotency?: Idempotency; extra?: E } = {},
): Promise<{ levels: StockLevel[]; extra: E | undefined }> => {
  const increments = asIncrements(changes);
  const { extra } = options;
  const committed = await commitIdempotent<Committed<E | undefined>>(
    deps,
    async (_attempt, lastCancelled) => {
      // A level that does not exist yet cannot be incremented: that attempt comes back here, and
      // the change is planned with a read, which creates the level (or says the SKU is unknown).
      const levelMissing = increments?.some((c) => lastCancelled?.missing(levelWriteName(c)));
      if (increments && !levelMissing) {
        // No level (undefined): planned again, with a read.
        const refuse = (level: StockLevel | undefined, index: number): AppError | undefined => {
          const c = increments[index];
          const refused = c && level && refusalFor(level, c.change);
          return refused && options.tagIndex ? taggedWithIndex(refused, index) : refused;
        };
        const readBack = increments.map(({ sku_id, warehouse_id }) => ({ sku_id, warehouse_id }));
        const placed = await place(deps, increments, metSplitLevel(lastCancelled), (level, index) => refuse(level, index));
        return { writes: incrementWrites(deps, increments, placed, refuse), result: { readBack, extra } };
      }
      const { writes, levels } = await planChanges(deps, changes, { tagIndex: options.tagIndex, known: levelsReturnedBy(lastCancelled) });
      return { writes, result: { levels, extra } };
    },
    options.idempotency ?? deps.ctx.idempotency,
  );
  countMetric(METRIC_NAMES.stockUpdates, changes.length);
  await rebalanceUneven(deps);
  const levels = 'levels' in committed ? committed.levels : await readBackLevels(deps, committed.readBack);
  return { levels, extra: committed.extra };
};

const causeOf = (input: StockChange): MovementCause => ({
  reason: input.reason,
  reference: input.reference,
  note: input.note,
});

const asPlanned = (input: StockChange): PlannedChange => ({
  sku_id: input.sku_id,
  warehouse_id: input.warehouse_id,
  change: { type: input.transaction_type, quantity: input.quantity },
  cause: causeOf(input),
  expected: input,
});

/** POST /api/inventory/update: one change to one level, its ledger row, atomically. */
export const updateStock = async (deps: Deps, input: StockChange, idempotency = deps.ctx.idempotency): Promise<StockLevel> => {
  assertInScope(deps.ctx, [input.warehouse_id], `a ${input.transaction_type}`);
  const {
    levels: [level],
  } = await commitChanges(deps, [asPlanned(input)], { idempotency });
  if (!level) throw new Error('commitChanges returned no level for one change');
  return level;
};

export interface TransferResult {
  transfer_id: string;
  from: StockLevel;
  to: StockLevel;
}

/** POST /api/inventory/transfer: out of one warehouse and into another in one transaction, two ledger rows. */
export const transferStock = async (deps: Deps, input: TransferInput): Promise<TransferResult> => {
  // Both ends: a transfer takes units out of one warehouse and puts them into the other.
  assertInScope(deps.ctx, [input.from_warehouse_id, input.to_warehouse_id], 'a transfer');
  const transferId = nextMovementId();
  const cause = { reference: input.reference, note: input.note, correlation_id: transferId };
  const {
    levels: [from, to],
    extra,
  } = await commitChanges(
    deps,
    [
      { sku_id: input.sku_id, warehouse_id: input.from_warehouse_id, change: { type: 'transfer_out', quantity: input.quantity }, cause },
      { sku_id: input.sku_id, warehouse_id: input.to_warehouse_id, change: { type: 'transfer_in', quantity: input.quantity }, cause },
    ],
    // Kept with the answer: a replay names the transfer that was made, not a new id.
    { extra: { transfer_id: transferId } },
  );
  if (!from || !to || !extra) throw new Error('commitChanges returned fewer levels than changes');
  return { transfer_id: extra.transfer_id, from, to };
};

export type BulkItemResult =
  | { index: number; status: 'applied'; level: StockLevel }
  | { index: number; status: 'rejected'; error: ErrorBody['error'] };

export interface BulkResult {
  atomic: boolean;
  applied: number;
  rejected: number;
  results: BulkItemResult[];
}

/** All or nothing: every update in one TransactWriteItems, or the first refusal and nothing written. */
const bulkAtomic = async (deps: Deps, updates: StockChange[]): Promise<BulkResult> => {
  // All or nothing, so one update outside the caller's warehouses refuses the batch.
  assertInScope(deps.ctx, updates.map((u) => u.warehouse_id), 'an atomic bulk update');
  const batchId = nextMovementId();
  const planned = updates.map((u) => ({ ...asPlanned(u), cause: { ...causeOf(u), correlation_id: batchId } }));
  const { levels } = await commitChanges(deps, planned, { tagIndex: true });
  return {
    atomic: true,
    applied: levels.length,
    rejected: 0,
    results: levels.map((level, index) => ({ index, status: 'applied' as const, level })),
  };
};

/** How many level groups are written at once; updates to the same level stay in request order. */
const BULK_CONCURRENCY = 8;

/**
 * Independent updates: each is its own transaction (an update outside the caller's warehouses is
 * rejected on its own by updateStock, like any other refusal) with its own idempotency
 * record (the request key plus the index), so a retried batch replays what
 * was applied and retries only what was not. Every update gets a result.
 */
const bulkIndependent = async (deps: Deps, updates: StockChange[]): Promise<BulkResult> => {
  const { ctx } = deps;
  if (ctx.idempotency) await claimKey(deps, ctx.idempotency);
  const groups = new Map<string, { update: StockChange; index: number }[]>();
  updates.forEach((update, index) => {
    const key = levelKey(update.sku_id, update.warehouse_id);
    groups.set(key, [...(groups.get(key) ?? []), { update, index }]);
  });
  const applyOne = async ({ update, index }: { update: StockChange; index: number }): Promise<BulkItemResult> => {
    try {
      return { index, status: 'applied', level: await updateStock(deps, update, childIdempotency(ctx.idempotency, index, update)) };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return { index, status: 'rejected', error: errorBody(error).error };
    }
  };
  const perGroup = await mapBounded([...groups.values()], BULK_CONCURRENCY, async (group) => {
    const done: BulkItemResult[] = [];
    for (const item of group) done.push(await applyOne(item));
    return done;
  });
  const results = perGroup.flat().sort((a, b) => a.index - b.index);
  const applied = results.filter((r) => r.status === 'applied').length;
  return { atomic: false, applied, rejected: results.length - applied, results };
};

export const bulkUpdate = (deps: Deps, input: { atomic: boolean; updates: StockChange[] }): Promise<BulkResult> =>
  input.atomic ? bulkAtomic(deps, input.updates) : bulkIndependent(deps, input.updates);

export interface SkuInventory {
  sku_id: string;
  levels: StockLevel[];
  totals: Quantities;
  last_updated: string | null;
}

/** GET /api/inventory/sku/{sku_id}: every warehouse's level and the totals. */
export const getSkuInventory = async (deps: Deps, skuId: string): Promise<SkuInventory> => {
  // A scoped user sees (and totals) only the levels of their warehouses.
  const [all] = await Promise.all([levelsOfSku(deps, skuId), requireSku(deps, skuId)]);
  const levels = all.filter(inScope(deps.ctx));
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

export type LevelRow = StockLevel & { sku_name: string };

export interface LevelsPage {
  levels: LevelRow[];
  next_cursor: string | null;
}

/** SKUs whose levels are read at once (as the stock overview reads them). */
const SKU_CONCURRENCY = 8;

const byWarehouse = (a: StockLevel, b: StockLevel): number => (a.warehouse_id < b.warehouse_id ? -1 : a.warehouse_id > b.warehouse_id ? 1 : 0);

/** `q` of the level list: the SKU's id starts with it (ids are case-sensitive keys), or its name holds it in any case. */
const matchesSearch = (q: string) => {
  const needle = q.toLowerCase();
  return (sku: Sku): boolean => sku.sku_id.startsWith(q) || sku.name.toLowerCase().includes(needle);
};

const hasStatus = (status: LevelStatus) => (level: StockLevel): boolean =>
  status === 'stock_out' ? isStockOut(level) : status === 'below_reorder_point' ? isBreached(level) : true;

/**
 * GET /api/inventory/levels: every SKU's levels (the admin grid: SKU x warehouse), a page of SKUs at
 * a time. It pages through the catalogue with listSkus (sku_id order), keeps the SKUs `q` matches,
 * and reads their levels SKU_CONCURRENCY at a time (all of a SKU's, or the one GetItem of the asked
 * warehouse, as the stock overview does), keeping those in the caller's warehouses with the asked
 * status. `limit` counts SKUs with rows: a page reads on until it has that many, the catalogue ends,
 * or it has read LEVEL_LIST_READS pages of SKUs (then it returns what it has, with a cursor). Each
 * read asks only for the SKUs still missing, so the page never holds more than `limit` SKUs and the
 * cursor is always the SKU listing's own (wrapped: bound to this query's filters and scope).
 * A scoped user sees only their warehouses' levels; naming another warehouse is 403.
 */
export const listLevels = async (deps: Deps, query: ListLevelsQuery): Promise<LevelsPage> => {
  const { ctx } = deps;
  if (query.warehouse_id !== undefined) assertInScope(ctx, [query.warehouse_id], 'listing its stock levels');
  const status = query.status ?? 'all';
  const digest = queryDigest({ list: 'inventory levels', warehouse_id: query.warehouse_id ?? null, q: query.q ?? null, status, scope: scopeFilter(ctx) ?? null });
  let cursor = unwrapCursor(query.cursor, digest);
  if (query.warehouse_id !== undefined) await requireWarehouse(deps, query.warehouse_id);
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const search = query.q === undefined ? undefined : matchesSearch(query.q);
  const visible = inScope(ctx);
  const kept = hasStatus(status);
  const levelsOf = async (skuId: string): Promise<StockLevel[]> => {
    if (query.warehouse_id === undefined) return levelsOfSku(deps, skuId);
    const level = await findLevel(deps, skuId, query.warehouse_id);
    return level ? [level] : [];
  };
  const levels: LevelRow[] = [];
  let skusWithRows = 0;
  for (let reads = 0; reads < LEVEL_LIST_READS && skusWithRows < limit; reads++) {
    const page = await listSkus(deps, { cursor, limit: limit - skusWithRows });
    const skus = search ? page.skus.filter(search) : page.skus;
    const rows = await mapBounded(skus, SKU_CONCURRENCY, async (sku) =>
      (await levelsOf(sku.sku_id))
        .filter((level) => visible(level) && kept(level))
        .sort(byWarehouse)
        .map((level): LevelRow => ({ ...level, sku_name: sku.name })),
    );
    for (const ofSku of rows) {
      if (ofSku.length === 0) continue;
      skusWithRows++;
      levels.push(...ofSku);
    }
    cursor = page.next_cursor ?? undefined;
    if (cursor === undefined) break;
  }
  return { levels, next_cursor: wrapCursor(cursor ?? null, digest) };
};

/** ULID bounds for a time range: movement ids sort by the instant they were made. */
const idRange = (from?: number, to?: number): [string, string] => [
  `${encodeTime(from ?? 0, 10)}${'0'.repeat(16)}`,
  `${encodeTime(to ?? 2 ** 48 - 1, 10)}${'Z'.repeat(16)}`,
];

export interface MovementsPage {
  movements: Movement[];
  next_cursor: string | null;
}

/**
 * GET /api/inventory/sku/{sku_id}/movements: the ledger, newest first. A scoped user reads only
 * their warehouses' rows: asking for another warehouse is 403, and without a warehouse the query
 * filters on it (a page may then come back short, with a cursor to the rest).
 */
export const listMovements = async (
  deps: Deps,
  skuId: string,
  query: { warehouse_id?: string; from?: string; to?: string; cursor?: string; limit?: number },
): Promise<MovementsPage> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  if (query.warehouse_id) assertInScope(ctx, [query.warehouse_id], 'reading its ledger');
  const scoped = scopeFilter(ctx);
  await requireSku(deps, skuId);
  const sort = { between: idRange(query.from ? Date.parse(query.from) : undefined, query.to ? Date.parse(query.to) : undefined) };
  const common = { sort, newestFirst: true, cursor: query.cursor, limit: query.limit };
  const page = query.warehouse_id
    ? await queryPage(db, { ...common, index: 'gsi1', partition: keys.movementsOfSkuInWarehouseIndex(tenantId, skuId, query.warehouse_id) }, decodeMovement)
    : await queryPage(
        db,
        {
          ...common,
          partition: keys.movementsOfSku(tenantId, skuId),
          ...(scoped === undefined ? {} : { filter: scoped, maxReads: SCOPED_LIST_READS }),
        },
        decodeMovement,
      );
  return { movements: page.items, next_cursor: page.next_cursor };
};

// ---------- for other contexts ----------

/** A level as stored, or undefined if it never had a movement. */
export const findLevel = async (deps: Deps, skuId: string, warehouseId: string): Promise<StockLevel | undefined> => {
  const header = await getLevel(deps.db, deps.ctx.caller.tenantId, skuId, warehouseId);
  return header && (await completed(deps, header)).level;
};

/** Every level of one SKU (one per warehouse that ever held it), strongly consistent. */
export const levelsOfSku = async (deps: Deps, skuId: string): Promise<StockLevel[]> =>
  completedAll(deps, await getLevelsOfSku(deps.db, deps.ctx.caller.tenantId, skuId));

/**
 * The planner's stock for an order, in one strongly consistent BatchGetItem:
 * what each SKU has available in each of these warehouses (absent: never
 * stocked there), and which SKUs do not exist. A level exists only for a SKU
 * that did, so only a SKU with no level among them is looked up on its own.
 */
export const levelsForOrder = async (
  deps: Deps,
  skuIds: string[],
  warehouseIds: string[],
): Promise<{ levels: LevelAvailability[]; unknownSkus: string[] }> => {
  const tenantId = deps.ctx.caller.tenantId;
  const skus = [...new Set(skuIds)];
  const levelKeys = skus.flatMap((sku) => warehouseIds.map((wh) => keys.stockLevel(tenantId, sku, wh)));
  // Only what the planner reads comes back: less for DynamoDB to send and for this Lambda to decode.
  const projected = await batchGet(deps.db, levelKeys, decodeAvailability, { projection: AVAILABILITY_PROJECTION });
  // A split level's parts are read too (strongly consistent, remembered for the writes that follow).
  const levels = await Promise.all(
    projected.map(async (l) => {
      if (!isSplit(l)) return l;
      const now = await freshParts(deps, l);
      return now ? { sku_id: l.sku_id, warehouse_id: l.warehouse_id, available: now.level.available } : l;
    }),
  );
  const stocked = new Set(levels.map((l) => l.sku_id));
  const unstocked = skus.filter((sku) => !stocked.has(sku));
  const exists = await Promise.all(unstocked.map(async (sku) => (await findSku(deps, sku)) !== undefined));
  return { levels, unknownSkus: unstocked.filter((_, i) => !exists[i]) };
};

/** Stock levels a cancelled transaction returned (ALL_OLD): fresher than any earlier read. */
export const levelsReturnedBy = (cancelled: TransactionCancelled | undefined): StockLevel[] =>
  // A split level's item holds only its part: the caller reads every level again (the sums).
  !cancelled || metSplitLevel(cancelled) ? [] : returnedLevels(cancelled.returned(STOCK_LEVEL));

/** Units sold (sale rows) or shipped (shipment rows) from one level in the `windowDays` before `until`. */
export const unitsSold = async (deps: Deps, skuId: string, warehouseId: string, until: Date, windowDays: number): Promise<number> => {
  const from = until.getTime() - windowDays * 24 * 60 * 60 * 1000;
  const movements = await queryAll(
    deps.db,
    { index: 'gsi1', partition: keys.movementsOfSkuInWarehouseIndex(deps.ctx.caller.tenantId, skuId, warehouseId), sort: { between: idRange(from, until.getTime()) } },
    decodeMovement,
  );
  return movements.reduce((sold, m) => (m.type === 'sale' || m.type === 'shipment' ? sold - m.deltas.on_hand : sold), 0);
};

export interface SubLevelsResult {
  level: StockLevel;
  sub_levels: Part[];
}

/**
 * POST /api/inventory/sub-levels: split a level into `count` sub-levels (1:
 * one item again), its units spread evenly over them, while it takes traffic:
 * one transaction on the versions read, so a change landing in between makes
 * it read and spread again. The same count again rebalances. No unit moves,
 * so no ledger row; the level's version grows by one.
 */
export const setSubLevels = async (deps: Deps, input: SubLevelsInput): Promise<SubLevelsResult> => {
  assertInScope(deps.ctx, [input.warehouse_id], 'splitting its stock level');
  if (MAX_SUB_LEVELS !== MAX_SUB_LEVEL_COUNT) throw new Error('MAX_SUB_LEVELS and MAX_SUB_LEVEL_COUNT disagree');
  const result = await commitIdempotent<SubLevelsResult>(deps, async () => {
    const { level, split } = await readLevel(deps, input.sku_id, input.warehouse_id);
    const after: StockLevel = { ...level, version: level.version + 1, updated_at: deps.ctx.now().toISOString() };
    const writes = splitWrites(deps, split ?? { header: level, subs: [] }, after, input.count);
    const { sub_levels: _k, ...unsplit } = after;
    return {
      writes,
      result: { level: input.count > 1 ? { ...after, sub_levels: input.count } : unsplit, sub_levels: distribute(after, input.count) },
    };
  });
  rememberParts(deps.ctx.caller.tenantId, result.level, result.sub_levels);
  return result;
};
