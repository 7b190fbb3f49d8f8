import type { Deps } from '../platform/context';
import { AppError } from '../platform/errors';
import { commitIdempotent } from '../platform/idempotency';
import { MAX_TRANSACTION_ITEMS } from '../platform/transactions';
import { assertInScope, assertUnscoped } from '../platform/warehouse-scope';
import { requireSku, requireWarehouse } from '../inventory/catalog';
import type { StockLevel } from '../inventory/model';
import { findLevel, levelsOfSku, planChanges, type PlannedChange } from '../inventory/stock';
import type { Thresholds } from '../inventory/stock-rules';
import type { ThresholdInput } from './schemas';
import { thresholdDefaultWrite } from './store';

/**
 * PUT /api/thresholds. A threshold on a SKU x warehouse is a change to its
 * stock level like any other: one `thresholds` ledger row (zero deltas, the
 * values in `note`) and a version bump, in one transaction. So the ledger
 * still reconciles (one row per version), and the level's stream record
 * becomes a StockLevelChanged that makes the alert consumer re-evaluate the
 * level at once. A SKU-level default (no warehouse_id) is its own item
 * (keys.thresholdDefault); writing it also moves every existing level of the
 * SKU that has no thresholds of its own, in the same transaction, and levels
 * created later start from it (functions/inventory/stock.ts).
 *
 * A PUT takes no Idempotency-Key: the same thresholds again change nothing
 * (no version bump, no ledger row), so a retried request is harmless.
 */
export interface ThresholdResult {
  sku_id: string;
  /** null for the SKU-level default. */
  warehouse_id: string | null;
  reorder_point: number;
  safety_stock: number;
  reorder_quantity?: number;
  /** The levels this write changed (for a default: those that inherit it). */
  levels: StockLevel[];
}

/** One transaction: the default item and up to this many inheriting levels (a level and a ledger row each). */
export const MAX_INHERITING_LEVELS = Math.floor((MAX_TRANSACTION_ITEMS - 1) / 2);

const sameThresholds = (level: StockLevel, t: Thresholds, from: 'level' | 'sku_default'): boolean =>
  level.reorder_point === t.reorder_point &&
  level.safety_stock === t.safety_stock &&
  level.reorder_quantity === t.reorder_quantity &&
  level.thresholds_from === from;

const thresholdsOf = (input: ThresholdInput): Thresholds => ({
  reorder_point: input.reorder_point,
  safety_stock: input.safety_stock,
  ...(input.reorder_quantity === undefined ? {} : { reorder_quantity: input.reorder_quantity }),
});

const noteOf = (t: Thresholds, from: 'level' | 'sku_default'): string =>
  `reorder_point=${t.reorder_point} safety_stock=${t.safety_stock}${t.reorder_quantity === undefined ? '' : ` reorder_quantity=${t.reorder_quantity}`}${from === 'sku_default' ? ' (SKU default)' : ''}`;

const change = (level: { sku_id: string; warehouse_id: string }, t: Thresholds, from: 'level' | 'sku_default'): PlannedChange => ({
  sku_id: level.sku_id,
  warehouse_id: level.warehouse_id,
  change: { type: 'thresholds', quantity: 0, thresholds: { ...t, from } },
  cause: { reason: 'thresholds', note: noteOf(t, from) },
});

const setLevelThresholds = (deps: Deps, input: ThresholdInput & { warehouse_id: string }): Promise<ThresholdResult> => {
  const t = thresholdsOf(input);
  return commitIdempotent(deps, async () => {
    const current = await findLevel(deps, input.sku_id, input.warehouse_id);
    const result = { sku_id: input.sku_id, warehouse_id: input.warehouse_id, ...t };
    // The same thresholds again: nothing to change, no ledger row.
    if (current && sameThresholds(current, t, 'level')) return { writes: [], result: { ...result, levels: [] } };
    // planChanges reads the level (404 for an unknown SKU or warehouse; a never-stocked level is created).
    const { writes, levels } = await planChanges(deps, [change(input, t, 'level')], { known: current ? [current] : [] });
    return { writes, result: { ...result, levels } };
  });
};

const setDefaultThresholds = (deps: Deps, input: ThresholdInput): Promise<ThresholdResult> => {
  const { db, ctx } = deps;
  const t = thresholdsOf(input);
  return commitIdempotent(deps, async () => {
    const [levels] = await Promise.all([levelsOfSku(deps, input.sku_id), requireSku(deps, input.sku_id)]);
    const inheriting = levels.filter((l) => l.thresholds_from !== 'level' && !sameThresholds(l, t, 'sku_default'));
    if (inheriting.length > MAX_INHERITING_LEVELS) {
      throw new AppError(
        'CONFLICT',
        `${inheriting.length} warehouses would inherit this default, more than one transaction can change (${MAX_INHERITING_LEVELS}); set thresholds per warehouse`,
        { inheriting: inheriting.length, max: MAX_INHERITING_LEVELS },
      );
    }
    const planned = inheriting.length
      ? await planChanges(deps, inheriting.map((l) => change(l, t, 'sku_default')), { known: inheriting })
      : { writes: [], levels: [] };
    const defaultWrite = thresholdDefaultWrite(db, ctx.caller.tenantId, { sku_id: input.sku_id, ...t, updated_at: ctx.now().toISOString() });
    return {
      writes: [defaultWrite, ...planned.writes],
      result: { sku_id: input.sku_id, warehouse_id: null, ...t, levels: planned.levels },
    };
  });
};

const setOne = (deps: Deps, input: ThresholdInput): Promise<ThresholdResult> =>
  input.warehouse_id === undefined ? setDefaultThresholds(deps, input) : setLevelThresholds(deps, { ...input, warehouse_id: input.warehouse_id });

/**
 * One threshold, or a batch applied one by one (each its own transaction).
 * Every SKU and warehouse named is checked first, so an unknown id is a 404
 * before anything is written.
 */
export const putThresholds = async (deps: Deps, body: ThresholdInput | { items: ThresholdInput[] }): Promise<{ items: ThresholdResult[] }> => {
  // Checked for every item before anything is written. A SKU-level default moves the levels of every
  // warehouse that inherits it (and those stocked later): not for a user who works in some only.
  const all = 'items' in body ? body.items : [body];
  if (all.some((i) => i.warehouse_id === undefined)) assertUnscoped(deps.ctx, "setting a SKU's default thresholds (no warehouse_id)");
  assertInScope(deps.ctx, all.flatMap((i) => (i.warehouse_id === undefined ? [] : [i.warehouse_id])), 'setting thresholds there');
  if (!('items' in body)) return { items: [await setOne(deps, body)] };
  for (const id of new Set(body.items.map((i) => i.sku_id))) await requireSku(deps, id);
  for (const id of new Set(body.items.flatMap((i) => (i.warehouse_id === undefined ? [] : [i.warehouse_id])))) await requireWarehouse(deps, id);
  const items: ThresholdResult[] = [];
  for (const input of body.items) items.push(await setOne(deps, input));
  return { items };
};
