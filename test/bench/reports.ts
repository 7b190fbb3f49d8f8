/**
 * `npm run bench -- reports`: the reports over the local lake (issue 9, "Benchmark").
 *
 *   npm run bench -- reports                 10 million ledger rows (a few minutes on 2 cores)
 *   npm run bench -- reports --quick         ~200k rows, smoke size
 *   npm run bench -- --only reports --rows 2000000 --warm 7 --cold 2 --live-hours 3
 *
 * 1. Generates the history (test/bench/reports-lake.ts) into a fresh lake under
 *    .data/bench/reports-lake/, in LocalLake's layout and schema.
 * 2. Times each report of REPORTS through the product's path (functions/reports/reports.ts
 *    -> runLakeQuery -> the AWS SDK -> the local Athena stand-in -> DuckDB over the
 *    Parquet), cold (a fresh stand-in and SDK client, the report's first query) and warm
 *    (the median of N repeats), and, where the report names its SQL, the same SQL through
 *    queryLake alone (the engine without Athena's protocol and polling). Baseline in the
 *    same run: count(*) over the whole tenant through queryLake.
 * 3. Writes a window of movements through inventory's stock-change functions into
 *    DynamoDB Local; the stream, the processor, the bus and the lake feed put them in the
 *    lake. Then reads the window back through listMovements (paged, SKU by SKU) and sums
 *    it, against the stock-movement report for the window: both times, the ratio, and
 *    the totals per day and type, which must agree (exit 1 otherwise).
 * 2b. The daily close (functions/reports/close.ts, through the S3 stand-in over the same lake,
 *    timed): every day before today into level_days and level_balances, and the valuation
 *    checkpoints; then every report again ('... closed'), each answer held to its raw one
 *    where the raw one was not refused (exit 1 otherwise).
 * 4. The lake's bytes against the same rows as JSON lines (exact: every row's JSON is
 *    measured by DuckDB, nothing is written).
 *
 * A measurement, not a test: a missed 1 s goal is reported, never an exit code; only a
 * disagreement between the ledger and the lake fails the run. Results also go to
 * .data/bench/reports.json.
 */
// Lets tsx's require() load the ESM-only @middy packages, as `npm start` does (first, as it asks).
import '../../bin/local/esm-only-packages';
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalAthena, type LocalAthena } from '../../bin/local/athena';
import { ensureTable, startDynamoLocal, type LocalDynamo } from '../../bin/local/dynamodb';
import { javaProblem } from '../../bin/local/java';
import { DUCKDB_OFFLINE } from '../../bin/local/lake';
import { LOCAL_LAKE_BUCKET, startLocalS3 } from '../../bin/local/s3';
import { lakeObjectsFromEnv } from '../../functions/platform/lake-objects';
import { closeTenant, endOfDay, readClosedDays } from '../../functions/reports/close';
import { queryLake, readReportSql, type LakeParam } from '../../bin/local/lake-query';
import type { RequestContext } from '../../functions/platform/context';
import type { Lake } from '../../functions/platform/lake';
import type { ReportDeps } from '../../functions/reports/reports';
import { inBatches, intOption, log, machineInfo, median, ROOT, round2, runMain, writeJson } from './common';
import { generateLake, lakeFiles, SKUS, skuId, WAREHOUSES, warehouseId } from './reports-lake';

process.env.LOG_LEVEL = 'silent';

const TABLE = 'stockroom-bench-reports';
const TENANT = 'bench-reports';
const WORKGROUP = 'stockroom_reports';
const DATABASE = 'stockroom_lake';
const LAKE_ROOT = resolve(ROOT, '.data/bench/reports-lake');
const OUT_FILE = resolve(ROOT, '.data/bench/reports.json');
const DAY_MS = 86_400_000;
const GOAL_MS = 1000;
const SEED = 9;

// ---------- options ----------

interface Options {
  quick: boolean;
  rows: number;
  warm: number;
  cold: number;
  liveHours: number;
  ledgerReads: number;
}

const readOptions = (): Options => {
  const { values } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      rows: { type: 'string' },
      warm: { type: 'string' },
      cold: { type: 'string' },
      'live-hours': { type: 'string' },
      'ledger-reads': { type: 'string' },
    },
  });
  const defaults = values.quick ? { rows: 200_000, warm: 3, cold: 1, liveHours: 6, ledgerReads: 1 } : { rows: 10_000_000, warm: 5, cold: 3, liveHours: 3, ledgerReads: 2 };
  return {
    quick: values.quick ?? false,
    rows: intOption('rows', values.rows, defaults.rows, 10_000),
    warm: intOption('warm', values.warm, defaults.warm, 1),
    cold: intOption('cold', values.cold, defaults.cold, 1),
    liveHours: intOption('live-hours', values['live-hours'], defaults.liveHours, 1),
    ledgerReads: intOption('ledger-reads', values['ledger-reads'], defaults.ledgerReads, 1),
  };
};

// ---------- the reports measured ----------

type ReportsModule = typeof import('../../functions/reports/reports');
type SchemasModule = typeof import('../../functions/reports/schemas');

interface Span {
  /** End of the generated history (exclusive), a UTC midnight. */
  endMs: number;
}

interface ReportCase {
  name: string;
  /** What it asks, as printed. */
  asks: string;
  run: (deps: ReportDeps) => Promise<unknown>;
  /** The same question as one SQL file and its parameters (given what the close bound), for the engine-only time. */
  sql: { file: string; params: (close: CloseBinding) => Record<string, LakeParam> };
  /** Time the SQL counting its rows (too many to hold in this process), not returning them. */
  countOnly?: boolean;
}

/** What a report binds from the daily close: before it, every day raw and no checkpoint. */
interface CloseBinding {
  closed_through: string;
  /** valuation's `since`: the end of the checkpoint it resumes from. */
  since: (asOfMs: number) => string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const day = (ms: number): string => iso(ms).slice(0, 10);

/** The reports of the issue's benchmark, one line each: each through the product's path, and its SQL alone. */
const reportCases = (mod: ReportsModule, schemas: SchemasModule, span: Span): ReportCase[] => {
  const from30 = span.endMs - 30 * DAY_MS;
  const fromYear = span.endMs - 365 * DAY_MS;
  const asOf = day(span.endMs - DAY_MS);
  // "Stock on 31 October": the last day of the month before the history's last.
  const monthEndMs = Date.UTC(new Date(span.endMs - DAY_MS).getUTCFullYear(), new Date(span.endMs - DAY_MS).getUTCMonth(), 1) - DAY_MS;
  const monthEnd = day(monthEndMs);
  const { lakeInstant } = mod;
  return [
    {
      name: 'stock-movement',
      asks: `30 days by day, ${day(from30)}..${day(span.endMs - DAY_MS)}`,
      run: (deps) => mod.stockMovementReport(deps, schemas.stockMovementQuery.parse({ from: iso(from30), to: iso(span.endMs), group_by: 'day' })),
      sql: { file: 'stock-movement', params: (c) => ({ tenant_id: TENANT, from: lakeInstant(from30), to: lakeInstant(span.endMs), grain: 'day', sku_id: null, warehouse_id: null, type: null, closed_through: c.closed_through, balance_day: mod.balanceDayBefore(day(from30), c.closed_through) }) },
    },
    {
      name: 'sales-trends',
      asks: `1 year by week, to ${day(span.endMs - DAY_MS)}`,
      run: (deps) => mod.salesTrendsReport(deps, schemas.salesTrendsQuery.parse({ from: iso(fromYear), to: iso(span.endMs), granularity: 'week' })),
      sql: { file: 'sales-trends', params: (c) => ({ tenant_id: TENANT, from: lakeInstant(fromYear), to: lakeInstant(span.endMs), grain: 'week', sku_id: null, warehouse_id: null, closed_through: c.closed_through, balance_day: mod.balanceDayBefore(day(span.endMs), c.closed_through) }) },
    },
    {
      // Before the close, the whole history of every level: past LAKE_MAX_RESULT_ROWS, so the product refuses it (422).
      name: 'valuation',
      asks: `FIFO as of ${asOf}, every SKU`,
      run: (deps) => mod.valuationReport(deps, schemas.valuationQuery.parse({ as_of: asOf, method: 'fifo' })),
      sql: { file: 'valuation', params: (c) => ({ tenant_id: TENANT, as_of: lakeInstant(span.endMs - 1), since: c.since(span.endMs - 1), sku_id: null }) },
      countOnly: true,
    },
    {
      name: 'valuation month end',
      asks: `FIFO as of ${monthEnd}, every SKU`,
      run: (deps) => mod.valuationReport(deps, schemas.valuationQuery.parse({ as_of: monthEnd, method: 'fifo' })),
      sql: { file: 'valuation', params: (c) => ({ tenant_id: TENANT, as_of: lakeInstant(monthEndMs + DAY_MS - 1), since: c.since(monthEndMs + DAY_MS - 1), sku_id: null }) },
      countOnly: true,
    },
    {
      name: 'valuation 1 SKU',
      asks: `FIFO as of ${asOf}, the busiest SKU`,
      run: (deps) => mod.valuationReport(deps, schemas.valuationQuery.parse({ as_of: asOf, method: 'fifo', sku_id: skuId(0) })),
      sql: { file: 'valuation', params: (c) => ({ tenant_id: TENANT, as_of: lakeInstant(span.endMs - 1), since: c.since(span.endMs - 1), sku_id: skuId(0) }) },
    },
  ];
};

// ---------- the live window (DynamoDB Local -> stream -> lake) ----------

/** mulberry32: a small deterministic PRNG for the live window's plan. */
const prng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

type LiveEvent =
  | { at: number; kind: 'change'; sku: number; wh: number; type: 'sale' | 'restock' | 'adjustment'; quantity: number }
  | { at: number; kind: 'count'; sku: number; wh: number; delta: number }
  | { at: number; kind: 'transfer'; sku: number; wh: number; to: number; quantity: number };

/** `count` events at the history's end rate, in time order, inside [from + 1 s, to - 1 s). */
const planLive = (count: number, fromMs: number, toMs: number): LiveEvent[] => {
  const random = prng(SEED * 7919);
  const span = toMs - fromMs - 2000;
  const times = Array.from({ length: count }, () => fromMs + 1000 + Math.floor(random() * span)).sort((a, b) => a - b);
  return times.map((at): LiveEvent => {
    const sku = Math.floor(SKUS * random() ** 1.8);
    const wh = Math.floor(WAREHOUSES * random());
    const r = random();
    if (r < 0.7) return { at, kind: 'change', sku, wh, type: 'sale', quantity: 1 + Math.floor(3 * random()) };
    if (r < 0.8) return { at, kind: 'change', sku, wh, type: 'restock', quantity: 5 + Math.floor(17 * random()) };
    if (r < 0.87) return { at, kind: 'change', sku, wh, type: 'adjustment', quantity: (1 + Math.floor(3 * random())) * (random() < 0.6 ? -1 : 1) };
    if (r < 0.9) return { at, kind: 'count', sku, wh, delta: Math.floor(5 * random()) - 2 };
    return { at, kind: 'transfer', sku, wh, to: (wh + 1 + Math.floor(3 * random())) % WAREHOUSES, quantity: 1 + Math.floor(5 * random()) };
  });
};

interface Totals {
  /** `${day}|${type}` -> sums. */
  [key: string]: { units_in: number; units_out: number; net: number; movements: number };
}

const addTo = (totals: Totals, key: string, delta: number, movements = 1): void => {
  const t = (totals[key] ??= { units_in: 0, units_out: 0, net: 0, movements: 0 });
  if (delta > 0) t.units_in += delta;
  else t.units_out -= delta;
  t.net += delta;
  t.movements += movements;
};

const diffTotals = (a: Totals, b: Totals): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((key) => {
    const x = JSON.stringify(a[key] ?? null);
    const y = JSON.stringify(b[key] ?? null);
    return x === y ? [] : [`${key}: ledger ${x} lake ${y}`];
  });

const sumTotals = (t: Totals) => Object.values(t).reduce((s, v) => ({ movements: s.movements + v.movements, net: s.net + v.net, units_in: s.units_in + v.units_in, units_out: s.units_out + v.units_out }), { movements: 0, net: 0, units_in: 0, units_out: 0 });

// ---------- timing ----------

const timed = async <T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
};

/** A report that finished (not a 202 `Accepted`): its answer names the report. */
const succeeded = (value: unknown): boolean => typeof value === 'object' && value !== null && 'report' in value;

// ---------- the run ----------

const main = async (): Promise<void> => {
  const options = readOptions();
  const problem = javaProblem();
  if (problem) throw new Error(problem);
  const startedAt = performance.now();
  // The history ends at the next UTC midnight: the live window comes after it and after the
  // clock, so the movement ids the domain makes (a monotonic ULID factory shared with ids
  // made at the real time) carry the window's instants.
  const endMs = Math.ceil(Date.now() / DAY_MS) * DAY_MS;
  const startDate = new Date(endMs);
  startDate.setUTCFullYear(startDate.getUTCFullYear() - 2);
  const startMs = startDate.getTime();
  const days = Math.round((endMs - startMs) / DAY_MS);

  // ----- 1. the history -----
  await rm(LAKE_ROOT, { recursive: true, force: true });
  await mkdir(LAKE_ROOT, { recursive: true });
  log(`generating ~${options.rows} rows, ${day(startMs)}..${day(endMs - DAY_MS)}, into ${LAKE_ROOT}`);
  const generated = await generateLake({ root: LAKE_ROOT, tenantId: TENANT, rows: options.rows, startMs, days, seed: SEED });
  log(`generated ${generated.rows} rows in ${generated.files} files, ${(generated.bytes / 2 ** 20).toFixed(1)} MiB, in ${generated.seconds.toFixed(1)} s`);

  const facts = await queryLake(
    LAKE_ROOT,
    `SELECT count(*) AS rows, count(*) FILTER (WHERE resulting_on_hand < 0) AS negative, count(resulting_on_hand) AS with_result,
       count(*) FILTER (WHERE created_at >= CAST($from AS TIMESTAMP)) AS last_day
     FROM movements WHERE tenant_id = $tenant_id`,
    { tenant_id: TENANT, from: iso(endMs - DAY_MS) },
  );
  const fact = (name: string): number => Number(facts[0]?.[name] ?? 0);
  log(`rows with a negative resulting on_hand: ${fact('negative')} of ${fact('with_result')}; last day ${fact('last_day')} rows`);

  // ----- 4. bytes as JSON lines (the flat row as the lake feed receives it) -----
  const jsonBytes = await measureJsonLines(join(LAKE_ROOT, 'movements', `tenant_id=${TENANT}`));
  log(`as JSON lines: ${(jsonBytes.bytes / 2 ** 20).toFixed(1)} MiB (${jsonBytes.seconds.toFixed(1)} s to measure)`);

  let dynamo: LocalDynamo | undefined;
  const athenas: LocalAthena[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  try {
    dynamo = await startDynamoLocal();
    await ensureTable(dynamo.endpoint, TABLE);
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = TABLE;
    log(`DynamoDB Local answering at ${dynamo.endpoint}`);

    const [reports, schemas, { dbFromEnv }, catalog, stock, { lakeFromEnv }, { LocalBus }, { startLakeFeed }, { createStreamPoller }, { processStream }, { AppError }] = await Promise.all([
      import('../../functions/reports/reports'),
      import('../../functions/reports/schemas'),
      import('../../functions/platform/db'),
      import('../../functions/inventory/catalog'),
      import('../../functions/inventory/stock'),
      import('../../functions/platform/lake'),
      import('../../bin/local/bus'),
      import('../../bin/local/lake-feed'),
      import('../../bin/local/streams'),
      import('../../functions/events/processor'),
      import('../../functions/platform/errors'),
    ]);
    const db = dbFromEnv();
    closers.push(() => db.client.destroy());
    const context = (role: 'admin' | 'analyst', at?: number): RequestContext => ({
      caller: { kind: 'user', tenantId: TENANT, role, subject: `bench-${role}` },
      requestId: 'bench',
      now: at === undefined ? () => new Date() : () => new Date(at),
    });
    const writer = (at?: number) => ({ db, ctx: context('admin', at) });

    // The catalog the reports check filters against, and the live window writes to.
    await catalog.createProduct(writer(), { product_id: 'bench-product', name: 'Bench product' });
    for (let w = 0; w < WAREHOUSES; w++) {
      await catalog.createWarehouse(writer(), { warehouse_id: warehouseId(w), name: `Bench ${w}`, latitude: 40 + w, longitude: -74, priority: 10, active: true });
    }
    await inBatches(Array.from({ length: SKUS }, (_, n) => n), 16, (n) =>
      catalog.createSku(writer(), { sku_id: skuId(n), product_id: 'bench-product', name: `Bench ${skuId(n)}`, unit_cost: '4.20', price: '9.99', currency: 'USD' }),
    );

    const lakeClients: Lake['client'][] = [];
    const newAthena = async (): Promise<Lake> => {
      const athena = await startLocalAthena({ lakeRoot: LAKE_ROOT, workgroups: [WORKGROUP] });
      athenas.push(athena);
      const lake = lakeFromEnv({ ATHENA_ENDPOINT: athena.endpoint, ATHENA_WORKGROUP: WORKGROUP, LAKE_DATABASE: DATABASE, LAKE_DEADLINE_MS: '600000' });
      lakeClients.push(lake.client);
      return lake;
    };
    // Each report is measured in a process its predecessors left as they found it: their stand-ins
    // (which hold results, up to 200k rows for a refused valuation, until their TTL) are closed.
    const retireAthenas = async (): Promise<void> => {
      for (const client of lakeClients.splice(0)) client.destroy();
      for (const athena of athenas.splice(0)) await athena.close();
    };
    // The lake bucket as the reports and the close see it: the S3 stand-in over the same directory.
    const s3 = await startLocalS3({ root: LAKE_ROOT, buckets: [LOCAL_LAKE_BUCKET] });
    closers.push(() => s3.close());
    const objects = lakeObjectsFromEnv({ LAKE_BUCKET: LOCAL_LAKE_BUCKET, S3_ENDPOINT: s3.endpoint });
    const readerDeps = (lake: Lake): ReportDeps => ({ db, ctx: context('analyst'), lake, objects });
    const NOT_CLOSED: CloseBinding = { closed_through: '1970-01-01', since: () => '1969-12-31 23:59:59.999' };

    // ----- 2. the reports, cold and warm -----
    const cases = reportCases(reports, schemas, { endMs });
    const baseline = await timedMedian(options.warm, () => queryLake(LAKE_ROOT, 'SELECT count(*) AS n FROM movements WHERE tenant_id = $tenant_id', { tenant_id: TENANT }));
    log(`baseline count(*) over the tenant through queryLake: ${baseline.toFixed(0)} ms`);
    const measure = async (c: ReportCase, name = c.name, binding = NOT_CLOSED): Promise<{ result: ReportResult; answer: unknown }> => {
      // A report the product refuses as too large is measured to its refusal, and says so.
      let refused: string | undefined;
      const run = (deps: ReportDeps) =>
        c.run(deps).catch((error: unknown) => {
          if (error instanceof AppError && error.code === 'REPORT_TOO_LARGE') {
            refused = error.code;
            return { report: 'refused' };
          }
          throw error;
        });
      const colds: number[] = [];
      for (let i = 0; i < options.cold; i++) {
        const lake = await newAthena();
        const first = await timed(() => run(readerDeps(lake)));
        if (!succeeded(first.value)) throw new Error(`${c.name} did not succeed: ${JSON.stringify(first.value).slice(0, 300)}`);
        colds.push(first.ms);
      }
      const lake = await newAthena();
      // The product's answer (its query id aside), to hold the closed path to the raw one.
      let answer: unknown = await run(readerDeps(lake));
      if (typeof answer === 'object' && answer !== null && 'query_id' in answer) answer = { ...answer, query_id: '' };
      const warm = await timedMedian(options.warm, () => run(readerDeps(lake)));
      const sql = c.sql;
      const text = await readReportSql(sql.file);
      const engineSql = c.countOnly ? `SELECT count(*) AS n FROM (${text.slice(text.indexOf('WITH'))}) AS report` : text;
      let rows = 0;
      const engine = await timedMedian(options.warm, async () => {
        const found = await queryLake(LAKE_ROOT, engineSql, sql.params(binding));
        rows = c.countOnly ? Number(found[0]?.n ?? 0) : found.length;
      });
      await retireAthenas();
      log(`${name}: cold ${median(colds).toFixed(0)} ms, warm ${warm.toFixed(0)} ms${refused ? ` (refused: ${refused})` : ''}, engine ${engine.toFixed(0)} ms for ${rows} rows`);
      return { result: { name, asks: c.asks, cold_ms: round2(median(colds)), warm_ms: round2(warm), engine_ms: round2(engine), sql_rows: rows, ...(refused ? { refused } : {}) }, answer };
    };
    const results: ReportResult[] = [];
    const answers = new Map<string, unknown>();
    for (const c of cases) {
      const { result, answer } = await measure(c);
      results.push(result);
      answers.set(c.name, answer);
    }

    // ----- 2b. the daily close, then every report again over closed days -----
    const closed = await timed(() => closeTenant({ objects, now: () => new Date() }, TENANT));
    const [rollup] = await queryLake(LAKE_ROOT, 'SELECT count(*) AS n FROM level_days WHERE tenant_id = $tenant_id', { tenant_id: TENANT });
    const rollupRows = Number(rollup?.n ?? 0);
    const closedDays = await readClosedDays(objects, TENANT);
    if (!closedDays) throw new Error('the close wrote no closed.json');
    const checkpointBytes = (await objects.list(`close/tenant_id=${TENANT}/valuation/fifo/`)).map((o) => o.size);
    log(
      `daily close: ${closed.value.closed.length} days (${closed.value.rows_read} rows read) into ${rollupRows} level_days rows and ${closed.value.checkpoints.length} checkpoints ` +
        `(${closedDays.checkpoints.length} kept, FIFO ${(Math.max(...checkpointBytes) / 2 ** 20).toFixed(1)} MiB gzipped at most) in ${(closed.ms / 1000).toFixed(1)} s`,
    );
    const binding: CloseBinding = {
      closed_through: closedDays.closed_through,
      since: (asOfMs) => {
        const k = closedDays.checkpoints.filter((d) => d < closedDays.closed_through && Date.parse(endOfDay(d)) <= asOfMs).at(-1);
        return k === undefined ? '1969-12-31 23:59:59.999' : reports.lakeInstant(Date.parse(endOfDay(k)));
      },
    };
    const closeDisagreements: string[] = [];
    for (const c of cases) {
      const after = await measure(c, `${c.name} closed`, binding);
      results.push(after.result);
      const before = answers.get(c.name);
      // A report refused before the close has no raw answer to hold it to (the property tests do that on small ledgers).
      if (typeof before === 'object' && before !== null && 'report' in before && before.report !== 'refused' && JSON.stringify(after.answer) !== JSON.stringify(before)) closeDisagreements.push(c.name);
    }
    const closeAgrees = closeDisagreements.length === 0;
    const close = {
      days: closed.value.closed.length,
      rows_read: closed.value.rows_read,
      level_day_rows: rollupRows,
      checkpoints: closedDays.checkpoints.length,
      checkpoint_max_bytes: Math.max(...checkpointBytes),
      seconds: round2(closed.ms / 1000),
      agrees: closeAgrees,
      disagreements: closeDisagreements,
    };

    // ----- 3. the live window -----
    const liveFrom = endMs;
    const liveTo = endMs + options.liveHours * 3_600_000;
    const perMs = fact('last_day') / DAY_MS;
    const events = planLive(Math.max(50, Math.round(perMs * (liveTo - liveFrom))), liveFrom, liveTo);
    // Opening stock: each level as the history left it, by counts just before the window,
    // written before the stream is read (LATEST), so they stay out of the lake.
    const closing = await queryLake(LAKE_ROOT, 'SELECT sku_id, warehouse_id, SUM(delta_on_hand) AS on_hand FROM movements WHERE tenant_id = $tenant_id GROUP BY 1, 2', { tenant_id: TENANT });
    const onHand = new Map<string, number>();
    await inBatches(closing, 16, async (row) => {
      const level = await stock.updateStock(writer(liveFrom - 1000), {
        sku_id: String(row.sku_id),
        warehouse_id: String(row.warehouse_id),
        transaction_type: 'count',
        quantity: Math.max(0, Number(row.on_hand)),
        reference: 'bench-opening',
      });
      onHand.set(`${level.sku_id}|${level.warehouse_id}`, level.on_hand);
    });
    log(`${closing.length} levels opened in DynamoDB Local at the history's closing on_hand`);

    const bus = new LocalBus();
    const feed = await startLakeFeed(bus, { root: LAKE_ROOT, flushEveryMs: 500, compactEveryMs: 0 });
    const poller = createStreamPoller({
      endpoint: dynamo.endpoint,
      tableName: TABLE,
      startingPosition: 'LATEST',
      retryBaseMs: 50,
      process: (event) => processStream({ db, publisher: bus.publisher() }, event),
    });
    await poller.start();
    closers.push(() => poller.stop(), () => feed.close());

    log(`writing ${events.length} movements for ${day(liveFrom)} ${iso(liveFrom).slice(11, 16)}-${iso(liveTo).slice(11, 16)} through updateStock/transferStock`);
    let refused = 0;
    let next = 0;
    const write = await timed(async () => {
      const client = async (): Promise<void> => {
        for (let i = next++; i < events.length; i = next++) {
          const e = events[i];
          if (!e) continue;
          const deps = writer(e.at);
          const level = `${skuId(e.sku)}|${warehouseId(e.wh)}`;
          try {
            if (e.kind === 'transfer') {
              const r = await stock.transferStock(deps, { sku_id: skuId(e.sku), from_warehouse_id: warehouseId(e.wh), to_warehouse_id: warehouseId(e.to), quantity: e.quantity });
              onHand.set(level, r.from.on_hand);
              onHand.set(`${skuId(e.sku)}|${warehouseId(e.to)}`, r.to.on_hand);
            } else {
              const change =
                e.kind === 'count'
                  ? { transaction_type: 'count' as const, quantity: Math.max(0, (onHand.get(level) ?? 0) + e.delta) }
                  : e.type === 'adjustment'
                    ? { transaction_type: 'adjustment' as const, quantity: e.quantity, reason: e.quantity < 0 ? ('damaged' as const) : ('found' as const) }
                    : { transaction_type: e.type, quantity: e.quantity };
              const r = await stock.updateStock(deps, { sku_id: skuId(e.sku), warehouse_id: warehouseId(e.wh), ...change });
              onHand.set(level, r.on_hand);
            }
          } catch (error) {
            // A refusal (short stock) is an answer, and writes no row; anything else ends the run.
            if (error instanceof AppError) refused++;
            else throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, client));
    });
    log(`written in ${(write.ms / 1000).toFixed(1)} s (${refused} refused: short stock); waiting for the stream and the lake feed`);
    await poller.drain(120_000);
    await feed.flush();
    const compacted = await feed.compactNow();
    log(`lake feed: ${feed.stats.appended} rows appended, ${feed.stats.rejected} rejected; compacted ${compacted.filter((c) => c.merged).length} partition(s)`);

    // The ledger side: every SKU's movements of the window, paged, summed by day and type.
    const window = { from: iso(liveFrom), to: iso(liveTo) };
    const readLedger = async (): Promise<{ totals: Totals; rows: number; pages: number }> => {
      const totals: Totals = {};
      let rows = 0;
      let pages = 0;
      for (let n = 0; n < SKUS; n++) {
        let cursor: string | undefined;
        do {
          // listMovements' `to` is inclusive; the report's is exclusive.
          const page = await stock.listMovements({ db, ctx: context('analyst') }, skuId(n), { from: window.from, to: iso(liveTo - 1), limit: 200, ...(cursor ? { cursor } : {}) });
          pages++;
          for (const m of page.movements) {
            const at = Date.parse(m.created_at);
            if (at < liveFrom || at >= liveTo) continue;
            rows++;
            addTo(totals, `${m.created_at.slice(0, 10)}|${m.type}`, m.deltas.on_hand);
          }
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
      }
      return { totals, rows, pages };
    };
    const ledgerTimes: number[] = [];
    let ledger: Awaited<ReturnType<typeof readLedger>> | undefined;
    for (let i = 0; i < options.ledgerReads; i++) {
      const r = await timed(readLedger);
      ledgerTimes.push(r.ms);
      ledger = r.value;
    }
    if (!ledger) throw new Error('the ledger was not read');
    const lake = await newAthena();
    const lakeRun = () => reports.stockMovementReport(readerDeps(lake), { ...window, group_by: 'day' });
    const lakeCold = await timed(lakeRun);
    const lakeWarm = await timedMedian(options.warm, lakeRun);
    const answer = await lakeRun();
    if (!('rows' in answer)) throw new Error(`the window's report did not finish: ${JSON.stringify(answer)}`);
    const lakeTotals: Totals = {};
    for (const r of answer.rows) {
      const t = (lakeTotals[`${r.period}|${r.type}`] ??= { units_in: 0, units_out: 0, net: 0, movements: 0 });
      t.units_in += r.units_in;
      t.units_out += r.units_out;
      t.net += r.net;
      t.movements += r.movements;
    }
    const disagreements = diffTotals(ledger.totals, lakeTotals);
    const live = {
      window,
      planned: events.length,
      refused,
      write_seconds: round2(write.ms / 1000),
      ledger_rows: ledger.rows,
      ledger_pages: ledger.pages,
      ledger_ms: round2(median(ledgerTimes)),
      lake_cold_ms: round2(lakeCold.ms),
      lake_warm_ms: round2(lakeWarm),
      ratio: round2(median(ledgerTimes) / lakeWarm),
      ledger: sumTotals(ledger.totals),
      lake: sumTotals(lakeTotals),
      disagreements,
    };

    const lakeBytes = (await lakeFiles(join(LAKE_ROOT, 'movements', `tenant_id=${TENANT}`))).reduce((s, f) => s + f.bytes, 0);
    report(options, { generated, facts: { negative: fact('negative'), with_result: fact('with_result') }, baseline, results, close, live, json: jsonBytes, lakeBytes }, (performance.now() - startedAt) / 1000);
    if (!closeAgrees) {
      process.stderr.write(`\nREPORTS DIFFER once days are closed: ${close.disagreements.join(', ')}\n`);
      process.exitCode = 1;
    }
    if (disagreements.length > 0) {
      process.stderr.write(`\nLEDGER AND LAKE DISAGREE for ${window.from}..${window.to}:\n${disagreements.join('\n')}\n`);
      process.exitCode = 1;
    }
  } finally {
    for (const close of closers.reverse()) await close();
    for (const athena of athenas) await athena.close();
    dynamo?.stop();
  }
};

const timedMedian = async (n: number, f: () => Promise<unknown>): Promise<number> => {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push((await timed(f)).ms);
  return median(times);
};

/** Every row's JSON line as the lake feed receives it (the flat MovementRecorded detail: ISO instants, costs as strings, nulls kept), summed. */
const measureJsonLines = async (tenantDir: string): Promise<{ bytes: number; rows: number; seconds: number }> => {
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:', { ...DUCKDB_OFFLINE, threads: '2' });
  try {
    const db = await instance.connect();
    try {
      const reader = await db.runAndReadAll(
        `SELECT sum(strlen(CAST(to_json(j) AS VARCHAR)) + 1) AS bytes, count(*) AS rows FROM (
           SELECT $tenant AS tenant_id, * EXCLUDE (unit_cost, created_at), CAST(unit_cost AS VARCHAR) AS unit_cost,
             strftime(created_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS created_at
           FROM read_parquet($glob)) AS j`,
        { glob: join(tenantDir, '*', '*.parquet'), tenant: tenantDir.split('tenant_id=').pop() ?? '' },
      );
      const row = reader.getRows()[0] ?? [];
      return { bytes: Number(row[0] ?? 0), rows: Number(row[1] ?? 0), seconds: (performance.now() - t0) / 1000 };
    } finally {
      db.closeSync();
    }
  } finally {
    instance.closeSync();
  }
};

// ---------- output ----------

interface ReportResult { name: string; asks: string; cold_ms: number; warm_ms: number; engine_ms: number; sql_rows: number; refused?: string }

const cell = (value: string | number, width: number, left = false): string => (left ? String(value).padEnd(width) : String(value).padStart(width));

const report = (
  options: Options,
  r: {
    generated: { rows: number; files: number; bytes: number; seconds: number };
    facts: { negative: number; with_result: number };
    baseline: number;
    results: ReportResult[];
    close: { days: number; rows_read: number; level_day_rows: number; checkpoints: number; checkpoint_max_bytes: number; seconds: number; agrees: boolean; disagreements: string[] };
    live: {
      window: { from: string; to: string };
      planned: number;
      refused: number;
      write_seconds: number;
      ledger_rows: number;
      ledger_pages: number;
      ledger_ms: number;
      lake_cold_ms: number;
      lake_warm_ms: number;
      ratio: number;
      ledger: { movements: number; net: number; units_in: number; units_out: number };
      lake: { movements: number; net: number; units_in: number; units_out: number };
      disagreements: string[];
    };
    json: { bytes: number; rows: number };
    lakeBytes: number;
  },
  seconds: number,
): void => {
  const machine = machineInfo();
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const verdict = (ms: number): string => (ms <= GOAL_MS ? 'PASS' : 'MISS');
  const { live } = r;
  const lines = [
    '',
    `reports over the local lake (DuckDB via the local Athena stand-in)`,
    `machine: node ${machine.node}, ${machine.cpus} CPUs (${machine.cpu_model}), load ${machine.load_average_1m}`,
    `lake: ${r.generated.rows} rows, ${SKUS} SKUs x ${WAREHOUSES} warehouses, two years, ${r.generated.files} files, ${mib(r.generated.bytes)}; generated in ${r.generated.seconds.toFixed(1)} s` +
      `; ${r.facts.negative} of ${r.facts.with_result} resulting on_hand negative`,
    `cold: a fresh stand-in and SDK client, the report's first call (median of ${options.cold}; the OS file cache is not dropped, and every query opens a fresh DuckDB anyway)`,
    `warm: median of ${options.warm} repeats on one stand-in. engine: the same SQL through queryLake alone. Goal ${GOAL_MS} ms each.`,
    '',
    [cell('report', 22, true), cell('asks', 36, true), cell('cold ms', 9), cell('warm ms', 9), cell('engine ms', 10), cell('SQL rows', 9), cell('/ count(*)', 11), cell('goal', 6)].join(' '),
    ...r.results.map((x) =>
      [
        cell(x.name, 22, true),
        cell(x.asks, 36, true),
        cell(x.cold_ms.toFixed(0), 9),
        cell(x.warm_ms.toFixed(0), 9),
        cell(x.engine_ms.toFixed(0), 10),
        cell(String(x.sql_rows), 9),
        cell((x.warm_ms / r.baseline).toFixed(1), 11),
        x.refused ? `refused (${x.refused})` : cell(`${verdict(x.cold_ms)}/${verdict(x.warm_ms)}`, 6),
      ].join(' '),
    ),
    [cell('baseline', 22, true), cell('count(*) over the tenant, queryLake', 34, true), cell('', 9), cell(r.baseline.toFixed(0), 9)].join(' '),
    `daily close: ${r.close.days} days before today (${r.close.rows_read} rows read) into ${r.close.level_day_rows} level_days rows and ${r.close.checkpoints} kept valuation checkpoints ` +
      `(FIFO at most ${(r.close.checkpoint_max_bytes / 2 ** 20).toFixed(1)} MiB gzipped) in ${r.close.seconds} s; each '... closed' line is the same report after it, ` +
      `its answer ${r.close.agrees ? 'IDENTICAL to the raw one wherever the raw one was not refused' : `DIFFERENT from the raw one: ${r.close.disagreements.join(', ')}`}`,
    '',
    `ledger vs lake for ${live.window.from} .. ${live.window.to} (${live.planned} changes through updateStock/transferStock in ${live.write_seconds} s, ${live.refused} refused):`,
    [cell('path', 44, true), cell('rows', 8), cell('ms', 9), cell('net', 9), cell('in', 9), cell('out', 9)].join(' '),
    [cell(`DynamoDB: listMovements x ${SKUS} SKUs, ${live.ledger_pages} pages`, 44, true), cell(live.ledger_rows, 8), cell(live.ledger_ms.toFixed(0), 9), cell(live.ledger.net, 9), cell(live.ledger.units_in, 9), cell(live.ledger.units_out, 9)].join(' '),
    [cell(`lake: stock-movement report (cold ${live.lake_cold_ms.toFixed(0)} ms), warm`, 44, true), cell(live.lake.movements, 8), cell(live.lake_warm_ms.toFixed(0), 9), cell(live.lake.net, 9), cell(live.lake.units_in, 9), cell(live.lake.units_out, 9)].join(' '),
    `ledger / lake time ${live.ratio.toFixed(1)}x; totals per day and type ${live.disagreements.length === 0 ? 'AGREE' : `DISAGREE (${live.disagreements.length})`}`,
    '',
    `bytes: lake Parquet ${mib(r.lakeBytes)} vs the same ${r.json.rows} rows as JSON lines ${mib(r.json.bytes)} (exact, measured, not written): ${(r.json.bytes / r.lakeBytes).toFixed(1)}x`,
    '',
    `run time ${seconds.toFixed(1)} s; results in ${OUT_FILE}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  writeJson(OUT_FILE, { at: new Date().toISOString(), machine, options, ...r, goal_ms: GOAL_MS, run_seconds: round2(seconds) });
};

runMain(main);
