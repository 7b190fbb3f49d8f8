import * as z from 'zod';
import { idSchema } from '../platform/ids';

/**
 * Request and response schemas of GET /api/reports/stock-overview (issue 9):
 * where the stock stands right now, read live from the table (not the lake).
 */

/** How far back units out are summed for days of cover and turnover. */
export const OVERVIEW_WINDOW_DAYS = 30;

/** How many levels each list (stock-outs, below reorder point) returns at most; `count` says how many there are. */
export const OVERVIEW_LIST_LIMIT = 100;

export const stockOverviewQuery = z.strictObject({
  warehouse_id: idSchema.optional().describe('only this warehouse (404 if unknown)'),
  sku_id: idSchema.optional().describe('only this SKU (404 if unknown)'),
});
export type StockOverviewQuery = z.output<typeof stockOverviewQuery>;

const unitsOut = z
  .number()
  .int()
  .min(0)
  .describe(`units that left to customers in the last ${OVERVIEW_WINDOW_DAYS} days before as_of: the on_hand decrease of sale and shipment rows (transfers, adjustments and counts are not demand and are not counted)`);

const daysOfCover = z
  .number()
  .nullable()
  .describe(`on_hand (0 if negative) / (units_out_30d / ${OVERVIEW_WINDOW_DAYS}), one decimal: how many days the stock on the shelf lasts at the last ${OVERVIEW_WINDOW_DAYS} days' rate; null when nothing went out`);

const turnover = z
  .number()
  .nullable()
  .describe(`units_out_30d / current on_hand (not an average over the window), two decimals; null when on_hand is 0 or less`);

export const overviewLevel = z.strictObject({
  sku_id: z.string(),
  warehouse_id: z.string(),
  on_hand: z.number().int(),
  reserved: z.number().int(),
  available: z.number().int(),
  incoming: z.number().int(),
  reorder_point: z.number().int(),
  safety_stock: z.number().int(),
  units_out_30d: unitsOut,
  days_of_cover: daysOfCover,
  turnover_30d: turnover,
});
export type OverviewLevel = z.output<typeof overviewLevel>;

export const overviewWarehouse = z.strictObject({
  warehouse_id: z.string(),
  name: z.string().nullable().describe('null for a level whose warehouse is no longer listed'),
  levels: z.number().int().min(0).describe('stock levels (SKU x warehouse) that ever had a movement or thresholds here'),
  on_hand: z.number().int(),
  reserved: z.number().int().describe('allocated to orders, not yet shipped'),
  available: z.number().int().describe('on_hand - reserved'),
  incoming: z.number().int().describe('on submitted purchase orders, not yet received'),
  stock_outs: z.number().int().min(0).describe('levels with available at or below 0'),
  below_reorder_point: z.number().int().min(0).describe('levels with a reorder point above 0 and available below it (a stock-out with a reorder point counts in both)'),
  units_out_30d: unitsOut,
  days_of_cover: daysOfCover.describe('the warehouse sums: on_hand / (units_out_30d / 30), one decimal; null when nothing went out'),
  turnover_30d: turnover.describe('the warehouse sums: units_out_30d / current on_hand, two decimals; null when on_hand is 0 or less'),
});

const levelList = (what: string, order: string) =>
  z.strictObject({
    count: z.number().int().min(0).describe(`every level ${what}, also those past the list's end`),
    levels: z.array(overviewLevel).max(OVERVIEW_LIST_LIMIT).describe(`the first ${OVERVIEW_LIST_LIMIT}, ${order}`),
  });

export const stockOverviewResponse = z.strictObject({
  as_of: z.string().describe('when the levels were read (ISO instant); the window of units out ends here'),
  window_from: z.string().describe(`as_of minus ${OVERVIEW_WINDOW_DAYS} days (ISO instant): units out count from here`),
  window_days: z.literal(OVERVIEW_WINDOW_DAYS),
  warehouses: z.array(overviewWarehouse).describe('every warehouse of the tenant (or the one asked for), by warehouse_id, with zero totals where it holds no level'),
  stock_outs: levelList('with available at or below 0', 'most units out in the window first, then by sku_id and warehouse_id'),
  below_reorder_point: levelList('with available below a reorder point above 0', 'largest shortfall (reorder_point - available) first, then by sku_id and warehouse_id'),
});
export type StockOverviewResponse = z.output<typeof stockOverviewResponse>;
