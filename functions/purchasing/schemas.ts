import * as z from 'zod';
import { shownOnlyWith } from '../platform/sensitive';
import { idSchema } from '../platform/ids';
import { currencySchema, MONEY_OUT, moneySchema } from '../platform/money';
import { MAX_QUANTITY } from '../inventory/schemas';
import { PURCHASE_ORDER_STATUSES } from './model';

/**
 * Request and response schemas of purchasing: suppliers and purchase orders.
 * Handlers validate with these and OpenAPI is generated from them.
 */

/**
 * Submitting, receiving or cancelling writes, per line, the stock level and a
 * ledger row, plus the purchase order and the idempotency record, in one
 * TransactWriteItems of at most 100 items: 49 lines fit.
 */
export const MAX_PURCHASE_ORDER_LINES = 49;

const text = (max: number) => z.string().trim().min(1).max(max);
const quantity = z.number().int('must be a whole number').min(1).max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`);
const cursor = z.string().max(2048).optional();
const limit = z.coerce.number().int().min(1).max(200).optional();

// ---------- suppliers ----------

const contact = z
  .strictObject({
    name: text(200).optional(),
    email: z.email('must be an email address').max(254).optional(),
    phone: z
      .string()
      .trim()
      .regex(/^\+?[0-9][0-9 ().-]{2,31}$/, 'must be a phone number of digits, spaces, "()", "-" or ".", optionally starting with "+"')
      .optional(),
  })
  .describe('Personal data: returned only to roles with the suppliers:contact permission');

export const createSupplierBody = z.strictObject({
  supplier_id: idSchema.optional(),
  name: text(200),
  contact: contact.optional(),
  lead_time_days: z.number().int('must be a whole number of days').min(0).max(365),
  currency: currencySchema,
});
export type CreateSupplierInput = z.output<typeof createSupplierBody>;

export const supplierParams = z.strictObject({ supplier_id: idSchema });
export const listSuppliersQuery = z.strictObject({ cursor, limit });

// ---------- purchase orders ----------

const skusAreUnique = (o: { lines: { sku_id: string }[] }): boolean => new Set(o.lines.map((l) => l.sku_id)).size === o.lines.length;
const uniqueSkusIssue = { path: ['lines'], message: 'each sku_id may appear once: merge the quantities' };
const tooManyLines = `at most ${MAX_PURCHASE_ORDER_LINES} lines: one DynamoDB transaction holds at most 100 items (a stock level and a ledger row per line, the order and the idempotency record)`;

export const createPurchaseOrderBody = z
  .strictObject({
    purchase_order_id: idSchema.optional(),
    supplier_id: idSchema,
    warehouse_id: idSchema.describe('Destination warehouse: every line is received into it'),
    currency: currencySchema.optional().describe("Defaults to the supplier's currency"),
    lines: z
      .array(z.strictObject({ sku_id: idSchema, quantity, unit_cost: moneySchema }))
      .min(1)
      .max(MAX_PURCHASE_ORDER_LINES, tooManyLines),
  })
  .refine(skusAreUnique, uniqueSkusIssue);
export type CreatePurchaseOrderInput = z.output<typeof createPurchaseOrderBody>;

export const purchaseOrderParams = z.strictObject({ purchase_order_id: idSchema });

export const receiveBody = z
  .strictObject({
    lines: z.array(z.strictObject({ sku_id: idSchema, quantity })).min(1).max(MAX_PURCHASE_ORDER_LINES, tooManyLines),
    allow_over_receipt: z
      .boolean()
      .default(false)
      .describe('Accept more than is still open on a line: the excess goes on hand, incoming drops only by what was open'),
    note: z.string().max(500).optional().describe('e.g. the delivery note number; written to the receipt ledger rows'),
  })
  .refine(skusAreUnique, uniqueSkusIssue);
export type ReceiveInput = z.output<typeof receiveBody>;

export const listPurchaseOrdersQuery = z.strictObject({
  status: z.enum(PURCHASE_ORDER_STATUSES).optional(),
  supplier_id: idSchema.optional(),
  cursor,
  limit,
});
export type ListPurchaseOrdersQuery = z.output<typeof listPurchaseOrdersQuery>;

// ---------- responses ----------

const stamps = { created_at: z.string(), updated_at: z.string() };

export const supplierResponse = z.strictObject({
  supplier_id: z.string(),
  name: z.string(),
  contact: shownOnlyWith(
    'suppliers:contact',
    z
      .strictObject({ name: z.string().optional(), email: z.string().optional(), phone: z.string().optional() })
      .optional()
      .describe("The supplier's contact person: personal data"),
  ),
  lead_time_days: z.number().int(),
  currency: z.string(),
  version: z.number().int(),
  ...stamps,
});

export const supplierListResponse = z.strictObject({ suppliers: z.array(supplierResponse), next_cursor: z.string().nullable() });

export const purchaseOrderResponse = z.strictObject({
  purchase_order_id: z.string(),
  supplier_id: z.string(),
  warehouse_id: z.string(),
  currency: z.string(),
  status: z.enum(PURCHASE_ORDER_STATUSES),
  lines: z.array(
    z.strictObject({
      sku_id: z.string(),
      quantity: z.number().int().describe('ordered'),
      unit_cost: shownOnlyWith('costs:read', z.string().describe(MONEY_OUT)),
      received: z.number().int(),
      cancelled: z.number().int(),
      open: z.number().int().describe('still expected: quantity - received - cancelled, at least 0'),
    }),
  ),
  receipts: z.number().int(),
  ...stamps,
  submitted_at: z.string().optional(),
  received_at: z.string().optional(),
  cancelled_at: z.string().optional(),
  version: z.number().int(),
});

export const purchaseOrderListResponse = z.strictObject({
  purchase_orders: z.array(purchaseOrderResponse),
  next_cursor: z.string().nullable(),
});
