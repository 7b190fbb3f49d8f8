import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireSku } from '../inventory/catalog';
import type { Deps } from '../platform/context';
import { getLakeQuery, runLakeQuery, toPositional, type Lake, type LakeQueryResult, type LakeRecord, type LakeValue } from '../platform/lake';
import { AppError } from '../platform/errors';
import type { StockMovementQuery, StockMovementResponse } from './schemas';
import { stockMovementRow } from './schemas';

/**
 * The reports over the lake (issue 9). Each report is one SQL file under
 * functions/reports/sql/, run through Athena's API (functions/platform/lake.ts):
 * in AWS by Athena, locally by the DuckDB stand-in. The tenant is always the
 * caller's (ctx), bound as the query's first parameter; every filter is bound too.
 */
export interface ReportDeps extends Deps {
  lake: Lake;
}

const sqlText = (name: string): string => readFileSync(join(__dirname, 'sql', `${name}.sql`), 'utf8');
const SQL = { stockMovement: sqlText('stock-movement'), dataAsOf: sqlText('data-as-of') };

const toInteger = (value: LakeValue, column: string): number => {
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw new AppError('INTERNAL', `the lake answered a non-integer ${column}`);
  return number;
};

const movementRows = (rows: LakeRecord[]) =>
  rows.map((row) =>
    stockMovementRow.parse({
      period: row.period,
      type: row.type,
      units_in: toInteger(row.units_in ?? null, 'units_in'),
      units_out: toInteger(row.units_out ?? null, 'units_out'),
      net: toInteger(row.net ?? null, 'net'),
      movements: toInteger(row.movements ?? null, 'movements'),
    }),
  );

const answer = (result: LakeQueryResult, dataAsOf: string | null): StockMovementResponse =>
  result.state === 'running' ? { state: 'running', query_id: result.query_id } : { state: 'succeeded', query_id: result.query_id, rows: movementRows(result.rows), data_as_of: dataAsOf };

/** GET /api/reports/stock-movement: per period and movement type, units in, out, net and movements, for the caller's tenant. */
export const stockMovementReport = async (deps: ReportDeps, query: StockMovementQuery): Promise<StockMovementResponse> => {
  if (query.sku_id !== undefined) await requireSku(deps, query.sku_id);
  const tenantId = deps.ctx.caller.tenantId;
  const window = { from: new Date(Date.parse(query.from)).toISOString(), to: new Date(Date.parse(query.to)).toISOString() };
  const report = toPositional(SQL.stockMovement, {
    ...window,
    grain: query.group_by,
    sku_id: query.sku_id ?? null,
    warehouse_id: query.warehouse_id ?? null,
    type: query.type ?? null,
  });
  const asOf = toPositional(SQL.dataAsOf, window);
  const [result, newest] = await Promise.all([
    runLakeQuery(deps.lake, { sql: report.sql, parameters: report.parameters, tenantId }),
    runLakeQuery(deps.lake, { sql: asOf.sql, parameters: asOf.parameters, tenantId }),
  ]);
  const dataAsOf = newest.state === 'succeeded' ? newest.rows[0]?.data_as_of : null;
  return answer(result, typeof dataAsOf === 'string' ? dataAsOf : null);
};

/**
 * GET /api/reports/queries/{query_id}: a report that answered `running`, read again; the same body
 * when it is done. Another tenant's query is not found. data_as_of is not known on this path (null).
 */
export const reportQuery = async (deps: ReportDeps, queryId: string): Promise<StockMovementResponse> =>
  answer(await getLakeQuery(deps.lake, { queryId, tenantId: deps.ctx.caller.tenantId }), null);
