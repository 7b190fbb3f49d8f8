import * as z from 'zod';
import { shownOnlyWith } from '../platform/sensitive';
import { idSchema, isUlidTime } from '../platform/ids';
import { currencySchema, MONEY_OUT, moneySchema } from '../platform/money';
import { freeFormRecord } from '../platform/values';
import { MOVEMENT_TYPES } from './model';

/**
 * Request and response schemas of the inventory context. Handlers validate
 * with these and GET /api/openapi.json is generated from them, so the
 * documentation cannot drift from what is enforced.
 */

/** One operation moves at most a billion units; totals stay far inside exact integer range. */
export const MAX_QUANTITY = 1_000_000_000;

const quantity = (min: number) =>
  z.number().int('must be a whole number').min(min).max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`);

const text = (max: number) => z.string().trim().min(1).max(max);
const attributes = freeFormRecord(
  z
    .record(
      // The reserved names are refused by freeFormRecord; the lookahead says so in the documented pattern.
      z.string().regex(/^(?!(?:__proto__|constructor|prototype)$)[A-Za-z0-9_.-]{1,64}$/),
      z.string().max(500),
    )
    .refine((value) => Object.keys(value).length <= 50, 'at most 50 attributes')
    .describe('free-form name -> text; the names __proto__, constructor and prototype are refused'),
);

// ---------- catalogue ----------

export const createProductBody = z.strictObject({
  product_id: idSchema.optional(),
  name: text(200),
  description: z.string().max(2000).optional(),
  brand: text(100).optional(),
  category: text(100).optional(),
  attributes: attributes.optional(),
});

/**
 * A SKU's target cycle service level (GET /api/replenishment/reorder-points): below 0.5 the safety
 * stock would be negative, and 1 needs an infinite one; 0.999 (z = 3.09) is the highest asked for.
 */
export const MIN_SERVICE_LEVEL = 0.5;
export const MAX_SERVICE_LEVEL = 0.999;

const skuFields = {
  name: text(200),
  barcode: z.string().regex(/^[\x21-\x7E]{1,64}$/, 'must be 1-64 printable ASCII characters').optional(),
  unit_cost: moneySchema.optional(),
  price: moneySchema.optional(),
  currency: currencySchema.optional(),
  attributes: attributes.optional(),
  supplier_id: idSchema.optional().describe('The supplier replenishment orders this SKU from (must exist)'),
  service_level: z
    .number()
    .min(MIN_SERVICE_LEVEL, `must be at least ${MIN_SERVICE_LEVEL}`)
    .max(MAX_SERVICE_LEVEL, `must be at most ${MAX_SERVICE_LEVEL}`)
    .optional()
    .describe(`Target cycle service level of this SKU's reorder points (the chance of no stock-out during a lead time), ${MIN_SERVICE_LEVEL}..${MAX_SERVICE_LEVEL}; unset: 0.95`),
};

const moneyNeedsCurrency = (value: { unit_cost?: string; price?: string; currency?: string }): boolean =>
  (value.unit_cost === undefined && value.price === undefined) || value.currency !== undefined;

export const createSkuBody = z
  .strictObject({ sku_id: idSchema.optional(), product_id: idSchema, ...skuFields })
  .refine(moneyNeedsCurrency, { path: ['currency'], message: 'is required when unit_cost or price is given' });

export const patchSkuBody = z
  .strictObject({
    name: skuFields.name.optional(),
    barcode: skuFields.barcode.unwrap().nullable().optional(),
    unit_cost: moneySchema.nullable().optional(),
    price: moneySchema.nullable().optional(),
    currency: currencySchema.optional(),
    attributes: attributes.optional(),
    supplier_id: idSchema.nullable().optional().describe('The supplier replenishment orders this SKU from (must exist); null clears it'),
    service_level: skuFields.service_level.unwrap().nullable().optional().describe(`Target cycle service level of reorder points, ${MIN_SERVICE_LEVEL}..${MAX_SERVICE_LEVEL}; null clears it (0.95 again)`),
  })
  .refine((value) => Object.keys(value).length > 0, 'give at least one field to change');

/**
 * Degrees, kept to 1e-9 (a tenth of a millimetre): DynamoDB cannot store a
 * magnitude below 1e-130 (5e-324 is a valid JSON number and was a 500), and no
 * map needs more.
 */
const degrees = (limit: number) =>
  z
    .number()
    .min(-limit)
    .max(limit)
    .overwrite((value) => Math.round(value * 1e9) / 1e9 || 0);
export const latitude = degrees(90);
export const longitude = degrees(180);
const address = z.strictObject({
  line1: text(200),
  line2: text(200).optional(),
  city: text(100),
  region: text(100).optional(),
  postal_code: text(20).optional(),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "US"'),
});

const warehouseFields = {
  name: text(200),
  address: address.optional(),
  latitude,
  longitude,
  /** Lower ships first when warehouses are otherwise equal. */
  priority: z.number().int().min(0).max(1000).default(100),
  active: z.boolean().default(true),
};

export const createWarehouseBody = z.strictObject({ warehouse_id: idSchema.optional(), ...warehouseFields });

export const patchWarehouseBody = z
  .strictObject({
    name: warehouseFields.name.optional(),
    address: address.nullable().optional(),
    latitude: latitude.optional(),
    longitude: longitude.optional(),
    priority: z.number().int().min(0).max(1000).optional(),
    active: z.boolean().optional(),
  })
  .refine((value) => Object.keys(value).length > 0, 'give at least one field to change');

// ---------- stock ----------

/**
 * Why an adjustment was made. `channel_reconciliation`: a sales channel's quantity was taken as the truth
 * (functions/channels/reconcile.ts, a connection whose conflict rule is channel_wins); its rows carry the
 * reconciler as actor and the reconciliation in `reference`.
 */
export const ADJUSTMENT_REASONS = ['damaged', 'lost', 'found', 'theft', 'expired', 'returned', 'correction', 'channel_reconciliation', 'other'] as const;

const changeCommon = {
  sku_id: idSchema,
  warehouse_id: idSchema,
  reason: z.enum(ADJUSTMENT_REASONS).optional(),
  reference: text(200).optional(),
  note: z.string().max(500).optional(),
  /** Compare-and-set: apply only if the level still shows these values. */
  expected_available: z.number().int().min(-MAX_QUANTITY * 1000).max(MAX_QUANTITY * 1000).optional(),
  expected_version: z.number().int().min(0).optional(),
};

export const stockChange = z.discriminatedUnion('transaction_type', [
  z.strictObject({ ...changeCommon, transaction_type: z.literal('sale'), quantity: quantity(1) }),
  z.strictObject({ ...changeCommon, transaction_type: z.literal('restock'), quantity: quantity(1) }),
  z.strictObject({
    ...changeCommon,
    transaction_type: z.literal('adjustment'),
    quantity: quantity(-MAX_QUANTITY).refine((n) => n !== 0, 'must not be zero for an adjustment'),
    reason: z.enum(ADJUSTMENT_REASONS, { error: `is required for an adjustment: one of ${ADJUSTMENT_REASONS.join(', ')}` }),
  }),
  z.strictObject({ ...changeCommon, transaction_type: z.literal('count'), quantity: quantity(0) }),
]);
export type StockChange = z.infer<typeof stockChange>;

export const transferBody = z
  .strictObject({
    sku_id: idSchema,
    from_warehouse_id: idSchema,
    to_warehouse_id: idSchema,
    quantity: quantity(1),
    reference: text(200).optional(),
    note: z.string().max(500).optional(),
  })
  .refine((value) => value.from_warehouse_id !== value.to_warehouse_id, {
    path: ['to_warehouse_id'],
    message: 'must differ from from_warehouse_id',
  });
export type TransferInput = z.infer<typeof transferBody>;

/** MAX_SUB_LEVELS of sub-levels.ts, kept here so the schema module stays free of domain code. */
export const MAX_SUB_LEVEL_COUNT = 10;

export const subLevelsBody = z.strictObject({
  sku_id: idSchema,
  warehouse_id: idSchema,
  count: z
    .number()
    .int('must be a whole number')
    .min(1)
    .max(MAX_SUB_LEVEL_COUNT)
    .describe(`how many sub-levels (1..${MAX_SUB_LEVEL_COUNT}) the level is split into; 1 makes it one item again; the same count again rebalances`),
});
export type SubLevelsInput = z.infer<typeof subLevelsBody>;

export const MAX_BULK_UPDATES = 1000;
/**
 * An atomic batch is one TransactWriteItems (at most 100 items). Each update
 * writes its ledger row and at most one level, and one item is the
 * idempotency record: 49 updates always fit.
 */
export const MAX_ATOMIC_UPDATES = 49;

export const bulkUpdateBody = z
  .strictObject({
    atomic: z.boolean().default(false),
    updates: z.array(stockChange).min(1).max(MAX_BULK_UPDATES, `at most ${MAX_BULK_UPDATES} updates per request`),
  })
  .refine((value) => !value.atomic || value.updates.length <= MAX_ATOMIC_UPDATES, {
    path: ['updates'],
    message: `an atomic batch holds at most ${MAX_ATOMIC_UPDATES} updates (one DynamoDB transaction of at most 100 items: a level and a ledger row per update); send larger batches with "atomic": false or split them`,
  });

export const skuParams = z.strictObject({ sku_id: idSchema });
export const productParams = z.strictObject({ product_id: idSchema });
export const warehouseParams = z.strictObject({ warehouse_id: idSchema });

const cursor = z.string().max(2048).optional();
const limit = z.coerce.number().int().min(1).max(200).optional();

export const listSkusQuery = z.strictObject({ product_id: idSchema.optional(), cursor, limit });
export const listWarehousesQuery = z.strictObject({ cursor, limit });

/** A time bound of the ledger, whose ids (ULIDs) carry their instant: it must be one a ULID can express. */
const isoTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time such as 2026-01-31T00:00:00Z' })
  .refine((time) => isUlidTime(Date.parse(time)), "must lie between 1970-01-01T00:00:00Z and 10889-08-02T05:31:50.655Z, the instants the ledger's ids (ULIDs) can carry");
export const movementsQuery = z
  .strictObject({ warehouse_id: idSchema.optional(), from: isoTime.optional(), to: isoTime.optional(), cursor, limit })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
    path: ['to'],
    message: 'must not be before from',
  });

/** Reads of the SKU listing one page of GET /api/inventory/levels may take to fill up with SKUs that have rows. */
export const LEVEL_LIST_READS = 5;

/** Which levels GET /api/inventory/levels keeps. */
export const LEVEL_STATUSES = ['all', 'stock_out', 'below_reorder_point'] as const;
export type LevelStatus = (typeof LEVEL_STATUSES)[number];

/**
 * GET /api/inventory/levels. The SKU listing it pages through (listSkus: the tenant's SKU partition in
 * sku_id order) filters on nothing, so `q` is matched in memory on each page of SKUs read, before their
 * levels are: both an id prefix and a name substring cost the same there, and a search box wants both.
 */
export const listLevelsQuery = z.strictObject({
  warehouse_id: idSchema.optional().describe("only this warehouse's levels (404 if unknown; 403 if it is not one of yours)"),
  q: text(200)
    .optional()
    .describe('search: SKUs whose sku_id starts with q (case-sensitive, as ids are) or whose name contains q (ignoring case)'),
  status: z
    .enum(LEVEL_STATUSES)
    .optional()
    .describe('all (default); stock_out: available at or below 0; below_reorder_point: a reorder point above 0 and available below it (a stock-out with one is both), as the stock overview counts them'),
  cursor,
  limit: limit.describe("SKUs per page, 1..200 (default 50): a SKU's levels are never split across pages, so a page holds at most limit x warehouses rows"),
});
export type ListLevelsQuery = z.output<typeof listLevelsQuery>;

// ---------- responses (documented in OpenAPI; integration tests parse real responses with them) ----------

const quantities = z.strictObject({
  on_hand: z.number().int(),
  reserved: z.number().int(),
  available: z.number().int(),
  incoming: z.number().int(),
});

export const stockLevelResponse = quantities.extend({
  sku_id: z.string(),
  warehouse_id: z.string(),
  reorder_point: z.number().int(),
  safety_stock: z.number().int(),
  reorder_quantity: z.number().int().optional(),
  thresholds_from: z.enum(['level', 'sku_default']).optional().describe('`level`: set for this warehouse; `sku_default`: inherited from the SKU default'),
  sub_levels: z
    .number()
    .int()
    .optional()
    .describe('K when the level is split into K sub-levels to take a flash sale (POST /api/inventory/sub-levels); absent while it is one. The quantities are always the sum'),
  version: z.number().int(),
  updated_at: z.string().nullable(),
  last_movement_id: z.string().nullable().describe('the ledger row of the change that last moved this level; null before its first movement'),
});

export const movementResponse = z.strictObject({
  movement_id: z.string(),
  sku_id: z.string(),
  warehouse_id: z.string(),
  type: z.enum(MOVEMENT_TYPES),
  deltas: quantities,
  resulting: quantities
    .optional()
    .describe('the level right after this row; absent on rows written as blind increments (sales, restocks, adjustments, transfers and reservations without an expectation), which never read the level'),
  version: z.number().int().optional(),
  reason: z.string().optional(),
  reference: z.string().optional(),
  note: z.string().optional(),
  correlation_id: z.string().optional(),
  unit_cost: shownOnlyWith('costs:read', z.string().optional().describe(MONEY_OUT)),
  currency: z.string().optional(),
  actor: z.string(),
  created_at: z.string(),
});

const stamps = { created_at: z.string(), updated_at: z.string() };

export const productResponse = z.strictObject({
  product_id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  brand: z.string().optional(),
  category: z.string().optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  ...stamps,
});

export const skuResponse = z.strictObject({
  sku_id: z.string(),
  product_id: z.string(),
  name: z.string(),
  barcode: z.string().optional(),
  unit_cost: shownOnlyWith('costs:read', z.string().optional().describe(MONEY_OUT)),
  price: shownOnlyWith('costs:read', z.string().optional().describe(MONEY_OUT)),
  currency: z.string().optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  supplier_id: z.string().optional().describe('The supplier replenishment orders this SKU from'),
  service_level: z.number().optional().describe('Target cycle service level of its reorder points; absent: 0.95'),
  version: z.number().int(),
  ...stamps,
});

export const warehouseResponse = z.strictObject({
  warehouse_id: z.string(),
  name: z.string(),
  address: address.optional(),
  latitude: z.number(),
  longitude: z.number(),
  priority: z.number().int(),
  active: z.boolean(),
  version: z.number().int(),
  ...stamps,
});

const page = <K extends string, T extends z.ZodType>(name: K, item: T) =>
  z.strictObject({ [name]: z.array(item), next_cursor: z.string().nullable() } as Record<K, z.ZodArray<T>> & {
    next_cursor: z.ZodNullable<z.ZodString>;
  });

export const skuListResponse = page('skus', skuResponse);
export const warehouseListResponse = page('warehouses', warehouseResponse);
export const movementsResponse = page('movements', movementResponse);

/** A row of the level list: the level as GET /api/inventory/sku/{sku_id} shows it, and its SKU's name. */
export const subLevelsResponse = z.strictObject({
  level: stockLevelResponse,
  sub_levels: z
    .array(z.strictObject({ index: z.number().int(), on_hand: z.number().int(), reserved: z.number().int(), available: z.number().int() }))
    .describe("each sub-level's share right after the split (index 0 is the level item); they sum to the level"),
});

export const levelRowResponse = stockLevelResponse.extend({ sku_name: z.string().describe("the SKU's name") });

export const levelListResponse = z.strictObject({
  levels: z.array(levelRowResponse).describe('sorted by sku_id, then warehouse_id; a SKU without levels (never stocked, or none kept by the filters) has no row'),
  next_cursor: z
    .string()
    .nullable()
    .describe(
      `Pages over the tenant's SKUs, bound to this query's filters. A filtered page may hold fewer SKUs than limit, even none, and still have a cursor (one page reads at most ${LEVEL_LIST_READS} x limit SKUs): follow it until null`,
    ),
});

export const skuInventoryResponse = z.strictObject({
  sku_id: z.string(),
  levels: z.array(stockLevelResponse),
  totals: quantities,
  last_updated: z.string().nullable(),
});

export const transferResponse = z.strictObject({
  transfer_id: z.string(),
  from: stockLevelResponse,
  to: stockLevelResponse,
});

const errorShape = z.strictObject({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) });

export const bulkUpdateResponse = z.strictObject({
  atomic: z.boolean(),
  applied: z.number().int(),
  rejected: z.number().int(),
  results: z.array(
    z.discriminatedUnion('status', [
      z.strictObject({ index: z.number().int(), status: z.literal('applied'), level: stockLevelResponse }),
      z.strictObject({ index: z.number().int(), status: z.literal('rejected'), error: errorShape }),
    ]),
  ),
});
