import * as z from 'zod';
import type { Db } from '../platform/db';
import type { AppError } from '../platform/errors';
import { keys, type Key } from '../platform/keys';
import { TABLE } from '../platform/table';
import { decodeWith, getItem, queryAll, StoredItemInvalid, transactGet, type Decoder, type StoredItem } from '../platform/storage';
import { checkItem, deleteItem, putItem, updateItem, when, type Write } from '../platform/writes';
import type { Movement, Product, Quantities, Sku, StockLevel, Warehouse } from './model';
import { MAX_SUB_LEVEL_COUNT, movementResponse, productResponse, skuResponse, stockLevelResponse, warehouseResponse } from './schemas';
import type { Guard } from './stock-rules';

/**
 * Inventory's own storage: how its entities are decoded and written. Private
 * to the context (lint refuses imports of it from elsewhere); other contexts
 * use the domain functions of catalog.ts and stock.ts.
 */

// Stored items are decoded with the schemas the API documents them with; fields a schema does not
// name pass through as they were written. The annotations make a
// schema that drifts from its model a type error.
export const decodeProduct: Decoder<Product> = decodeWith('product', productResponse.loose());
export const decodeSku: Decoder<Sku> = decodeWith('sku', skuResponse.loose());
export const decodeWarehouse: Decoder<Warehouse> = decodeWith('warehouse', warehouseResponse.loose());
export const decodeLevel: Decoder<StockLevel> = decodeWith('stock level', stockLevelResponse.loose());
export const decodeMovement: Decoder<Movement> = decodeWith('movement', movementResponse.loose());
export const decodeThresholdDefault = decodeWith(
  'threshold default',
  z.object({ reorder_point: z.number().int(), safety_stock: z.number().int(), reorder_quantity: z.number().int().optional() }),
);

/** A catalogue item read for its key alone (catalog.ts existingCatalogIds: does it exist?). */
export const decodeCatalogKey: Decoder<Key> = (item) => {
  const pk = item[TABLE.partitionKey];
  const sk = item[TABLE.sortKey];
  if (typeof pk !== 'string' || typeof sk !== 'string') throw new StoredItemInvalid('catalogue key', item, 'pk and sk must be strings');
  return { pk, sk };
};

export const STOCK_LEVEL = 'stock_level';

/** What an allocation plans from: how much of a SKU a warehouse can give. */
export type LevelAvailability = Pick<StockLevel, 'sku_id' | 'warehouse_id' | 'available' | 'sub_levels'>;

/** The attributes the planner reads of a level: all one projected BatchGetItem asks for. */
export const AVAILABILITY_PROJECTION = ['sku_id', 'warehouse_id', 'available', 'sub_levels'];

export const decodeAvailability: Decoder<LevelAvailability> = decodeWith(
  'stock level (projected)',
  z.object({ sku_id: z.string(), warehouse_id: z.string(), available: z.number().int(), sub_levels: z.number().int().optional() }),
);

export const getLevel = (db: Db, tenantId: string, skuId: string, warehouseId: string): Promise<StockLevel | undefined> =>
  getItem(db, keys.stockLevel(tenantId, skuId, warehouseId), decodeLevel);

export const getLevelsOfSku = (db: Db, tenantId: string, skuId: string): Promise<StockLevel[]> =>
  queryAll(db, { partition: keys.stockLevelsOfSku(tenantId, skuId) }, decodeLevel);


/** The name of a level's write in a transaction, to ask whether it was the one refused. */
export const levelWriteName = (level: { sku_id: string; warehouse_id: string }): string => `stock level ${level.sku_id} @ ${level.warehouse_id}`;

/**
 * A level written whole: the write lands only on the exact version this plan
 * was computed from (optimistic concurrency). On failure DynamoDB returns the
 * level as it now stands, so the retry plans without a read.
 */
export const levelPut = (db: Db, tenantId: string, before: StockLevel, after: StockLevel): Write =>
  putItem(db, {
    name: levelWriteName(after),
    key: keys.stockLevel(tenantId, after.sku_id, after.warehouse_id),
    entity: STOCK_LEVEL,
    tenantId,
    value: after,
    // Version 0 is a level that was never stored.
    when: when.newOrVersion(before.version === 0 ? undefined : before.version),
  });

/**
 * A change as arithmetic on the level, with no read: the condition is the
 * business rule itself (enough available to sell or reserve, enough reserved
 * to release or ship, room under the cap to receive), so concurrent changes
 * to one level never cancel each other; DynamoDB refuses only the ones the
 * stock cannot cover. The level must exist: its first movement is written
 * whole (levelPut), with the SKU's default thresholds. On a failed condition
 * `refuse` turns the level as it stands (undefined: there is none) into the
 * domain error, or undefined to plan the change again.
 */
export const levelIncrement = (
  db: Db,
  tenantId: string,
  target: { sku_id: string; warehouse_id: string },
  effect: { deltas: Quantities; guards: Guard[] },
  movementId: string,
  now: string,
  refuse: (current: StockLevel | undefined) => AppError | undefined,
): Write => {
  const { deltas, guards } = effect;
  return updateItem(db, {
    name: levelWriteName(target),
    key: keys.stockLevel(tenantId, target.sku_id, target.warehouse_id),
    add: { on_hand: deltas.on_hand, reserved: deltas.reserved, available: deltas.available, incoming: deltas.incoming, version: 1 },
    set: { updated_at: now, last_movement_id: movementId },
    when: when.and(
      when.exists(),
      ...guards.map((g) => (g.atLeast !== undefined ? when.atLeast(g.attribute, g.atLeast) : when.atMost(g.attribute, g.atMost))),
    ),
    onConditionFailed: (current) => refuse(current && decodeLevel(current)),
  });
};

export const movementPut = (db: Db, tenantId: string, movement: Movement): Write =>
  putItem(db, {
    name: `movement ${movement.movement_id}`,
    key: keys.movement(tenantId, movement.sku_id, movement.movement_id),
    index: keys.movementIndex(tenantId, movement.sku_id, movement.warehouse_id, movement.movement_id),
    entity: 'movement',
    tenantId,
    value: movement,
    when: when.absent(),
  });

/** Stock levels as a cancelled transaction returned them (ALL_OLD). */
export const returnedLevels = (items: StoredItem[]): StockLevel[] => items.map(decodeLevel);

// ---------- sub-levels (functions/inventory/sub-levels.ts) ----------

export const STOCK_SUB_LEVEL = 'stock_sub_level';

/** One sub-level (1..K-1) of a level split into K: its share of the level's units. Sub-level 0 is the level item. */
export interface StoredSubLevel {
  sku_id: string;
  warehouse_id: string;
  sub_level: number;
  /**
   * The level's version when this sub-level was made. A split undone and made again makes its
   * sub-levels anew from version 0, so events name a sub-level's change by generation and version.
   */
  generation: number;
  on_hand: number;
  reserved: number;
  available: number;
  version: number;
  updated_at: string | null;
}

export const decodeSubLevel: Decoder<StoredSubLevel> = decodeWith(
  'stock sub-level',
  z.object({
    sku_id: z.string(),
    warehouse_id: z.string(),
    sub_level: z.number().int().min(1),
    generation: z.number().int(),
    on_hand: z.number().int(),
    reserved: z.number().int(),
    available: z.number().int(),
    version: z.number().int(),
    updated_at: z.string().nullable(),
  }),
);

export const subLevelKey = (tenantId: string, level: { sku_id: string; warehouse_id: string }, index: number): Key =>
  keys.stockSubLevel(tenantId, level.sku_id, level.warehouse_id, index);

export const subLevelWriteName = (level: { sku_id: string; warehouse_id: string }, index: number): string =>
  `stock sub-level ${index} of ${level.sku_id} @ ${level.warehouse_id}`;

/**
 * A split level as of one instant: the level item and sub-levels 1..count-1
 * in one TransactGetItems. Separate reads could sum parts of different
 * moments, and a change planned from such a sum would pass the parts'
 * version checks. When the level item says another count (it changed in
 * between), read again with that one; undefined when there is no level.
 */
export const getSplitLevel = async (
  db: Db,
  tenantId: string,
  level: { sku_id: string; warehouse_id: string },
  count: number,
): Promise<{ header: StockLevel; subs: StoredSubLevel[] } | undefined> => {
  for (let expected = count; ; ) {
    const [header, ...subs] = await transactGet(db, [
      keys.stockLevel(tenantId, level.sku_id, level.warehouse_id),
      ...Array.from({ length: expected - 1 }, (_, i) => subLevelKey(tenantId, level, i + 1)),
    ]);
    if (!header) return undefined;
    const decoded = decodeLevel(header);
    const actual = decoded.sub_levels ?? 1;
    if (actual === expected) {
      return {
        header: decoded,
        subs: subs.map((item, i) => {
          if (!item) throw new StoredItemInvalid('stock sub-level', { sub_level: i + 1, ...level }, `sub-level ${i + 1} of ${actual} is missing`);
          return decodeSubLevel(item);
        }),
      };
    }
    expected = Math.max(1, Math.min(actual, MAX_SUB_LEVEL_COUNT));
  }
};

/**
 * A blind increment of one sub-level, as levelIncrement is of the level: the business rule is the
 * condition. It must exist (a split that was undone deletes it: a writer that still thinks it is
 * there re-plans). A failed condition re-plans (undefined): one sub-level short says nothing of the
 * level, whose refusal is decided from the sum.
 */
export const subLevelIncrement = (
  db: Db,
  tenantId: string,
  target: { sku_id: string; warehouse_id: string },
  index: number,
  effect: { deltas: Quantities; guards: Guard[] },
  now: string,
): Write => {
  const { deltas, guards } = effect;
  return updateItem(db, {
    name: subLevelWriteName(target, index),
    key: subLevelKey(tenantId, target, index),
    add: { on_hand: deltas.on_hand, reserved: deltas.reserved, available: deltas.available, version: 1 },
    set: { updated_at: now },
    when: when.and(
      when.exists(),
      ...guards.map((g) => (g.atLeast !== undefined ? when.atLeast(g.attribute, g.atLeast) : when.atMost(g.attribute, g.atMost))),
    ),
    onConditionFailed: () => undefined,
  });
};

/** A sub-level written whole, on the version it was read at (0: it must not exist yet). */
export const subLevelPut = (db: Db, tenantId: string, previousVersion: number, after: StoredSubLevel): Write =>
  putItem(db, {
    name: subLevelWriteName(after, after.sub_level),
    key: subLevelKey(tenantId, after, after.sub_level),
    entity: STOCK_SUB_LEVEL,
    tenantId,
    value: after,
    when: when.newOrVersion(previousVersion === 0 ? undefined : previousVersion),
    onConditionFailed: () => undefined,
  });

/** "This sub-level is still at the version read": a plan over the sum holds only if no part moved. */
export const subLevelUnchanged = (db: Db, tenantId: string, part: StoredSubLevel): Write =>
  checkItem(db, {
    name: subLevelWriteName(part, part.sub_level),
    key: subLevelKey(tenantId, part, part.sub_level),
    when: when.versionIs(part.version),
    onConditionFailed: () => undefined,
  });

/** A sub-level taken away by a smaller split, on the version it was read at (its units were moved to sub-level 0). */
export const subLevelDelete = (db: Db, tenantId: string, part: StoredSubLevel): Write =>
  deleteItem(db, {
    name: subLevelWriteName(part, part.sub_level),
    key: subLevelKey(tenantId, part, part.sub_level),
    when: when.versionIs(part.version),
    onConditionFailed: () => undefined,
  });

/**
 * Units moved into (+) or out of (-) one part of a split level by a rebalance: available and on
 * hand together, blind like any increment, guarded so a part never goes below zero available.
 * It touches no ledger field: no unit enters or leaves the level.
 */
export const partMove = (db: Db, tenantId: string, target: { sku_id: string; warehouse_id: string }, index: number, delta: number, now: string): Write =>
  updateItem(db, {
    name: index === 0 ? levelWriteName(target) : subLevelWriteName(target, index),
    key: index === 0 ? keys.stockLevel(tenantId, target.sku_id, target.warehouse_id) : subLevelKey(tenantId, target, index),
    add: { on_hand: delta, available: delta, version: 1 },
    set: { updated_at: now },
    when: delta < 0 ? when.and(when.exists(), when.atLeast('available', -delta)) : when.exists(),
    onConditionFailed: () => undefined,
  });
