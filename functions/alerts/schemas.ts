import * as z from 'zod';
import { stockLevelResponse, MAX_QUANTITY } from '../inventory/schemas';
import { idSchema } from '../platform/ids';
import { ALERT_STATUSES, SEVERITIES } from './model';

/** Request and response schemas of thresholds and alerts (validated by the handlers, documented in OpenAPI). */

export const MAX_THRESHOLD_ITEMS = 100;

const count = (min: number) => z.number().int('must be a whole number').min(min).max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`);

export const thresholdInput = z
  .strictObject({
    sku_id: idSchema,
    warehouse_id: idSchema.optional().describe('absent: the SKU-level default that warehouses without their own thresholds inherit'),
    reorder_point: count(0).describe('an alert opens when available falls below it (0: no alerts)'),
    safety_stock: count(0),
    reorder_quantity: count(1).optional(),
  })
  .refine((t) => t.safety_stock <= t.reorder_point, { path: ['safety_stock'], message: 'must not exceed reorder_point' });
export type ThresholdInput = z.infer<typeof thresholdInput>;

export const thresholdsBody = z.union([
  thresholdInput,
  z.strictObject({ items: z.array(thresholdInput).min(1).max(MAX_THRESHOLD_ITEMS, `at most ${MAX_THRESHOLD_ITEMS} thresholds per request`) }),
]);

export const thresholdsResponse = z.strictObject({
  items: z.array(
    z.strictObject({
      sku_id: z.string(),
      warehouse_id: z.string().nullable().describe('null for a SKU-level default'),
      reorder_point: z.number().int(),
      safety_stock: z.number().int(),
      reorder_quantity: z.number().int().optional(),
      levels: z.array(stockLevelResponse).describe('the stock levels this write changed'),
    }),
  ),
});

export const alertResponse = z.strictObject({
  alert_id: z.string(),
  sku_id: z.string(),
  warehouse_id: z.string(),
  status: z.enum(ALERT_STATUSES),
  severity: z.enum(SEVERITIES),
  on_hand: z.number().int(),
  available: z.number().int(),
  incoming: z.number().int(),
  reorder_point: z.number().int(),
  safety_stock: z.number().int(),
  days_of_cover: z.number().nullable().describe('available / average daily sales of the last 14 days; null without sales'),
  level_version: z.number().int(),
  opened_at: z.string(),
  updated_at: z.string(),
  acknowledged_at: z.string().optional(),
  acknowledged_by: z.string().optional(),
  resolved_at: z.string().optional(),
  version: z.number().int(),
});

export const listAlertsQuery = z.strictObject({
  status: z.enum(ALERT_STATUSES).optional().describe('absent: open and acknowledged'),
  severity: z.enum(SEVERITIES).optional(),
  warehouse_id: idSchema.optional(),
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export const alertListResponse = z.strictObject({ alerts: z.array(alertResponse), next_cursor: z.string().nullable() });

export const alertParams = z.strictObject({ alert_id: idSchema });
