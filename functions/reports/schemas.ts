import { z } from 'zod';
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

/** A window bound: an ISO 8601 date (midnight UTC) or date-time with offset, at an instant the ledger's ids (ULIDs) can carry. */
const bound = z
  .string()
  .max(40)
  .refine((text) => isoDate.safeParse(text).success || isoDateTime.safeParse(text).success, 'must be an ISO 8601 date or date-time such as 2026-01-31 or 2026-01-31T00:00:00Z')
  .refine(
    (text) => isUlidTime(Date.parse(text)),
    "must lie between 1970-01-01T00:00:00Z and 10889-08-02T05:31:50.655Z, the instants the ledger's ids (ULIDs) can carry",
  );

/** `from` plus the longest window, as an epoch instant (calendar years in UTC). */
export const windowEnd = (from: string): number => {
  const start = new Date(Date.parse(from));
  start.setUTCFullYear(start.getUTCFullYear() + MAX_WINDOW_YEARS);
  return start.getTime();
};

const validBound = (text: string): boolean => bound.safeParse(text).success;

export const stockMovementQuery = z
  .strictObject({
    from: bound.describe('start of the window, inclusive'),
    to: bound.describe('end of the window, exclusive; after from, at most 3 years later'),
    group_by: z.enum(['day', 'week', 'month']).default('day').describe('period of each row; weeks start on Monday'),
    sku_id: idSchema.optional(),
    warehouse_id: idSchema.optional(),
    type: z.enum(MOVEMENT_TYPES).optional(),
  })
  .refine((q) => !validBound(q.from) || !validBound(q.to) || Date.parse(q.to) > Date.parse(q.from), { path: ['to'], message: 'must be after from' })
  .refine((q) => !validBound(q.from) || !validBound(q.to) || Date.parse(q.to) <= windowEnd(q.from), {
    path: ['to'],
    message: `must be at most ${MAX_WINDOW_YEARS} years after from`,
  });
export type StockMovementQuery = z.infer<typeof stockMovementQuery>;

/** Query ids: the lake's (Athena's UUIDs, or the local stand-in's). */
export const reportQueryParams = z.strictObject({
  query_id: z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'must be a query id as a report answered it'),
});

// ---------- responses ----------

export const stockMovementRow = z.strictObject({
  period: z.string().describe('first day of the period, YYYY-MM-DD (UTC)'),
  type: z.enum(MOVEMENT_TYPES),
  units_in: z.number().int().describe('sum of the positive on_hand deltas'),
  units_out: z.number().int().describe('sum of the negative on_hand deltas, as a positive number'),
  net: z.number().int(),
  movements: z.number().int().describe('ledger rows, each counted once'),
});

export const stockMovementDone = z.strictObject({
  state: z.literal('succeeded'),
  query_id: z.string(),
  rows: z.array(stockMovementRow),
  data_as_of: z.string().nullable().describe('the newest movement of the window the lake holds (ISO instant); null when it holds none'),
});

export const reportRunning = z.strictObject({
  state: z.literal('running'),
  query_id: z.string().describe('poll GET /api/reports/queries/{query_id} for the result'),
});

export const stockMovementResponse = z.union([stockMovementDone, reportRunning]);
export type StockMovementResponse = z.infer<typeof stockMovementResponse>;
