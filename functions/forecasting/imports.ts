import type { z } from 'zod';
import { existingCatalogIds } from '../inventory/catalog';
import type { Deps } from '../platform/context';
import { AppError } from '../platform/errors';
import { ID_PATTERN, newSortableId } from '../platform/ids';
import { DEMAND_IMPORTS_PREFIX, type LakeObjects } from '../platform/lake-objects';
import { mapBounded } from '../platform/pool';
import { readParquet, writeParquet, type ParquetColumn, type ParquetRow } from '../platform/parquet';
import {
  MAX_IMPORT_QUANTITY,
  MAX_IMPORT_ROWS,
  OLDEST_IMPORT_DAY,
  type importDemandHistoryBody,
  type importDemandHistoryResponse,
  type RefusalCode,
  type refusedRow,
} from './schemas';

/**
 * A business's past daily demand, imported into the lake as history only (issue 10, scope item 1:
 * `POST /api/reports/demand-history`). It never changes a stock level or the ledger: the rows go to
 * one Parquet object per accepted import in the lake bucket, through S3's API only,
 *
 *   demand_imports/tenant_id=<t>/<import_id>.parquet   (date, sku_id, warehouse_id, quantity, import_id, imported_at)
 *
 * `import_id` a ULID, so the keys list in import order. A row is identified by (date, SKU,
 * warehouse): readers (`readDemandImports`) merge every import object in import_id order and the
 * last one wins, so importing the same rows twice does not double them and a later import of a
 * day replaces the earlier one. Objects are never rewritten or deleted here.
 */

export type ImportDeps = Deps & { objects: LakeObjects };

export const DEMAND_IMPORT_COLUMNS: readonly ParquetColumn[] = [
  ['date', 'VARCHAR NOT NULL'],
  ['sku_id', 'VARCHAR NOT NULL'],
  ['warehouse_id', 'VARCHAR NOT NULL'],
  ['quantity', 'BIGINT NOT NULL'],
  ['import_id', 'VARCHAR NOT NULL'],
  ['imported_at', 'TIMESTAMP NOT NULL'],
];

/** Where the imports live under the lake bucket (the prefix is declared once, in functions/platform/lake-objects.ts). */
export const demandImportKeys = {
  tenant: (tenantId: string): string => `${DEMAND_IMPORTS_PREFIX}tenant_id=${tenantId}/`,
  object: (tenantId: string, importId: string): string => `${demandImportKeys.tenant(tenantId)}${importId}.parquet`,
} as const;

const IMPORT_KEY = /\/([0-9A-HJKMNP-TV-Z]{26})\.parquet$/;

/** One day of imported demand. */
export interface ImportedDemand {
  date: string;
  sku_id: string;
  warehouse_id: string;
  quantity: number;
  /** The import it came from (the latest that named its date, SKU and warehouse). */
  import_id: string;
}

type Refusal = z.output<typeof refusedRow>;

// ---------- checking rows (pure) ----------

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A YYYY-MM-DD that names a real calendar day (2026-02-30 does not). */
export const isCalendarDay = (text: string): boolean => {
  if (!DAY.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00.000Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === text;
};

const ROW_FIELDS = new Set(['date', 'sku_id', 'warehouse_id', 'quantity']);

/** A row that passed its own checks (the catalogue and duplicates are judged after). */
interface Candidate {
  date: string;
  sku_id: string;
  warehouse_id: string;
  quantity: number;
}

type Checked = { ok: Candidate } | { refused: { code: RefusalCode; message: string } };

const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** A row's own checks, first failure wins: shape, date, ids, quantity. `today` is YYYY-MM-DD (UTC). */
export const checkRow = (row: unknown, today: string): Checked => {
  const refuse = (code: RefusalCode, message: string): Checked => ({ refused: { code, message } });
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return refuse('INVALID_ROW', 'a row must be an object with date, sku_id, warehouse_id and quantity');
  const fields = Object.keys(row);
  const unknown = fields.filter((field) => !ROW_FIELDS.has(field));
  if (unknown.length > 0) return refuse('INVALID_ROW', `unknown field(s): ${unknown.join(', ')}`);
  const { date, sku_id: skuId, warehouse_id: warehouseId, quantity } = row as Record<string, unknown>;
  if (typeof date !== 'string' || !isCalendarDay(date)) return refuse('INVALID_DATE', 'date must be a calendar day, YYYY-MM-DD');
  if (date > today) return refuse('FUTURE_DATE', `date is after today (${today}, UTC): only past demand is history`);
  if (date < OLDEST_IMPORT_DAY) return refuse('DATE_TOO_OLD', `date is before ${OLDEST_IMPORT_DAY}`);
  if (typeof skuId !== 'string' || !ID_PATTERN.test(skuId)) return refuse('INVALID_SKU_ID', 'sku_id must be a SKU id: 1-64 letters, digits, "_", "-" or "."');
  if (typeof warehouseId !== 'string' || !ID_PATTERN.test(warehouseId)) return refuse('INVALID_WAREHOUSE_ID', 'warehouse_id must be a warehouse id: 1-64 letters, digits, "_", "-" or "."');
  if (typeof quantity !== 'number' || Number.isNaN(quantity)) return refuse('INVALID_QUANTITY', 'quantity must be a number (a whole number of units)');
  if (quantity < 0) return refuse('NEGATIVE_QUANTITY', 'quantity must not be negative');
  if (Number.isFinite(quantity) && !Number.isInteger(quantity)) return refuse('FRACTIONAL_QUANTITY', 'quantity must be a whole number of units');
  if (quantity > MAX_IMPORT_QUANTITY) return refuse('QUANTITY_TOO_LARGE', `quantity must be at most ${MAX_IMPORT_QUANTITY.toLocaleString('en-US')}`);
  // -0 is 0.
  return { ok: { date, sku_id: skuId, warehouse_id: warehouseId, quantity: quantity === 0 ? 0 : quantity } };
};

const rowKey = (row: { date: string; sku_id: string; warehouse_id: string }): string => JSON.stringify([row.date, row.sku_id, row.warehouse_id]);

/** The (date, SKU, warehouse) a row names, when it names one well-formed: what a later row duplicates. */
const keyOf = (row: unknown): string | undefined => {
  if (typeof row !== 'object' || row === null) return undefined;
  const { date, sku_id: skuId, warehouse_id: warehouseId } = row as Record<string, unknown>;
  if (typeof date !== 'string' || !isCalendarDay(date) || typeof skuId !== 'string' || typeof warehouseId !== 'string') return undefined;
  return rowKey({ date, sku_id: skuId, warehouse_id: warehouseId });
};

/**
 * Every row judged, in order: its own checks, then the catalogue (`known`), then whether an earlier
 * row of the call named the same date, SKU and warehouse (whatever became of that one: the file
 * says two things of one day, and the first is the one it said first).
 */
type Catalogue = { skuIds: ReadonlySet<string>; warehouseIds: ReadonlySet<string> };

export const judgeRows = async (
  rows: readonly unknown[],
  today: string,
  known: (checked: readonly Candidate[]) => Catalogue | Promise<Catalogue>,
): Promise<{ accepted: Candidate[]; refused: Refusal[] }> => {
  const checked = rows.map((row) => checkRow(row, today));
  const candidates = checked.flatMap((result) => ('ok' in result ? [result.ok] : []));
  const catalogue = await known(candidates);
  const firstRowOf = new Map<string, number>();
  const accepted: Candidate[] = [];
  const refused: Refusal[] = [];
  rows.forEach((row, at) => {
    const position = at + 1;
    const fields = typeof row === 'object' && row !== null ? (row as Record<string, unknown>) : {};
    const refuse = (code: RefusalCode, message: string): void => {
      refused.push({ row: position, date: textOrNull(fields.date), sku_id: textOrNull(fields.sku_id), warehouse_id: textOrNull(fields.warehouse_id), code, message });
    };
    const key = keyOf(row);
    const earlier = key === undefined ? undefined : firstRowOf.get(key);
    if (key !== undefined && earlier === undefined) firstRowOf.set(key, position);
    const result = checked[at];
    if (result === undefined) return;
    if ('refused' in result) return refuse(result.refused.code, result.refused.message);
    const candidate = result.ok;
    if (!catalogue.skuIds.has(candidate.sku_id)) return refuse('UNKNOWN_SKU', `no SKU ${candidate.sku_id} in this tenant`);
    if (!catalogue.warehouseIds.has(candidate.warehouse_id)) return refuse('UNKNOWN_WAREHOUSE', `no warehouse ${candidate.warehouse_id} in this tenant`);
    if (earlier !== undefined) return refuse('DUPLICATE_ROW', `row ${earlier} already names date ${candidate.date}, SKU ${candidate.sku_id} and warehouse ${candidate.warehouse_id}`);
    accepted.push(candidate);
  });
  return { accepted, refused };
};

// ---------- the import ----------

const PARQUET_TYPE = 'application/vnd.apache.parquet';

/**
 * POST /api/reports/demand-history: judges every row, and writes the accepted ones as one new
 * import object (none when no row is accepted). More than MAX_IMPORT_ROWS rows is a 413.
 */
export const importDemandHistory = async (deps: ImportDeps, body: z.output<typeof importDemandHistoryBody>): Promise<z.output<typeof importDemandHistoryResponse>> => {
  if (body.rows.length > MAX_IMPORT_ROWS) {
    throw new AppError('PAYLOAD_TOO_LARGE', `at most ${MAX_IMPORT_ROWS} rows per import (this one has ${body.rows.length}): split the history into several imports`, {
      max_rows: MAX_IMPORT_ROWS,
    });
  }
  const now = deps.ctx.now();
  const today = now.toISOString().slice(0, 10);
  const { accepted, refused } = await judgeRows(body.rows, today, (candidates) =>
    existingCatalogIds(deps, { skuIds: candidates.map((row) => row.sku_id), warehouseIds: candidates.map((row) => row.warehouse_id) }),
  );
  const answer = { received: body.rows.length, imported: accepted.length, refused };
  if (accepted.length === 0) return { import_id: null, imported_at: null, ...answer };
  const importId = newSortableId();
  const importedAt = now.toISOString();
  const parquet = writeParquet(
    DEMAND_IMPORT_COLUMNS,
    accepted.map((row) => ({ ...row, quantity: BigInt(row.quantity), import_id: importId, imported_at: importedAt })),
  );
  await deps.objects.put(demandImportKeys.object(deps.ctx.caller.tenantId, importId), parquet, PARQUET_TYPE);
  return { import_id: importId, imported_at: importedAt, ...answer };
};

// ---------- reading them back ----------

const cellText = (row: ParquetRow, column: string, key: string): string => {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`${key}: ${column} is not text`);
  return value;
};

/** How many import objects are fetched at once. */
const CONCURRENCY = 8;

/**
 * Every imported day of the tenant, merged: import objects applied in import_id order, a later
 * import's row replacing an earlier one's of the same date, SKU and warehouse. Ordered by SKU,
 * warehouse and date. Every imported day is given, also today's and those the close has not
 * reached (history.ts reads only closed days of it).
 */
export const readDemandImports = async (objects: LakeObjects, tenantId: string): Promise<ImportedDemand[]> => {
  const listed = (await objects.list(demandImportKeys.tenant(tenantId))).filter((object) => IMPORT_KEY.test(object.key));
  // ULIDs have one length and sort as text in time order, and S3 lists keys in that order; sorted again so no reader depends on it.
  const keys = listed.map((object) => object.key).sort();
  const files = await mapBounded(keys, CONCURRENCY, async (key) => {
    const bytes = await objects.get(key);
    return bytes === undefined ? [] : await readParquet(bytes, DEMAND_IMPORT_COLUMNS.map(([name]) => name));
  });
  const merged = new Map<string, ImportedDemand>();
  files.forEach((rows, at) => {
    const key = keys[at] ?? '';
    for (const row of rows) {
      const quantity = row.quantity;
      if (typeof quantity !== 'bigint') throw new TypeError(`${key}: quantity is not an integer`);
      const day: ImportedDemand = {
        date: cellText(row, 'date', key),
        sku_id: cellText(row, 'sku_id', key),
        warehouse_id: cellText(row, 'warehouse_id', key),
        quantity: Number(quantity),
        import_id: cellText(row, 'import_id', key),
      };
      merged.set(rowKey(day), day);
    }
  });
  const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...merged.values()].sort((a, b) => order(a.sku_id, b.sku_id) || order(a.warehouse_id, b.warehouse_id) || order(a.date, b.date));
};
