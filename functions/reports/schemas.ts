import * as z from 'zod';
import { shownOnlyWith } from '../platform/sensitive';
import { idSchema, isUlidTime } from '../platform/ids';
import { MOVEMENT_TYPES } from '../inventory/model';

/**
 * Request and response schemas of the reports context (issue 9). Handlers
 * validate with these and GET /api/openapi.json is generated from them.
 */

/** The longest window a report covers. */
export const MAX_WINDOW_YEARS = 3;

const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });

/** The last instant a bound may name: SQL timestamps (Trino's and DuckDB's) have four-digit years. */
export const LAST_BOUND = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A window bound: an ISO 8601 date (midnight UTC) or date-time with offset, between 1970 and the end of 9999 (UTC). */
const bound = z
  .string()
  .max(40)
  .refine((text) => isoDate.safeParse(text).success || isoDateTime.safeParse(text).success, 'must be an ISO 8601 date or date-time such as 2026-01-31 or 2026-01-31T00:00:00Z')
  .refine((text) => isUlidTime(Date.parse(text)) && Date.parse(text) <= LAST_BOUND, 'must lie between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (UTC)');

/** `from` plus the longest window, as an epoch instant (calendar years in UTC). */
export const windowEnd = (from: string): number => {
  const start = new Date(Date.parse(from));
  start.setUTCFullYear(start.getUTCFullYear() + MAX_WINDOW_YEARS);
  return start.getTime();
};

const validBound = (text: string): boolean => bound.safeParse(text).success;

/** The window rules every windowed report shares: to after from, at most MAX_WINDOW_YEARS later. */
const windowed = <T extends { from: string; to: string }>(schema: z.ZodType<T>) =>
  schema
    .refine((q) => !validBound(q.from) || !validBound(q.to) || Date.parse(q.to) > Date.parse(q.from), { path: ['to'], message: 'must be after from' })
    .refine((q) => !validBound(q.from) || !validBound(q.to) || Date.parse(q.to) <= windowEnd(q.from), {
      path: ['to'],
      message: `must be at most ${MAX_WINDOW_YEARS} years after from`,
    });

const GRAINS = ['day', 'week', 'month'] as const;

export const stockMovementQuery = windowed(
  z.strictObject({
    from: bound.describe('start of the window, inclusive'),
    to: bound.describe('end of the window, exclusive; after from, at most 3 years later'),
    group_by: z.enum(GRAINS).default('day').describe('period of each row; weeks start on Monday'),
    sku_id: idSchema.optional(),
    warehouse_id: idSchema.optional(),
    type: z.enum(MOVEMENT_TYPES).optional(),
  }),
);
export type StockMovementQuery = z.infer<typeof stockMovementQuery>;

export const DEFAULT_DEAD_DAYS = 90;
export const MOVERS = 10;

export const salesTrendsQuery = windowed(
  z.strictObject({
    from: bound.describe('start of the window, inclusive'),
    to: bound.describe('end of the window, exclusive; after from, at most 3 years later'),
    granularity: z.enum(GRAINS).default('week').describe('period of each row; weeks start on Monday'),
    sku_id: idSchema.optional(),
    warehouse_id: idSchema.optional(),
    dead_days: z.coerce
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(DEFAULT_DEAD_DAYS)
      .describe('a level holding stock at the end of the window with no sale in this many days before it is dead stock'),
  }),
);
export type SalesTrendsQuery = z.infer<typeof salesTrendsQuery>;

export const valuationQuery = z.strictObject({
  as_of: bound.describe('value the stock as it stood at this instant, movements at it included; a date means the end of that day (UTC): as_of=2025-12-31 is the stock on 31 December'),
  method: z.enum(['fifo', 'weighted_average']).default('fifo'),
  sku_id: idSchema.optional(),
  warehouse_id: idSchema.optional(),
});
export type ValuationQuery = z.infer<typeof valuationQuery>;

/**
 * A report query that answered `running`: its id is the report's name, the request it
 * answers and the lake's query id, base64url-encoded, so that polling needs no state of
 * its own and can check the lake query really is that request's (functions/reports/reports.ts).
 */
export const reportQueryParams = z.strictObject({
  query_id: z.string().regex(/^[A-Za-z0-9_-]{1,2048}$/, 'must be a query id as a report answered it'),
});

// ---------- responses ----------

const instant = z.string().describe('ISO 8601 instant, UTC');
const dataAsOf = z.string().nullable().describe("the newest movement the lake holds for the tenant (ISO instant); null when it holds none. Locally a movement reaches the lake within 10 s; in AWS within Firehose's buffer (15 min)");
const queryId = z.string().describe('the id of this report run; GET /api/reports/queries/{query_id} answers it again');

export const stockMovementRow = z.strictObject({
  period: z.string().describe('first day of the period, YYYY-MM-DD (UTC)'),
  type: z.enum(MOVEMENT_TYPES),
  units_in: z.number().int().describe('sum of the positive on_hand deltas'),
  units_out: z.number().int().describe('sum of the negative on_hand deltas, as a positive number'),
  net: z.number().int(),
  movements: z.number().int().describe('ledger rows, each counted once'),
});

export const stockMovementDone = z.strictObject({
  report: z.literal('stock-movement'),
  query_id: queryId,
  from: instant,
  to: instant,
  group_by: z.enum(GRAINS),
  rows: z.array(stockMovementRow),
  opening_on_hand: z.number().int().describe('on_hand of the SKUs and warehouses in scope just before from (every type, whatever the type filter)'),
  closing_on_hand: z.number().int().describe('on_hand of the SKUs and warehouses in scope just before to'),
  data_as_of: dataAsOf,
});
export type StockMovementDone = z.infer<typeof stockMovementDone>;

const money = z.string().describe('exact decimal string');

export const salesPeriodRow = z.strictObject({
  period: z.string().describe('first day of the period, YYYY-MM-DD (UTC)'),
  currency: z.string().nullable().describe('revenue currency; null for units of SKUs without a price'),
  units: z.number().int().describe('units sold (sale and shipment rows)'),
  revenue: shownOnlyWith('costs:read', money.nullable().describe('units x the SKU\'s list price (orders carry no prices); null for SKUs without one')),
  moving_average_units: z.string().describe('mean units of this period and the two before it (fewer at the start), 2 decimals'),
  change_units: z.number().int().nullable().describe('units minus the previous period\'s; null for the first period'),
  change_percent: z.string().nullable().describe('change against the previous period in percent, 1 decimal; null when there is no previous period or it sold nothing'),
});

export const moverRow = z.strictObject({
  sku_id: z.string(),
  units: z.number().int().describe('units sold in the window'),
  revenue: shownOnlyWith('costs:read', money.nullable()),
  currency: z.string().nullable(),
  on_hand: z.number().int().describe('on_hand at the end of the window, all warehouses in scope'),
});

export const deadStockRow = z.strictObject({
  sku_id: z.string(),
  warehouse_id: z.string(),
  on_hand: z.number().int().describe('on_hand at the end of the window'),
  last_sale_at: z.string().nullable().describe('the last sale before the end of the window, ISO instant; null if never'),
});

export const salesTrendsDone = z.strictObject({
  report: z.literal('sales-trends'),
  query_id: queryId,
  from: instant,
  to: instant,
  granularity: z.enum(GRAINS),
  dead_days: z.number().int(),
  periods: z
    .array(salesPeriodRow)
    .describe('every period of the window for each revenue currency sold in the window (currency null: SKUs without a price), zeros where nothing sold; a window without sales has one series of zeros with currency null'),
  top_movers: z.array(moverRow).describe(`the ${MOVERS} SKUs that sold the most units`),
  slow_movers: z.array(moverRow).describe(`the ${MOVERS} SKUs holding stock at the end of the window that sold the fewest units (none counts)`),
  dead_stock: z.array(deadStockRow).describe('levels holding stock at the end of the window with no sale in dead_days before it'),
  data_as_of: dataAsOf,
});
export type SalesTrendsDone = z.infer<typeof salesTrendsDone>;

export const valuationLineRow = z.strictObject({
  sku_id: z.string(),
  warehouse_id: z.string(),
  quantity: z.number().int().describe('on_hand at as_of'),
  unit_cost: shownOnlyWith('costs:read', money.nullable().describe('value / quantity; null when the quantity is not positive')),
  value: shownOnlyWith('costs:read', money),
  currency: z.string().nullable().describe('null when the level never had a cost'),
});

export const valuationTotalRow = z.strictObject({ currency: z.string(), quantity: z.number().int(), value: shownOnlyWith('costs:read', money) });

export const valuationWarningRow = z.strictObject({
  kind: z.enum(['shortfall', 'no_cost', 'invalid_cost', 'currency_mismatch', 'unmatched_transfer', 'invalid_row']),
  movement_id: z.string().describe('the ledger row the warning is about'),
  sku_id: z.string(),
  warehouse_id: z.string(),
  type: z.string(),
  quantity: z.number().int().describe('the units the warning is about'),
  value: shownOnlyWith('costs:read', money.optional()),
  unit_cost: shownOnlyWith('costs:read', money.optional()),
  currency: z.string().optional(),
  message: z.string(),
});

export const valuationDone = z.strictObject({
  report: z.literal('valuation'),
  query_id: queryId,
  as_of: instant,
  method: z.enum(['fifo', 'weighted_average']),
  lines: z.array(valuationLineRow),
  totals: z.array(valuationTotalRow).describe('per currency'),
  warnings: z.array(valuationWarningRow).describe('what the ledger cannot explain, e.g. a sale when stock was short'),
  data_as_of: dataAsOf,
});
export type ValuationDone = z.infer<typeof valuationDone>;

export const reportRunning = z.strictObject({
  state: z.literal('running'),
  query_id: z.string().describe('poll GET /api/reports/queries/{query_id} (the Location header) for the result'),
});
export type ReportRunning = z.infer<typeof reportRunning>;

export const reportDone = z.discriminatedUnion('report', [stockMovementDone, salesTrendsDone, valuationDone]);
export type ReportDone = z.infer<typeof reportDone>;
