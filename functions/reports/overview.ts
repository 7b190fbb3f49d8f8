import { daysOfCover, isBreached } from '../alerts/rules';
import { allWarehouses, listSkus, requireSku, requireWarehouse } from '../inventory/catalog';
import type { StockLevel, Warehouse } from '../inventory/model';
import { findLevel, levelsOfSku, unitsSold } from '../inventory/stock';
import { isStockOut } from '../inventory/stock-rules';
import type { Deps } from '../platform/context';
import { mapBounded } from '../platform/pool';
import { assertInScope, inScope } from '../platform/warehouse-scope';
import {
  OVERVIEW_LIST_LIMIT,
  OVERVIEW_WINDOW_DAYS,
  type OverviewLevel,
  type StockOverviewQuery,
  type StockOverviewResponse,
} from './overview-schemas';

/**
 * GET /api/reports/stock-overview: where the stock stands now, live from the
 * table. What it reads, and what that costs:
 * - the tenant's SKUs, a page of up to 1000 at a time, and for each SKU its
 *   levels (one Query of the SKU's level partition; one GetItem with a
 *   warehouse filter), SKU_CONCURRENCY at a time: O(SKUs) small reads;
 * - units out over the last 30 days, from the ledger (inventory's public
 *   `unitsSold`: the level's gsi1 partition, the window's id range). A level
 *   whose `updated_at` is older than the window has had no movement since,
 *   so its units out are 0 and its ledger is not read: ledger reads cost
 *   the rows of the levels that moved in the window, never the older history.
 * Only the running sums and the two bounded lists (top OVERVIEW_LIST_LIMIT)
 * are kept, so memory does not grow with the tenant.
 */

/** SKUs whose levels (and ledger windows) are read at once. */
const SKU_CONCURRENCY = 8;
/** SKUs per page of the catalogue read. */
const SKU_PAGE = 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const round = (value: number, decimals: number): number => Math.round(value * 10 ** decimals) / 10 ** decimals;

/** units out / current on_hand, two decimals; null without stock on hand. */
const turnoverOf = (unitsOut: number, onHand: number): number | null => (onHand > 0 ? round(unitsOut / onHand, 2) : null);

const coverOf = (onHand: number, unitsOut: number): number | null => daysOfCover(Math.max(onHand, 0), unitsOut, OVERVIEW_WINDOW_DAYS);

interface Totals {
  levels: number;
  on_hand: number;
  reserved: number;
  available: number;
  incoming: number;
  stock_outs: number;
  below_reorder_point: number;
  units_out_30d: number;
}

const zero = (): Totals => ({ levels: 0, on_hand: 0, reserved: 0, available: 0, incoming: 0, stock_outs: 0, below_reorder_point: 0, units_out_30d: 0 });

const byIds = (a: OverviewLevel, b: OverviewLevel): number =>
  a.sku_id < b.sku_id ? -1 : a.sku_id > b.sku_id ? 1 : a.warehouse_id < b.warehouse_id ? -1 : a.warehouse_id > b.warehouse_id ? 1 : 0;

/** The first OVERVIEW_LIST_LIMIT levels in an order, and how many were offered: trimmed as it grows, so it stays bounded. */
class TopList {
  private kept: OverviewLevel[] = [];
  count = 0;
  constructor(private readonly order: (a: OverviewLevel, b: OverviewLevel) => number) {}
  add(level: OverviewLevel): void {
    this.count++;
    this.kept.push(level);
    if (this.kept.length >= 2 * OVERVIEW_LIST_LIMIT) this.trim();
  }
  result(): { count: number; levels: OverviewLevel[] } {
    this.trim();
    return { count: this.count, levels: this.kept };
  }
  private trim(): void {
    this.kept = this.kept.sort(this.order).slice(0, OVERVIEW_LIST_LIMIT);
  }
}

/** The levels of one SKU the report covers: all of them, or the one in the asked warehouse. */
const levelsToRead = async (deps: Deps, skuId: string, warehouseId: string | undefined): Promise<StockLevel[]> => {
  if (warehouseId === undefined) return levelsOfSku(deps, skuId);
  const level = await findLevel(deps, skuId, warehouseId);
  return level ? [level] : [];
};

/** The SKU ids the report covers, a page at a time. */
async function* skuPages(deps: Deps, skuId: string | undefined): AsyncGenerator<string[]> {
  if (skuId !== undefined) {
    yield [skuId];
    return;
  }
  let cursor: string | undefined;
  do {
    const page = await listSkus(deps, { cursor, limit: SKU_PAGE });
    yield page.skus.map((s) => s.sku_id);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
}

export const stockOverview = async (deps: Deps, query: StockOverviewQuery): Promise<StockOverviewResponse> => {
  const asOf = deps.ctx.now();
  const windowFrom = new Date(asOf.getTime() - OVERVIEW_WINDOW_DAYS * DAY_MS);
  // A scoped user's overview covers their warehouses only; asking for another is 403.
  if (query.warehouse_id !== undefined) assertInScope(deps.ctx, [query.warehouse_id], 'reading its overview');
  const visible = inScope(deps.ctx);
  const [warehouses] = await Promise.all([
    query.warehouse_id === undefined ? allWarehouses(deps).then((all) => all.filter(visible)) : requireWarehouse(deps, query.warehouse_id).then((w): Warehouse[] => [w]),
    query.sku_id === undefined ? undefined : requireSku(deps, query.sku_id),
  ]);
  const totals = new Map<string, Totals>(warehouses.map((w) => [w.warehouse_id, zero()]));
  const stockOuts = new TopList((a, b) => b.units_out_30d - a.units_out_30d || byIds(a, b));
  const belowReorder = new TopList((a, b) => b.reorder_point - b.available - (a.reorder_point - a.available) || byIds(a, b));

  const take = (level: StockLevel, unitsOut: number): void => {
    const row: OverviewLevel = {
      sku_id: level.sku_id,
      warehouse_id: level.warehouse_id,
      on_hand: level.on_hand,
      reserved: level.reserved,
      available: level.available,
      incoming: level.incoming,
      reorder_point: level.reorder_point,
      safety_stock: level.safety_stock,
      units_out_30d: unitsOut,
      days_of_cover: coverOf(level.on_hand, unitsOut),
      turnover_30d: turnoverOf(unitsOut, level.on_hand),
    };
    const out = isStockOut(level);
    const below = isBreached(level);
    const sum = totals.get(level.warehouse_id) ?? zero();
    totals.set(level.warehouse_id, {
      levels: sum.levels + 1,
      on_hand: sum.on_hand + level.on_hand,
      reserved: sum.reserved + level.reserved,
      available: sum.available + level.available,
      incoming: sum.incoming + level.incoming,
      stock_outs: sum.stock_outs + (out ? 1 : 0),
      below_reorder_point: sum.below_reorder_point + (below ? 1 : 0),
      units_out_30d: sum.units_out_30d + unitsOut,
    });
    if (out) stockOuts.add(row);
    if (below) belowReorder.add(row);
  };

  /** Units out of a level in the window: 0 without reading its ledger when it has not moved since the window began. */
  const unitsOutOf = (level: StockLevel): Promise<number> =>
    level.updated_at === null || Date.parse(level.updated_at) < windowFrom.getTime()
      ? Promise.resolve(0)
      : unitsSold(deps, level.sku_id, level.warehouse_id, asOf, OVERVIEW_WINDOW_DAYS);

  for await (const skuIds of skuPages(deps, query.sku_id)) {
    await mapBounded(skuIds, SKU_CONCURRENCY, async (skuId) => {
      const levels = (await levelsToRead(deps, skuId, query.warehouse_id)).filter(visible);
      for (const level of levels) take(level, await unitsOutOf(level));
    });
  }

  const names = new Map(warehouses.map((w) => [w.warehouse_id, w.name]));
  return {
    as_of: asOf.toISOString(),
    window_from: windowFrom.toISOString(),
    window_days: OVERVIEW_WINDOW_DAYS,
    warehouses: [...totals.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([warehouse_id, sum]) => ({
        warehouse_id,
        name: names.get(warehouse_id) ?? null,
        ...sum,
        days_of_cover: coverOf(sum.on_hand, sum.units_out_30d),
        turnover_30d: turnoverOf(sum.units_out_30d, sum.on_hand),
      })),
    stock_outs: stockOuts.result(),
    below_reorder_point: belowReorder.result(),
  };
};
