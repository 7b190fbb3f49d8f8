import * as z from 'zod';

/**
 * Request and response schemas of the forecasting context (issue 10). Handlers validate with
 * these and GET /api/openapi.json is generated from them.
 */

/** At most this many rows in one import (more is a 413: split the history into several calls). */
export const MAX_IMPORT_ROWS = 10_000;
/** The largest daily quantity an import takes (a bigger one is a typo or a unit mix-up, refused per row). */
export const MAX_IMPORT_QUANTITY = 1_000_000_000;
/** The oldest day an import takes: history before it is refused per row as unreasonably old. */
export const OLDEST_IMPORT_DAY = '2000-01-01';

/**
 * One row as a client sends it. Documented with the types it should have, but each field is
 * taken as it comes (`z.unknown()` underneath): a row that is wrong is refused on its own, with
 * its reason, and the rest of the import goes ahead, so no row's value makes the whole body a 400.
 */
const documented = (schema: z.ZodType) => {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input' });
  return z.unknown().meta(json);
};

export const demandImportRowInput = z
  .strictObject({
    date: documented(z.iso.date().describe('The day (UTC) of the demand, YYYY-MM-DD: a real calendar day, not after today, not before 2000-01-01')),
    sku_id: documented(z.string().describe('A SKU of the tenant')),
    warehouse_id: documented(z.string().describe('A warehouse of the tenant')),
    quantity: documented(z.number().int().min(0).max(MAX_IMPORT_QUANTITY).describe('Units demanded that day: a whole number from 0 to 1,000,000,000')),
  })
  .describe('One day of demand of one SKU in one warehouse; (date, sku_id, warehouse_id) identifies it, and a later import of the same replaces it');

export const importDemandHistoryBody = z.strictObject({
  rows: z
    .array(documented(demandImportRowInput))
    .describe(`Up to ${MAX_IMPORT_ROWS.toLocaleString('en-US')} rows (more is a 413); each is imported or refused on its own`),
});

export const REFUSAL_CODES = [
  'INVALID_ROW',
  'INVALID_DATE',
  'FUTURE_DATE',
  'DATE_TOO_OLD',
  'INVALID_SKU_ID',
  'INVALID_WAREHOUSE_ID',
  'INVALID_QUANTITY',
  'NEGATIVE_QUANTITY',
  'FRACTIONAL_QUANTITY',
  'QUANTITY_TOO_LARGE',
  'UNKNOWN_SKU',
  'UNKNOWN_WAREHOUSE',
  'DUPLICATE_ROW',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

export const refusedRow = z.strictObject({
  row: z.number().int().min(1).describe('The row\'s 1-based position in `rows` (CSV: its data row, the header not counted)'),
  date: z.string().nullable().describe('The row\'s date as sent, when it was a string'),
  sku_id: z.string().nullable().describe('The row\'s sku_id as sent, when it was a string'),
  warehouse_id: z.string().nullable().describe('The row\'s warehouse_id as sent, when it was a string'),
  code: z
    .enum(REFUSAL_CODES)
    .describe(
      'INVALID_ROW: not an object, or fields besides date, sku_id, warehouse_id and quantity. INVALID_DATE: not a YYYY-MM-DD calendar day. ' +
        'FUTURE_DATE: after today (UTC). DATE_TOO_OLD: before 2000-01-01. INVALID_SKU_ID, INVALID_WAREHOUSE_ID: missing, or not an id. ' +
        'INVALID_QUANTITY: missing or not a number. NEGATIVE_QUANTITY, FRACTIONAL_QUANTITY, QUANTITY_TOO_LARGE (over 1,000,000,000). ' +
        'UNKNOWN_SKU, UNKNOWN_WAREHOUSE: no such SKU or warehouse in this tenant. DUPLICATE_ROW: the same date, SKU and warehouse as an earlier row of this call.',
    ),
  message: z.string(),
});

export const importDemandHistoryResponse = z.strictObject({
  import_id: z.string().nullable().describe('The import\'s id (a ULID: imports sort by it, and a later one replaces an earlier one\'s rows); null when no row was imported, and then nothing was written'),
  imported_at: z.iso.datetime().nullable(),
  received: z.number().int().min(0).describe('Rows in the request'),
  imported: z.number().int().min(0).describe('Rows imported'),
  refused: z.array(refusedRow).describe('Every row not imported, in request order, with the reason'),
});
