import { z } from 'zod';
import { idSchema } from '../platform/ids';
import { MAX_QUANTITY } from '../inventory/schemas';
import { purchaseOrderResponse } from '../purchasing/schemas';
import { SEVERITIES } from '../alerts/model';
import { SKIP_REASONS } from './rules';

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
  lead_time_days: z.number().int().nullable().describe("the supplier's; null without a supplier (0 is used in the formula)"),
  units_sold: z.number().int().describe('sale + shipment units from this level in the last 14 days'),
  daily_demand: z.number().describe('units_sold / 14, rounded to two decimals for display (the formula uses the exact value)'),
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
