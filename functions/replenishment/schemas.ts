import * as z from 'zod';
import { idSchema } from '../platform/ids';
import { MAX_QUANTITY } from '../inventory/schemas';
import { purchaseOrderResponse } from '../purchasing/schemas';
import { SEVERITIES } from '../alerts/model';
import { DEMAND_SOURCES, SKIP_REASONS } from './rules';
import { DEMAND_CLASSES, FORECAST_METHODS } from '../forecasting/forecast-schemas';

/** Request and response schemas of reorder suggestions (validated by the handlers, documented in OpenAPI). */

/** Suggestions turned into purchase orders by one request. */
export const MAX_SELECTED_SUGGESTIONS = 200;

export const suggestionsQuery = z.strictObject({
  warehouse_id: idSchema.optional().describe('only suggestions for this warehouse (404 if unknown)'),
  supplier_id: idSchema.optional().describe('only suggestions ordered from this supplier (404 if unknown)'),
});
export type SuggestionsQuery = z.output<typeof suggestionsQuery>;

const levelKey = (s: { sku_id: string; warehouse_id: string }): string => `${s.sku_id} ${s.warehouse_id}`;

export const createFromSuggestionsBody = z.strictObject({
  suggestions: z
    .array(
      z.strictObject({
        sku_id: idSchema,
        warehouse_id: idSchema,
        quantity: z
          .number()
          .int('must be a whole number')
          .min(1)
          .max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`)
          .optional()
          .describe("absent: the suggested quantity computed now (GET /api/replenishment/suggestions)"),
      }),
    )
    .min(1)
    .max(MAX_SELECTED_SUGGESTIONS, `at most ${MAX_SELECTED_SUGGESTIONS} suggestions per request`)
    .refine((list) => new Set(list.map(levelKey)).size === list.length, 'each sku_id x warehouse_id may appear once'),
});
export type CreateFromSuggestionsInput = z.output<typeof createFromSuggestionsBody>;

export const suggestionResponse = z.strictObject({
  sku_id: z.string(),
  warehouse_id: z.string(),
  alert_id: z.string().nullable().describe('the open or acknowledged alert of this level; null when selected without one'),
  severity: z.enum(SEVERITIES).nullable(),
  available: z.number().int(),
  incoming: z.number().int(),
  reorder_point: z.number().int(),
  safety_stock: z.number().int(),
  reorder_quantity: z.number().int().nullable(),
  supplier_id: z.string().nullable(),
  supplier_reason: z.string().nullable().describe('why supplier_id is null'),
  lead_time_days: z.number().int().nullable().describe("the supplier's stated lead time; null without a supplier (0 is used in the formula)"),
  units_sold: z.number().int().describe('sale + shipment units from this level in the last 14 days'),
  daily_demand: z.number().describe('units_sold / 14, rounded to two decimals for display (the formula uses the exact value)'),
  demand_source: z
    .enum(DEMAND_SOURCES)
    .describe("forecast: the level's demand forecast from today over the lead time (a forecasting run saw its demand); recent_sales: daily_demand x lead_time_days"),
  lead_time_demand: z.number().min(0).describe('the demand over the lead time the quantity covers, rounded to two decimals for display'),
  suggested_quantity: z.number().int().min(0),
  basis: z.string().describe('how suggested_quantity was computed, with the numbers'),
});

export const suggestionListResponse = z.strictObject({ suggestions: z.array(suggestionResponse) });

export const createFromSuggestionsResponse = z.strictObject({
  purchase_orders: z.array(purchaseOrderResponse).describe('drafts, one per supplier x destination warehouse (more past 49 lines)'),
  skipped: z.array(
    z.strictObject({
      sku_id: z.string(),
      warehouse_id: z.string(),
      reason: z.enum(SKIP_REASONS),
      message: z.string(),
    }),
  ),
});

// ---------- reorder points from the forecast (issue 10, item 5) ----------

/** Levels one GET (or one POST without sku_ids) works through: a page of the warehouse's forecasts. */
export const DEFAULT_REORDER_POINTS_PAGE = 100;
export const MAX_REORDER_POINTS_PAGE = 200;
/** SKUs one POST may name. */
export const MAX_REORDER_POINT_SKUS = 200;

const pageCursor = z.string().max(2048).describe('next_cursor of the previous page');
const pageLimit = z.coerce
  .number()
  .int('must be a whole number')
  .min(1)
  .max(MAX_REORDER_POINTS_PAGE, `must be at most ${MAX_REORDER_POINTS_PAGE}`)
  .describe(`levels per page (default ${DEFAULT_REORDER_POINTS_PAGE}, at most ${MAX_REORDER_POINTS_PAGE})`);

export const reorderPointsQuery = z.strictObject({
  warehouse_id: idSchema.describe('the warehouse whose levels are proposed (404 if unknown)'),
  cursor: pageCursor.optional(),
  limit: pageLimit.optional(),
});
export type ReorderPointsQuery = z.output<typeof reorderPointsQuery>;

export const applyReorderPointsBody = z
  .strictObject({
    warehouse_id: idSchema,
    sku_ids: z
      .array(idSchema)
      .min(1)
      .max(MAX_REORDER_POINT_SKUS, `at most ${MAX_REORDER_POINT_SKUS} SKUs per request`)
      .refine((ids) => new Set(ids).size === ids.length, 'each sku_id may appear once')
      .optional()
      .describe('only these SKUs of the warehouse; absent: one page of its levels (cursor, limit)'),
    dry_run: z.boolean().default(true).describe('true (the default): answer what would change and write nothing'),
    cursor: pageCursor.optional(),
    limit: pageLimit.optional(),
  })
  .refine((body) => body.sku_ids === undefined || (body.cursor === undefined && body.limit === undefined), {
    path: ['sku_ids'],
    message: 'page (cursor, limit) or name sku_ids, not both',
  });
export type ApplyReorderPointsInput = z.output<typeof applyReorderPointsBody>;

export const REORDER_POINT_SKIP_REASONS = ['NO_SUPPLIER', 'NO_HISTORY', 'NO_FORECAST', 'STALE_FORECAST'] as const;

const leadTimeBasis = z.strictObject({
  supplier_id: z.string(),
  stated_days: z.number().describe("the supplier's lead_time_days"),
  observations: z.number().int().min(0).describe("the supplier's received purchase orders whose lead time was observed (received_at - submitted_at)"),
  mean_delay_days: z.number().nullable().describe('mean observed lead time - stated_days; null without observations'),
  from: z.enum(['supplier', 'received_orders']).describe("supplier: L is the stated lead time (no received orders); received_orders: stated + the mean observed delay"),
});

export const reorderPointBasis = z.strictObject({
  d: z.number().min(0).describe('mean daily forecast over the lead time, from today'),
  days_averaged: z.number().int().min(1).describe('forecast days d averages: max(1, ceil(L))'),
  sigma_d: z.number().min(0).describe("the forecast's daily_sigma (sd of one day's forecast error)"),
  L: z.number().min(0).describe('lead time in days'),
  sigma_L: z.number().min(0).describe('sd of the observed delays (0 with fewer than 2)'),
  z: z.number().describe('normal quantile of the service level'),
  lead_time_demand: z.number().min(0).describe('d x L'),
  sigma_ltd: z.number().min(0).describe('sqrt(L x sigma_d^2 + d^2 x sigma_L^2)'),
  safety_stock: z.number().describe('z x sigma_ltd before rounding up'),
  reorder_point: z.number().describe('lead_time_demand + safety_stock before rounding up'),
  lead_time: leadTimeBasis,
  formula: z.string().describe('the computation with these numbers'),
});

const thresholdsNow = z.strictObject({
  reorder_point: z.number().int(),
  safety_stock: z.number().int(),
  reorder_quantity: z.number().int().nullable(),
});

export const reorderPointRow = z.strictObject({
  sku_id: z.string(),
  warehouse_id: z.string(),
  current: thresholdsNow.describe("the level's thresholds now (0 and 0 for a level never stocked)"),
  reorder_point: z.number().int().min(0).describe('proposed: ceil(lead_time_demand + safety stock)'),
  safety_stock: z.number().int().min(0).describe('proposed: ceil(z x sigma_ltd)'),
  changed: z.boolean().describe('the proposal differs from the current reorder_point or safety_stock'),
  service_level: z.number().describe("the SKU's target cycle service level, or 0.95"),
  service_level_from: z.enum(['sku', 'default']),
  class: z.enum(DEMAND_CLASSES),
  method: z.enum(FORECAST_METHODS),
  forecast_made_at: z.string(),
  basis: reorderPointBasis,
  applied: z.boolean().describe('the proposal was written to the level now (POST with dry_run false only)'),
  error: z
    .strictObject({ code: z.string(), message: z.string() })
    .nullable()
    .describe('why applying this level failed (its own transaction: the others stand); null otherwise'),
});

export const reorderPointSkipped = z.strictObject({
  sku_id: z.string(),
  warehouse_id: z.string(),
  reason: z.enum(REORDER_POINT_SKIP_REASONS),
  message: z.string(),
});

export const reorderPointsResponse = z.strictObject({
  warehouse_id: z.string(),
  today: z.iso.date().describe('the day the forecast is read from'),
  levels: z.array(reorderPointRow),
  skipped: z.array(reorderPointSkipped).describe('levels given no proposal, never guessed: no supplier (so no lead time), no demand history, a forecast older than 7 days, or (named in sku_ids) no forecast'),
  next_cursor: z.string().nullable(),
});

export const applyReorderPointsResponse = reorderPointsResponse.extend({
  dry_run: z.boolean(),
  summary: z.strictObject({
    proposed: z.number().int().min(0),
    changed: z.number().int().min(0),
    applied: z.number().int().min(0),
    failed: z.number().int().min(0),
    skipped: z.number().int().min(0),
  }),
});
