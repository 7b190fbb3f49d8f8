import * as z from 'zod';
import { idSchema } from '../platform/ids';
import { latitude, longitude, MAX_QUANTITY } from '../inventory/schemas';
import { ORDER_STATUSES } from './model';

/**
 * An allocation is one TransactWriteItems: per warehouse leg a stock level and
 * a ledger row, plus the order record and the idempotency record. 100 items
 * hold 49 legs, so an order has at most 49 lines (and its plan at most 49 legs).
 */
export const MAX_ALLOCATION_LEGS = 49;
/** A checkout hold lasts between 30 seconds and a day. */
export const MAX_HOLD_SECONDS = 24 * 60 * 60;

const quantity = z.number().int('must be a whole number').min(1).max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`);

const line = z.strictObject({ sku_id: idSchema, quantity });

const orderRequest = z.strictObject({
  order_id: idSchema,
  lines: z.array(line).min(1).max(MAX_ALLOCATION_LEGS, `an order has at most ${MAX_ALLOCATION_LEGS} lines: one DynamoDB transaction holds at most 100 items (a stock level and a ledger row per line and warehouse)`),
  ship_to: z.strictObject({
    latitude,
    longitude,
    country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code').optional(),
  }),
  strategy: z.enum(['fewest_shipments', 'nearest', 'priority']).default('fewest_shipments'),
  allow_split: z.boolean().default(true),
  warehouse_ids: z.array(idSchema).min(1).max(100).optional(),
  hold_seconds: z.number().int().min(30).max(MAX_HOLD_SECONDS).optional(),
});

const skusAreUnique = (o: { lines: { sku_id: string }[] }): boolean => new Set(o.lines.map((l) => l.sku_id)).size === o.lines.length;
const uniqueSkusIssue = { path: ['lines'], message: 'each sku_id may appear once: merge the quantities' };

export const allocateBody = orderRequest.refine(skusAreUnique, uniqueSkusIssue);
/** The dry run takes the same request; an order_id is optional since nothing is stored. */
export const planBody = orderRequest.extend({ order_id: idSchema.optional() }).refine(skusAreUnique, uniqueSkusIssue);
export type AllocateInput = z.output<typeof allocateBody>;

export const orderParams = z.strictObject({ order_id: idSchema });

export const shipBody = z.strictObject({
  lines: z
    .array(z.strictObject({ sku_id: idSchema, warehouse_id: idSchema.optional(), quantity }))
    .min(1)
    .max(MAX_ALLOCATION_LEGS),
});
export type ShipInput = z.output<typeof shipBody>;

export const emptyBody = z.strictObject({}).optional();

export const listOrdersQuery = z.strictObject({
  status: z.enum(ORDER_STATUSES).optional().describe('Only orders in this status, oldest first; without it every order, by order_id'),
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

// ---------- responses ----------

const leg = z.strictObject({
  sku_id: z.string(),
  warehouse_id: z.string(),
  quantity: z.number().int(),
  shipped: z.number().int(),
  released: z.number().int(),
  distance_km: z.number(),
});

export const orderResponse = z.strictObject({
  order_id: z.string(),
  status: z.enum(ORDER_STATUSES),
  lines: z.array(z.strictObject({ sku_id: z.string(), quantity: z.number().int() })),
  allocations: z.array(leg),
  shipments: z.number().int(),
  strategy: z.string(),
  ship_to: z.strictObject({ latitude: z.number(), longitude: z.number(), country: z.string().optional() }),
  hold_expires_at: z.string().optional(),
  created_at: z.string(),
  updated_at: z.string(),
  confirmed_at: z.string().optional(),
  cancelled_at: z.string().optional(),
  expired_at: z.string().optional(),
  shipped_at: z.string().optional(),
  version: z.number().int(),
});

const plannedLine = z.strictObject({
  sku_id: z.string(),
  quantity: z.number().int(),
  allocations: z.array(z.strictObject({ warehouse_id: z.string(), quantity: z.number().int(), distance_km: z.number() })),
});

export const planResponse = z.strictObject({
  feasible: z.boolean(),
  lines: z.array(plannedLine),
  shipments: z.number().int(),
  warehouses: z.array(z.string()),
  explanation: z.string(),
  shortfall: z
    .array(z.strictObject({ sku_id: z.string(), requested: z.number().int(), available: z.number().int(), short: z.number().int() }))
    .optional(),
});

export const orderListResponse = z.strictObject({ orders: z.array(orderResponse), next_cursor: z.string().nullable() });
