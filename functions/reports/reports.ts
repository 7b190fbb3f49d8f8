import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import type { ZodType } from 'zod';
import { listSkus, requireSku, requireWarehouse } from '../inventory/catalog';
import type { Sku } from '../inventory/model';
import { accepted, type Accepted } from '../platform/answers';
import type { Deps } from '../platform/context';
import { AppError, notFound } from '../platform/errors';
import { getLakeQuery, runLakeQuery, toPositional, type Lake, type LakeParam, type LakeQueryResult, type LakeRecord } from '../platform/lake';
import type { LakeObjects } from '../platform/lake-objects';
import { assertInScope, scopeOf } from '../platform/warehouse-scope';
import { endOfDay, readCheckpoint, readClosedDays, type Checkpoint, type ClosedDays } from './close';
import { MOVEMENT_TYPES } from '../inventory/model';
import {
  MOVERS,
  salesTrendsQuery,
  stockMovementQuery,
  valuationQuery,
  type ReportDone,
  type ReportRunning,
  type SalesTrendsDone,
  type SalesTrendsQuery,
  type StockMovementDone,
  type StockMovementQuery,
  type ValuationDone,
  type ValuationQuery,
} from './schemas';
import { divHalfEven, formatMicros, parseMicros, valuate, VALUATION_STATE_VERSION, type ValuationRow } from './valuation';

/**
 * The reports over the lake (issue 9). Each report is one SQL file under
 * functions/reports/sql/, run through Athena's API (functions/platform/lake.ts):
 * in AWS by Athena, locally by the DuckDB stand-in; what SQL cannot say well (the
 * valuation engine, list prices from the catalogue, filling empty periods) is done
 * here on its result. The tenant is always the caller's (ctx), bound as the query's
 * first parameter; every filter is bound too.
 *
 * A query that outlasts the lake's deadline answers 202 and a query id, which is the
 * report's name, its validated request and the lake's query id, base64url-encoded: the
 * poll (reportQuery) decodes the request again through the report's schema, rebuilds the
 * SQL and its parameters, and finds the query only if the lake ran exactly that for this
 * tenant, so a tampered id is not found and needs no state of its own.
 */
export interface ReportDeps extends Deps {
  lake: Lake;
  /** The lake bucket: the daily close's closed.json and valuation checkpoints (functions/reports/close.ts). */
  objects: LakeObjects;
}

/**
 * What the daily close has done, as a report binds it: days before `closed_through` are read
 * from the level_days rollup (1970-01-01 before any close: every day raw), and a valuation
 * resumes from the checkpoint at the end of `checkpoint`'s day. Part of the query id, so a
 * poll rebuilds the very SQL parameters the query ran with, whatever the close did since.
 */
const closeContext = z.strictObject({ t: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), k: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable() });
type CloseContext = z.infer<typeof closeContext>;
const NEVER_CLOSED = '1970-01-01';

/**
 * The day whose level_balances a report starts from: the day before the earlier of `day` (the
 * first day it needs raw or per-day rows of) and closed_through (the first day not closed).
 * Before any close it is 1969-12-31, which holds no balances: the whole history is raw.
 */
export const balanceDayBefore = (day: string, closedThrough: string): string => {
  const first = day < closedThrough ? day : closedThrough;
  return new Date(Date.parse(first) - DAY_MS).toISOString().slice(0, 10);
};
const dayOfInstant = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);

export type ReportAnswer<Done> = Promise<Done | Accepted<ReportRunning>>;

const sqlText = (name: string): string => readFileSync(join(__dirname, 'sql', `${name}.sql`), 'utf8');

/** A window bound as the lake's SQL casts it in Trino and DuckDB alike: `YYYY-MM-DD HH:MM:SS.mmm`, UTC. */
export const lakeInstant = (epochMs: number): string => new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');

const DAY_MS = 86_400_000;
const isDateOnly = (text: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(text);

// ---------- decoding the lake's rows (LakeValue: bigint for BIGINT, string for DATE/TIMESTAMP/DECIMAL) ----------

const lakeInteger = z.union([z.number(), z.bigint()]).transform((value, context) => {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    context.addIssue({ code: 'custom', message: 'not a safe integer' });
    return z.NEVER;
  }
  return number;
});
const lakeText = z.string();
const summaryRow = z.object({ row_kind: z.literal('summary'), data_as_of: lakeText.nullable() });

const decodeRows = <T>(schema: ZodType<T>, rows: LakeRecord[], report: string): T[] =>
  rows.map((row) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) throw new Error(`the lake answered a ${report} row this report cannot read: ${parsed.error.message}`);
    return parsed.data;
  });

/** The newest movement the report saw: the raw rows' newest, or the closed days' (closed.json) when later or alone. */
const dataAsOfOf = (rows: readonly { row_kind: string; data_as_of?: string | null }[], closedDays: ClosedDays | undefined): string | null => {
  const raw = rows.find((row) => row.row_kind === 'summary')?.data_as_of ?? null;
  const closed = closedDays?.newest_closed_at ?? null;
  if (raw === null || closed === null) return raw ?? closed;
  return Date.parse(closed) > Date.parse(raw) ? closed : raw;
};

// ---------- the reports ----------

type ReportName = ReportDone['report'];

interface LakeReport<Query, Done, Loaded = undefined> {
  name: ReportName;
  query: ZodType<Query>;
  sql: string;
  parameters: (query: Query, close: CloseContext) => Record<string, LakeParam>;
  /** The checkpoint a valuation at this query's as_of resumes from (only valuation has one). */
  checkpoint?: (query: Query, closed: ClosedDays) => string | null;
  /** Lookups before the query runs: an unknown SKU or warehouse is a 404, not an empty report. */
  check: (deps: ReportDeps, query: Query) => Promise<void>;
  /** What finish needs besides the rows (a valuation's checkpoint), loaded while the query runs. */
  load?: (deps: ReportDeps, query: Query, close: CloseContext) => Promise<Loaded>;
  finish: (deps: ReportDeps, query: Query, rows: LakeRecord[], queryId: string, close: CloseContext, closed: ClosedDays | undefined, loaded: Loaded | undefined) => Promise<Done>;
}

const checkFilters = async (deps: ReportDeps, query: { sku_id?: string; warehouse_id?: string }): Promise<void> => {
  await Promise.all([query.sku_id === undefined ? undefined : requireSku(deps, query.sku_id), query.warehouse_id === undefined ? undefined : requireWarehouse(deps, query.warehouse_id)]);
};

const windowOf = (query: { from: string; to: string }) => ({ from: Date.parse(query.from), to: Date.parse(query.to) });

const movementType = z.enum(MOVEMENT_TYPES);

const stockMovementRows = z.discriminatedUnion('row_kind', [
  z.object({ row_kind: z.literal('period'), period: lakeText, type: movementType, units_in: lakeInteger, units_out: lakeInteger, net: lakeInteger, movements: lakeInteger }),
  summaryRow.extend({ opening_on_hand: lakeInteger, closing_on_hand: lakeInteger }),
]);

const stockMovement: LakeReport<StockMovementQuery, StockMovementDone> = {
  name: 'stock-movement',
  query: stockMovementQuery,
  sql: sqlText('stock-movement'),
  parameters: (query, close) => {
    const window = windowOf(query);
    return {
      closed_through: close.t,
      balance_day: balanceDayBefore(dayOfInstant(window.from), close.t),
      from: lakeInstant(window.from),
      to: lakeInstant(window.to),
      grain: query.group_by,
      sku_id: query.sku_id ?? null,
      warehouse_id: query.warehouse_id ?? null,
      type: query.type ?? null,
    };
  },
  check: checkFilters,
  finish: async (_deps, query, records, queryId, _close, closed) => {
    const rows = decodeRows(stockMovementRows, records, 'stock-movement');
    const window = windowOf(query);
    const summary = rows.find((row) => row.row_kind === 'summary');
    return {
      report: 'stock-movement',
      query_id: queryId,
      from: new Date(window.from).toISOString(),
      to: new Date(window.to).toISOString(),
      group_by: query.group_by,
      rows: rows.flatMap((row) => (row.row_kind === 'period' ? [{ period: row.period, type: row.type, units_in: row.units_in, units_out: row.units_out, net: row.net, movements: row.movements }] : [])),
      opening_on_hand: summary?.opening_on_hand ?? 0,
      closing_on_hand: summary?.closing_on_hand ?? 0,
      data_as_of: dataAsOfOf(rows, closed),
    };
  },
};

// ---- sales trends ----

const salesTrendRows = z.discriminatedUnion('row_kind', [
  z.object({ row_kind: z.literal('sales'), period: lakeText, sku_id: lakeText, units: lakeInteger }),
  z.object({ row_kind: z.literal('level'), sku_id: lakeText, warehouse_id: lakeText, on_hand: lakeInteger, last_sale_at: lakeText.nullable() }),
  summaryRow,
]);

type Grain = StockMovementQuery['group_by'];

/** The first instant of the period holding `epochMs` (weeks start on Monday, as date_trunc's do). */
const periodStart = (epochMs: number, grain: Grain): number => {
  const day = new Date(epochMs);
  day.setUTCHours(0, 0, 0, 0);
  if (grain === 'week') day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  if (grain === 'month') day.setUTCDate(1);
  return day.getTime();
};

const nextPeriod = (start: number, grain: Grain): number => {
  const next = new Date(start);
  if (grain === 'day') next.setUTCDate(next.getUTCDate() + 1);
  if (grain === 'week') next.setUTCDate(next.getUTCDate() + 7);
  if (grain === 'month') next.setUTCMonth(next.getUTCMonth() + 1);
  return next.getTime();
};

/** Every period the window touches, as YYYY-MM-DD. */
export const periodsOf = (from: number, to: number, grain: Grain): string[] => {
  const periods: string[] = [];
  for (let start = periodStart(from, grain); start < to; start = nextPeriod(start, grain)) periods.push(new Date(start).toISOString().slice(0, 10));
  return periods;
};

/** The SKUs' list prices: one SKU read, or the catalogue paged when the report covers many. */
const pricesOf = async (deps: ReportDeps, skuIds: ReadonlySet<string>, only: string | undefined): Promise<Map<string, Sku>> => {
  const skus = new Map<string, Sku>();
  if (only !== undefined) {
    skus.set(only, await requireSku(deps, only));
    return skus;
  }
  if (skuIds.size === 0) return skus;
  let cursor: string | undefined;
  do {
    const page = await listSkus(deps, { cursor, limit: 200 });
    for (const sku of page.skus) if (skuIds.has(sku.sku_id)) skus.set(sku.sku_id, sku);
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined && skus.size < skuIds.size);
  return skus;
};

/** `units` x a decimal price, exact, written in the currency's digits. */
const revenueOf = (units: number, sku: Sku | undefined): { revenue: string | null; currency: string | null } => {
  const price = sku?.price === undefined ? undefined : parseMicros(sku.price);
  if (price === undefined || sku?.currency === undefined) return { revenue: null, currency: null };
  return { revenue: formatMicros(price * BigInt(units), sku.currency), currency: sku.currency };
};

/** numerator / denominator (> 0) to `digits` decimals, rounded half-even as money is (valuation.ts divHalfEven). */
const decimalQuotient = (numerator: bigint, denominator: bigint, digits: number): string => {
  const scale = 10n ** BigInt(digits);
  const scaled = divHalfEven(numerator * scale, denominator);
  const size = scaled < 0n ? -scaled : scaled;
  return `${scaled < 0n ? '-' : ''}${size / scale}.${(size % scale).toString().padStart(digits, '0')}`;
};

const salesTrends: LakeReport<SalesTrendsQuery, SalesTrendsDone> = {
  name: 'sales-trends',
  query: salesTrendsQuery,
  sql: sqlText('sales-trends'),
  parameters: (query, close) => {
    const window = windowOf(query);
    return {
      closed_through: close.t,
      balance_day: balanceDayBefore(dayOfInstant(window.to), close.t),
      from: lakeInstant(window.from),
      to: lakeInstant(window.to),
      grain: query.granularity,
      sku_id: query.sku_id ?? null,
      warehouse_id: query.warehouse_id ?? null,
    };
  },
  check: checkFilters,
  finish: async (deps, query, records, queryId, _close, closed) => {
    const rows = decodeRows(salesTrendRows, records, 'sales-trends');
    const window = windowOf(query);
    const sales = rows.flatMap((row) => (row.row_kind === 'sales' ? [row] : []));
    const levels = rows.flatMap((row) => (row.row_kind === 'level' ? [row] : []));
    const skus = await pricesOf(deps, new Set([...sales, ...levels].map((row) => row.sku_id)), query.sku_id);

    // Periods: one series per revenue currency (null: SKUs without a price), every period filled.
    const series = new Map<string | null, Map<string, { units: number; revenue: bigint | null }>>();
    for (const row of sales) {
      const { revenue, currency } = revenueOf(row.units, skus.get(row.sku_id));
      const periods = series.get(currency) ?? new Map<string, { units: number; revenue: bigint | null }>();
      series.set(currency, periods);
      const cell = periods.get(row.period) ?? { units: 0, revenue: currency === null ? null : 0n };
      cell.units += row.units;
      if (cell.revenue !== null && revenue !== null) cell.revenue += parseMicros(revenue) ?? 0n;
      periods.set(row.period, cell);
    }
    if (series.size === 0) series.set(null, new Map());
    const periodNames = periodsOf(window.from, window.to, query.granularity);
    const periods = [...series.entries()]
      .sort(([a], [b]) => (a ?? '').localeCompare(b ?? ''))
      .flatMap(([currency, cells]) =>
        periodNames.map((period, index) => {
          const units = (name: string | undefined) => (name === undefined ? 0 : cells.get(name)?.units ?? 0);
          const recent = periodNames.slice(Math.max(0, index - 2), index + 1);
          const previous = index === 0 ? undefined : units(periodNames[index - 1]);
          const cell = cells.get(period);
          return {
            period,
            currency,
            units: units(period),
            revenue: currency === null ? null : formatMicros(cell?.revenue ?? 0n, currency),
            moving_average_units: decimalQuotient(BigInt(recent.reduce((sum, name) => sum + units(name), 0)), BigInt(recent.length), 2),
            change_units: previous === undefined ? null : units(period) - previous,
            change_percent: previous === undefined || previous === 0 ? null : decimalQuotient(BigInt(units(period) - previous) * 100n, BigInt(previous), 1),
          };
        }),
      )
      .sort((a, b) => a.period.localeCompare(b.period) || (a.currency ?? '').localeCompare(b.currency ?? ''));

    // Movers: per SKU over the window; the stock at its end, all warehouses in scope.
    const unitsBySku = new Map<string, number>();
    for (const row of sales) unitsBySku.set(row.sku_id, (unitsBySku.get(row.sku_id) ?? 0) + row.units);
    const onHandBySku = new Map<string, number>();
    for (const row of levels) onHandBySku.set(row.sku_id, (onHandBySku.get(row.sku_id) ?? 0) + row.on_hand);
    const mover = (skuId: string) => {
      const units = unitsBySku.get(skuId) ?? 0;
      return { sku_id: skuId, units, ...revenueOf(units, skus.get(skuId)), on_hand: onHandBySku.get(skuId) ?? 0 };
    };
    const bySku = (a: { sku_id: string }, b: { sku_id: string }) => (a.sku_id < b.sku_id ? -1 : a.sku_id > b.sku_id ? 1 : 0);
    const top = [...unitsBySku.keys()].map(mover).sort((a, b) => b.units - a.units || bySku(a, b)).slice(0, MOVERS);
    const slow = [...onHandBySku.entries()]
      .filter(([, onHand]) => onHand > 0)
      .map(([skuId]) => mover(skuId))
      .sort((a, b) => a.units - b.units || bySku(a, b))
      .slice(0, MOVERS);

    const deadBefore = window.to - query.dead_days * DAY_MS;
    const dead = levels
      .filter((row) => row.on_hand > 0 && (row.last_sale_at === null || Date.parse(row.last_sale_at) < deadBefore))
      .map((row) => ({ sku_id: row.sku_id, warehouse_id: row.warehouse_id, on_hand: row.on_hand, last_sale_at: row.last_sale_at }))
      .sort((a, b) => bySku(a, b) || (a.warehouse_id < b.warehouse_id ? -1 : a.warehouse_id > b.warehouse_id ? 1 : 0));

    return {
      report: 'sales-trends',
      query_id: queryId,
      from: new Date(window.from).toISOString(),
      to: new Date(window.to).toISOString(),
      granularity: query.granularity,
      dead_days: query.dead_days,
      periods,
      top_movers: top,
      slow_movers: slow,
      dead_stock: dead,
      data_as_of: dataAsOfOf(rows, closed),
    };
  },
};

// ---- valuation ----

const valuationRows = z.discriminatedUnion('row_kind', [
  z.object({
    row_kind: z.literal('row'),
    movement_id: lakeText,
    created_at: lakeText,
    sku_id: lakeText,
    warehouse_id: lakeText,
    type: movementType,
    on_hand: lakeInteger,
    unit_cost: lakeText.nullable(),
    currency: lakeText.nullable(),
    correlation_id: lakeText.nullable(),
  }),
  summaryRow,
]);

/** as_of as an instant: a bare date is the end of that day (UTC), so the stock "on 31 December" counts that day's movements. */
/** `since` without a checkpoint: before the first instant a row may have (the API's bounds start at 1970). */
const BEFORE_EVERY_ROW = '1969-12-31 23:59:59.999';

const asOfInstant = (asOf: string): number => (isDateOnly(asOf) ? Date.parse(asOf) + DAY_MS - 1 : Date.parse(asOf));

const valuation: LakeReport<ValuationQuery, ValuationDone, Checkpoint | undefined> = {
  name: 'valuation',
  query: valuationQuery,
  sql: sqlText('valuation'),
  parameters: (query, close) => ({
    as_of: lakeInstant(asOfInstant(query.as_of)),
    since: close.k === null ? BEFORE_EVERY_ROW : lakeInstant(Date.parse(endOfDay(close.k))),
    sku_id: query.sku_id ?? null,
  }),
  // The newest checkpoint whose day ends at or before as_of, among the closed days.
  checkpoint: (query, closed) =>
    closed.state_version !== VALUATION_STATE_VERSION
      ? null
      : closed.checkpoints.filter((day) => day < closed.closed_through && Date.parse(endOfDay(day)) <= asOfInstant(query.as_of)).at(-1) ?? null,
  check: checkFilters,
  // A FIFO checkpoint of 200k layers is ~10 MB of JSON to fetch and decode (~0.3 s): done while the query runs.
  load: (deps, query, close) => (close.k === null ? Promise.resolve(undefined) : readCheckpoint(deps.objects, deps.ctx.caller.tenantId, query.method, close.k)),
  finish: async (deps, query, records, queryId, close, closed, checkpoint) => {
    const rows = decodeRows(valuationRows, records, 'valuation');
    const asOf = new Date(asOfInstant(query.as_of)).toISOString();
    const ledger: ValuationRow[] = rows.flatMap((row) =>
      row.row_kind === 'row'
        ? [
            {
              movement_id: row.movement_id,
              created_at: row.created_at,
              sku_id: row.sku_id,
              warehouse_id: row.warehouse_id,
              type: row.type,
              on_hand: row.on_hand,
              ...(row.unit_cost === null ? {} : { unit_cost: row.unit_cost }),
              ...(row.currency === null ? {} : { currency: row.currency }),
              ...(row.correlation_id === null ? {} : { correlation_id: row.correlation_id }),
            },
          ]
        : [],
    );
    // Retired checkpoints stay an hour (one close run) after closed.json stops naming them: only a very late poll finds one gone.
    if (close.k !== null && checkpoint === undefined) throw new AppError('UNAVAILABLE', 'the valuation checkpoint this report started from was replaced by a newer close; ask for the report again');
    const wanted = (w: { sku_id: string; warehouse_id: string }) => (query.sku_id === undefined || w.sku_id === query.sku_id) && (query.warehouse_id === undefined || w.warehouse_id === query.warehouse_id);
    const result = valuate(ledger, {
      ...(checkpoint ? { start: checkpoint.state } : {}),
      as_of: asOf,
      method: query.method,
      ...(query.sku_id === undefined ? {} : { sku_id: query.sku_id }),
      ...(query.warehouse_id === undefined ? {} : { warehouse_id: query.warehouse_id }),
    });
    return {
      report: 'valuation',
      query_id: queryId,
      as_of: asOf,
      method: query.method,
      lines: result.lines,
      totals: result.totals,
      warnings: [...(checkpoint?.warnings.filter(wanted) ?? []), ...result.warnings],
      data_as_of: dataAsOfOf(rows, closed),
    };
  },
};

// ---------- running and polling ----------

const queryToken = z.object({ r: z.enum(['stock-movement', 'sales-trends', 'valuation']), q: z.unknown(), a: z.string().min(1).max(128), c: closeContext });

const encodeToken = (report: ReportName, query: unknown, lakeQueryId: string, close: CloseContext): string =>
  Buffer.from(JSON.stringify({ r: report, q: query, a: lakeQueryId, c: close }), 'utf8').toString('base64url');

const decodeToken = (token: string): z.infer<typeof queryToken> | undefined => {
  try {
    const parsed = queryToken.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

const answerOf = async <Query, Done, Loaded>(
  deps: ReportDeps,
  report: LakeReport<Query, Done, Loaded>,
  query: Query,
  result: LakeQueryResult,
  close: CloseContext,
  closed: ClosedDays | undefined,
  loading: Promise<Loaded | undefined> | undefined,
): ReportAnswer<Done> => {
  const token = encodeToken(report.name, query, result.query_id, close);
  if (result.state === 'running') return accepted({ state: 'running', query_id: token }, `/api/reports/queries/${token}`);
  return report.finish(deps, query, result.rows, token, close, closed, await loading);
};

/** A scoped user's report covering every warehouse: 403 naming theirs. */
const everyWarehouseRefused = (scope: ReadonlySet<string>, doing: string): AppError =>
  new AppError('FORBIDDEN', `you work in some warehouses only (${[...scope].map((id) => `'${id}'`).join(', ')}): ${doing}`, { warehouse_ids: [...scope] });

/**
 * A report over the lake for a scoped user covers one warehouse of theirs: the one named
 * (403 for another), or their only one when they have one and name none. A scoped user with
 * several warehouses names one: the lake's reports filter on a single warehouse, and the
 * tenant-wide figures would show the others' stock.
 */
const scopedReportQuery = <Query extends { warehouse_id?: string }>(ctx: ReportDeps['ctx'], query: Query): Query => {
  const scope = scopeOf(ctx.caller);
  if (scope === undefined) return query;
  if (query.warehouse_id !== undefined) {
    assertInScope(ctx, [query.warehouse_id], 'reporting on it');
    return query;
  }
  const [only, ...more] = [...scope];
  if (only !== undefined && more.length === 0) return { ...query, warehouse_id: only };
  throw everyWarehouseRefused(scope, 'name one of them as warehouse_id for this report');
};

const run = async <Query extends { warehouse_id?: string }, Done, Loaded>(deps: ReportDeps, report: LakeReport<Query, Done, Loaded>, asked: Query): ReportAnswer<Done> => {
  const query = scopedReportQuery(deps.ctx, asked);
  const [closed] = await Promise.all([readClosedDays(deps.objects, deps.ctx.caller.tenantId), report.check(deps, query)]);
  const close: CloseContext = { t: closed?.closed_through ?? NEVER_CLOSED, k: closed && report.checkpoint ? report.checkpoint(query, closed) : null };
  const { sql, parameters } = toPositional(report.sql, report.parameters(query, close));
  const loading = report.load?.(deps, query, close);
  // Unawaited when the query outlasts the deadline (a 202): its failure must not go unhandled.
  loading?.catch(() => undefined);
  const result = await runLakeQuery(deps.lake, { sql, parameters, tenantId: deps.ctx.caller.tenantId });
  return answerOf(deps, report, query, result, close, closed, loading);
};

/** GET /api/reports/stock-movement: per period and type, units in, out, net and movements, with the window's opening and closing on_hand. */
export const stockMovementReport = (deps: ReportDeps, query: StockMovementQuery): ReportAnswer<StockMovementDone> => run(deps, stockMovement, query);

/** GET /api/reports/sales-trends: units and revenue per period with a moving average and change, top and slow movers, dead stock. */
export const salesTrendsReport = (deps: ReportDeps, query: SalesTrendsQuery): ReportAnswer<SalesTrendsDone> => run(deps, salesTrends, query);

/** GET /api/reports/valuation: quantity, unit cost and value per SKU x warehouse at as_of, by FIFO or weighted average, and totals per currency. */
export const valuationReport = (deps: ReportDeps, query: ValuationQuery): ReportAnswer<ValuationDone> => run(deps, valuation, query);

const poll = async <Query extends { warehouse_id?: string }, Done, Loaded>(
  deps: ReportDeps,
  report: LakeReport<Query, Done, Loaded>,
  decoded: z.infer<typeof queryToken>,
  token: string,
): ReportAnswer<Done> => {
  const parsed = report.query.safeParse(decoded.q);
  if (!parsed.success) throw notFound('query', token);
  // A query id another user was given may cover warehouses this caller does not work in.
  const scope = scopeOf(deps.ctx.caller);
  if (scope !== undefined) {
    if (parsed.data.warehouse_id === undefined) throw everyWarehouseRefused(scope, 'this report covers every warehouse');
    assertInScope(deps.ctx, [parsed.data.warehouse_id], 'reporting on it');
  }
  const { sql, parameters } = toPositional(report.sql, report.parameters(parsed.data, decoded.c));
  const result = await getLakeQuery(deps.lake, { queryId: decoded.a, tenantId: deps.ctx.caller.tenantId, expect: { sql, parameters } });
  if (result.state === 'running') return answerOf(deps, report, parsed.data, result, decoded.c, undefined, undefined);
  const [closed, loaded] = await Promise.all([readClosedDays(deps.objects, deps.ctx.caller.tenantId), report.load?.(deps, parsed.data, decoded.c)]);
  return answerOf<Query, Done, Loaded>(deps, report, parsed.data, result, decoded.c, closed, Promise.resolve(loaded));
};

/**
 * GET /api/reports/queries/{query_id}: a report that answered 202, read again: 202 while it runs,
 * then the report's own answer. A query id that is not one a report gave this tenant is not found.
 */
export const reportQuery = async (deps: ReportDeps, token: string): ReportAnswer<ReportDone> => {
  const decoded = decodeToken(token);
  if (decoded === undefined) throw notFound('query', token);
  switch (decoded.r) {
    case 'stock-movement':
      return poll(deps, stockMovement, decoded, token);
    case 'sales-trends':
      return poll(deps, salesTrends, decoded, token);
    case 'valuation':
      return poll(deps, valuation, decoded, token);
  }
};
