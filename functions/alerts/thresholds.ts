import { AppError } from '../platform/errors';
import { childIdempotency, claimKey, commitIdempotent, commitOptionsOf, type Idempotency } from '../platform/idempotency';
import { keys } from '../platform/keys';
import { MAX_TRANSACTION_ITEMS } from '../platform/transactions';
import type { StockLevel } from '../inventory/model';
import { planChanges, type PlannedChange, type StockDeps } from '../inventory/stock';
import type { Thresholds } from '../inventory/stock-rules';
import { getLevel, queryAll, requireSku, requireWarehouse } from '../inventory/store';
import type { ThresholdInput } from './schemas';

/**
 * PUT /api/thresholds. A threshold on a SKU x warehouse is a change to its
 * stock level like any other: one `thresholds` ledger row (zero deltas, the
 * values in `note`) and a version bump, in one transaction. So the ledger
 * still reconciles (one row per version), and the level's stream record
 * becomes a StockLevelChanged that makes the alert consumer re-evaluate the
 * level at once. A SKU-level default (no warehouse_id) is its own item
 * (keys.thresholdDefault); writing it also moves every existing level of the
 * SKU that has no thresholds of its own, in the same transaction, and levels
 * created later start from it (functions/inventory/stock.ts readLevel).
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

/** One transaction: the default item, up to this many inheriting levels (a level and a row each), the idempotency record. */
export const MAX_INHERITING_LEVELS = Math.floor((MAX_TRANSACTION_ITEMS - 2) / 2);

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

const setLevelThresholds = (deps: StockDeps, input: ThresholdInput & { warehouse_id: string }, idempotency?: Idempotency): Promise<ThresholdResult> => {
  const t = thresholdsOf(input);
  return commitIdempotent(deps.db, commitOptionsOf(deps.ctx, idempotency), async () => {
    const current = await getLevel(deps.db, deps.ctx.caller.tenantId, input.sku_id, input.warehouse_id);
    const result = { sku_id: input.sku_id, warehouse_id: input.warehouse_id, ...t };
    // The same thresholds again: nothing to change, no ledger row.
    if (current && sameThresholds(current, t, 'level')) return { items: [], result: { ...result, levels: [] } };
    // planChanges reads the level (404 for an unknown SKU or warehouse; a never-stocked level is created).
    const { items, levels } = await planChanges(deps, [change(input, t, 'level')], { known: current ? [current] : [] });
    return { items, result: { ...result, levels } };
  });
};

const setDefaultThresholds = (deps: StockDeps, input: ThresholdInput, idempotency?: Idempotency): Promise<ThresholdResult> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  const t = thresholdsOf(input);
  return commitIdempotent(db, commitOptionsOf(ctx, idempotency), async () => {
    const [levels] = await Promise.all([queryAll<StockLevel>(db, keys.stockLevelsOfSku(tenantId, input.sku_id)), requireSku(db, tenantId, input.sku_id)]);
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
      : { items: [], levels: [] };
    const at = ctx.now().toISOString();
    const defaultPut = {
      Put: {
        TableName: db.table,
        Item: { ...keys.thresholdDefault(tenantId, input.sku_id), entity: 'threshold_default', tenant_id: tenantId, sku_id: input.sku_id, ...t, updated_at: at },
      },
    };
    return {
      items: [defaultPut, ...planned.items],
      result: { sku_id: input.sku_id, warehouse_id: null, ...t, levels: planned.levels },
    };
  });
};

const setOne = (deps: StockDeps, input: ThresholdInput, idempotency?: Idempotency): Promise<ThresholdResult> =>
  input.warehouse_id === undefined
    ? setDefaultThresholds(deps, input, idempotency)
    : setLevelThresholds(deps, { ...input, warehouse_id: input.warehouse_id }, idempotency);

/**
 * One threshold, or a batch applied one by one (each its own transaction and,
 * with an Idempotency-Key, its own record). Every SKU and warehouse named is
 * checked first, so an unknown id is a 404 before anything is written.
 */
export const putThresholds = async (deps: StockDeps, body: ThresholdInput | { items: ThresholdInput[] }): Promise<{ items: ThresholdResult[] }> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  if (!('items' in body)) return { items: [await setOne(deps, body)] };
  const skus = [...new Set(body.items.map((i) => i.sku_id))];
  const warehouses = [...new Set(body.items.flatMap((i) => (i.warehouse_id === undefined ? [] : [i.warehouse_id])))];
  for (const id of skus) await requireSku(db, tenantId, id);
  for (const id of warehouses) await requireWarehouse(db, tenantId, id);
  if (ctx.idempotency) await claimKey(db, tenantId, ctx.idempotency, ctx.now());
  const items: ThresholdResult[] = [];
  for (const [index, input] of body.items.entries()) items.push(await setOne(deps, input, childIdempotency(ctx.idempotency, index, input)));
  return { items };
};
