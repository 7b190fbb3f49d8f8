/**
 * The synthetic ledger of `npm run bench -- reports` (issue 9, "Benchmark"):
 * millions of movements generated inside DuckDB (range(), hash-based
 * pseudo-random numbers from a fixed seed, no row passes through Node) and
 * written as the local lake holds them after compaction: LocalLake's columns
 * (bin/local/lake.ts MOVEMENT_COLUMNS, in order, same types), zstd Parquet,
 * one file per tenant-day named `<ulid>.parquet`, under
 * `<root>/movements/tenant_id=<t>/dt=YYYY-MM-DD/`, the partition columns in
 * the path and not in the files.
 *
 * The business it imitates: 300 SKUs x 4 warehouses over two years, growing
 * (twice as many movements a day at the end as at the start), open 07:00-21:00 UTC.
 * Popularity is skewed (SKU n is chosen with density ~ n^-0.44), and the last
 * 15 SKUs sell nothing in the last 120 days (dead stock: those events are left out). Of the events:
 * sales 57 %, shipments 8 %, allocations 10 % and releases 2 % (zero on_hand
 * delta), purchase-order receipts 5 % and restocks 3 % with unit costs that
 * drift (+12 % over two years, a half-year wave, +-1.5 % noise), purchase orders
 * 5 % (incoming only), adjustments 4 % (60 % down), counts 3 % (both ways) and
 * transfers 3 % (an out and an in row sharing correlation_id). Inflows are
 * about 8 % above outflows and every level opens with a receipt of 300 plus a
 * tenth of its expected movements, so on_hand stays non-negative almost
 * everywhere; the run prints how often not.
 * resulting_* and version are running sums per level; reservation rows
 * (allocation, release, shipment) carry none, as the table writes them.
 */
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ulid } from 'ulid';
import { DUCKDB_OFFLINE, MOVEMENT_COLUMNS } from '../../bin/local/lake';

export const SKUS = 300;
export const WAREHOUSES = 4;
export const skuId = (n: number): string => `sku-${String(n).padStart(3, '0')}`;
export const warehouseId = (n: number): string => `wh-${n}`;
const OPENING_UNITS = 300;
const TRANSFER_SHARE = 0.03;
const DAY_MS = 86_400_000;

export interface GenerateOptions {
  root: string;
  tenantId: string;
  /** About this many rows (base events + transfers' second rows + one opening row per level, less the dead stock's missing sales). */
  rows: number;
  /** First instant of the history (UTC midnight). */
  startMs: number;
  days: number;
  seed: number;
}

export interface Generated {
  rows: number;
  files: number;
  bytes: number;
  seconds: number;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** SQL for a ULID-like id: 10 Crockford characters of the instant `ms` (so ids sort by time), 16 of two hashes of `key`. */
const ulidSql = (ms: string, key: string): string => {
  const char = (bits: string): string => `substr('${ALPHABET}', CAST((${bits}) & 31 AS INTEGER) + 1, 1)`;
  const time = Array.from({ length: 10 }, (_, k) => char(`(${ms}) >> ${5 * (9 - k)}`));
  const random = [
    ...Array.from({ length: 12 }, (_, k) => char(`${mix(key, 'id-a')} >> ${5 * k}`)),
    ...Array.from({ length: 4 }, (_, k) => char(`${mix(key, 'id-b')} >> ${5 * k}`)),
  ];
  return [...time, ...random].join(' || ');
};

/** A number for each salt (FNV-1a of its name): salts are code, never data. */
const saltNumber = (salt: string): number => {
  let h = 0x811c9dc5;
  for (const char of salt) h = Math.imul(h ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return h;
};

/**
 * 64 pseudo-random bits from the key and a salt. DuckDB's hash() of several
 * arguments combines the arguments' hashes so that two salts of one key give
 * correlated bits; hashing again after an xor with the salt mixes them fully.
 */
const mix = (key: string, salt: string): string => `hash(xor(hash(${key}), CAST(${saltNumber(salt)} AS UBIGINT)))`;

/** A uniform number in [0, 1) from the row's key, the seed and a salt. */
const u = (key: string, salt: string): string => `(CAST(${mix(`${key}, $seed`, salt)} % 4294967296 AS DOUBLE) / 4294967296.0)`;

const BASE_COST = `(2 + round(198 * ${u('sku', 'cost')}, 2))`;
const RESERVATION = `type IN ('allocation', 'release', 'shipment')`;

/**
 * One SELECT producing every row with MOVEMENT_COLUMNS plus tenant_id and dt. Only
 * constants of this file are written into the text; counts, seed and instants are bound.
 */
const generatorSql = (): string => `
WITH base AS (
  SELECT i,
    -1 + sqrt(1 + 3 * ${u('i', 't')}) AS t,
    CAST(floor(${SKUS} * pow(${u('i', 'sku')}, 1.8)) AS INTEGER) AS sku0,
    CAST(floor(${WAREHOUSES} * ${u('i', 'wh')}) AS INTEGER) AS wh,
    ${u('i', 'type')} AS r,
    ${u('i', 'qty')} AS uq,
    ${u('i', 'hour')} AS uh
  FROM range($base) AS source(i)
),
kinds AS (
  SELECT *,
    CASE WHEN r < 0.57 THEN 'sale' WHEN r < 0.65 THEN 'shipment' WHEN r < 0.75 THEN 'allocation' WHEN r < 0.77 THEN 'release'
         WHEN r < 0.82 THEN 'receipt' WHEN r < 0.85 THEN 'restock' WHEN r < 0.90 THEN 'purchase_ordered'
         WHEN r < 0.94 THEN 'adjustment' WHEN r < ${1 - TRANSFER_SHARE} THEN 'count' ELSE 'transfer' END AS kind,
    CAST(floor(t * $days) AS INTEGER) AS day
  FROM base
),
placed AS (
  SELECT *,
    sku0 AS sku,
    CAST($start_ms AS BIGINT) + CAST(day AS BIGINT) * ${DAY_MS} + CAST(floor((7 + 14 * uh) * 3600000) AS BIGINT) AS ms
  FROM kinds
  -- Dead stock: the last 15 SKUs sell nothing in the last 120 days (those events are not made).
  WHERE NOT (sku0 >= ${SKUS - 15} AND day >= $days - 120 AND kind IN ('sale', 'shipment', 'allocation', 'release'))
),
legs AS (
  SELECT p.*, leg,
    CASE WHEN kind <> 'transfer' THEN kind WHEN leg = 0 THEN 'transfer_out' ELSE 'transfer_in' END AS type,
    CASE WHEN kind = 'transfer' AND leg = 1 THEN CAST((wh + 1 + floor(3 * ${u('i', 'to')})) AS INTEGER) % ${WAREHOUSES} ELSE wh END AS warehouse,
    CASE
      WHEN kind IN ('sale', 'shipment', 'allocation', 'release') THEN 1 + floor(3 * uq)
      WHEN kind IN ('receipt', 'purchase_ordered') THEN 10 + floor(21 * uq)
      WHEN kind = 'restock' THEN 5 + floor(19 * uq)
      WHEN kind = 'adjustment' THEN (1 + floor(3 * uq)) * (CASE WHEN ${u('i', 'sign')} < 0.6 THEN -1 ELSE 1 END)
      WHEN kind = 'count' THEN floor(5 * uq) - 2
      ELSE 5 + floor(16 * uq)
    END AS q
  FROM placed p, (VALUES (0), (1)) AS l(leg)
  WHERE leg = 0 OR kind = 'transfer'
),
events AS (
  SELECT
    ${ulidSql('ms', 'i, leg, $seed')} AS movement_id,
    sku, warehouse, type, ms,
    CAST(CASE WHEN type IN ('sale', 'shipment', 'transfer_out') THEN -q WHEN type IN ('receipt', 'restock', 'transfer_in', 'adjustment', 'count') THEN q ELSE 0 END AS BIGINT) AS d_on_hand,
    CAST(CASE type WHEN 'allocation' THEN q WHEN 'release' THEN -q WHEN 'shipment' THEN -q ELSE 0 END AS BIGINT) AS d_reserved,
    CAST(CASE type WHEN 'purchase_ordered' THEN q WHEN 'receipt' THEN -q ELSE 0 END AS BIGINT) AS d_incoming,
    CASE WHEN type IN ('receipt', 'restock')
      THEN CAST(round(${BASE_COST} * (1 + 0.12 * t + 0.04 * sin(4 * pi() * t)) * (0.985 + 0.03 * ${u('i', 'noise')}), 4) AS DECIMAL(19,4)) END AS unit_cost,
    CASE WHEN type = 'adjustment' AND q < 0 THEN ['damaged', 'lost', 'theft', 'expired'][1 + CAST(floor(4 * ${u('i', 'why')}) AS INTEGER)]
         WHEN type = 'adjustment' THEN ['found', 'returned', 'correction'][1 + CAST(floor(3 * ${u('i', 'why')}) AS INTEGER)] END AS reason,
    CASE WHEN type IN ('receipt', 'purchase_ordered') THEN 'PO-' || lpad(CAST(${mix('i', 'po')} % 1000000 AS VARCHAR), 6, '0')
         WHEN type IN ('sale', 'shipment', 'allocation', 'release') THEN 'SO-' || lpad(CAST(${mix('i', 'so')} % 10000000 AS VARCHAR), 7, '0') END AS reference,
    CASE WHEN kind = 'transfer' THEN ${ulidSql('ms', 'i, $seed, 99')} END AS correlation_id,
    'user-' || CAST(${mix('i', 'actor')} % 25 AS VARCHAR) AS actor
  FROM legs
),
opening AS (
  SELECT
    ${ulidSql('ms', 'level, $seed, 7')} AS movement_id,
    sku, warehouse, 'receipt' AS type, ms,
    -- 300 units, plus a tenth of the level's expected movements: a busy level's random walk is wider.
    CAST(${OPENING_UNITS} + ceil(0.1 * $base / ${WAREHOUSES} * (pow((sku + 1) / ${SKUS}, 1 / 1.8) - pow(sku / ${SKUS}, 1 / 1.8))) AS BIGINT) AS d_on_hand,
    CAST(0 AS BIGINT) AS d_reserved, CAST(0 AS BIGINT) AS d_incoming,
    CAST(${BASE_COST} AS DECIMAL(19,4)) AS unit_cost,
    NULL AS reason, 'PO-OPENING' AS reference, NULL AS correlation_id, 'user-0' AS actor
  FROM (
    SELECT level, CAST(level // ${WAREHOUSES} AS INTEGER) AS sku, CAST(level % ${WAREHOUSES} AS INTEGER) AS warehouse,
      CAST($start_ms AS BIGINT) + 6 * 3600000 + level * 1000 AS ms
    FROM range(${SKUS * WAREHOUSES}) AS levels(level)
  )
),
all_rows AS (
  SELECT * FROM events UNION ALL SELECT * FROM opening
),
named AS (
  SELECT *, 'sku-' || lpad(CAST(sku AS VARCHAR), 3, '0') AS sku_id, 'wh-' || CAST(warehouse AS VARCHAR) AS warehouse_id, make_timestamp(ms * 1000) AS created_at,
    ${RESERVATION} AS reservation
  FROM all_rows
)
SELECT
  movement_id, sku_id, warehouse_id, type,
  d_on_hand AS delta_on_hand, d_reserved AS delta_reserved, d_on_hand - d_reserved AS delta_available, d_incoming AS delta_incoming,
  CASE WHEN reservation THEN NULL ELSE SUM(d_on_hand) OVER w END AS resulting_on_hand,
  CASE WHEN reservation THEN NULL ELSE SUM(d_reserved) OVER w END AS resulting_reserved,
  CASE WHEN reservation THEN NULL ELSE SUM(d_on_hand - d_reserved) OVER w END AS resulting_available,
  CASE WHEN reservation THEN NULL ELSE SUM(d_incoming) OVER w END AS resulting_incoming,
  CASE WHEN reservation THEN NULL ELSE SUM(CASE WHEN reservation THEN 0 ELSE 1 END) OVER w END AS version,
  unit_cost, CASE WHEN unit_cost IS NULL THEN NULL ELSE 'USD' END AS currency,
  reason, reference, CAST(NULL AS VARCHAR) AS note, correlation_id, actor, created_at,
  $tenant AS tenant_id, CAST(created_at AS DATE) AS dt
FROM named
WINDOW w AS (PARTITION BY sku_id, warehouse_id ORDER BY created_at, movement_id ROWS UNBOUNDED PRECEDING)
`;

const listDir = (dir: string): Promise<string[]> => readdir(dir).catch(() => []);

/** Every Parquet file under `dir`, recursively, with its size. */
export const lakeFiles = async (dir: string): Promise<{ path: string; bytes: number }[]> => {
  const out: { path: string; bytes: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await lakeFiles(path)));
    else if (entry.name.endsWith('.parquet')) out.push({ path, bytes: (await stat(path)).size });
  }
  return out;
};

/** Writes the history into a fresh tenant directory of `root` (the caller empties it first). */
export const generateLake = async (options: GenerateOptions): Promise<Generated> => {
  const t0 = performance.now();
  const base = Math.max(1, Math.round((options.rows - SKUS * WAREHOUSES) / (1 + TRANSFER_SHARE)));
  // Insertion order kept: rows reach the writer sorted by day, so each day is one file, as after compaction.
  const instance = await DuckDBInstance.create(':memory:', { ...DUCKDB_OFFLINE, threads: '2' });
  const tenantDir = join(options.root, 'movements', `tenant_id=${options.tenantId}`);
  await mkdir(join(options.root, 'movements'), { recursive: true });
  try {
    const db = await instance.connect();
    try {
      // Each column as LocalLake declares it (its staging table's types), then the partition columns.
      const columns = [...MOVEMENT_COLUMNS.map(([name, type]) => `CAST(${name} AS ${type.replace(' NOT NULL', '')}) AS ${name}`), 'tenant_id', 'dt'].join(', ');
      // Sorted inside each day's file as LocalLake's compaction sorts (created_at, movement_id).
      await db.run(
        `COPY (SELECT ${columns} FROM (${generatorSql()}) ORDER BY dt, created_at, movement_id) TO $dir ` +
          `(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (tenant_id, dt), OVERWRITE_OR_IGNORE true)`,
        { base, days: options.days, start_ms: options.startMs, seed: options.seed, tenant: options.tenantId, dir: join(options.root, 'movements') },
      );
    } finally {
      db.closeSync();
    }
  } finally {
    instance.closeSync();
  }
  // DuckDB names its files data_<n>.parquet; LocalLake's are <ulid>.parquet (its compaction only merges those).
  for (const day of await listDir(tenantDir)) {
    const dayMs = Date.parse(`${day.slice('dt='.length)}T23:59:00.000Z`);
    for (const name of await listDir(join(tenantDir, day))) {
      if (name.endsWith('.parquet')) await rename(join(tenantDir, day, name), join(tenantDir, day, `${ulid(dayMs)}.parquet`));
    }
  }
  const files = await lakeFiles(tenantDir);
  const counter = await DuckDBInstance.create(':memory:', { ...DUCKDB_OFFLINE, threads: '2' });
  const rows = await (async () => {
    try {
      const db = await counter.connect();
      const reader = await db.runAndReadAll('SELECT count(*) FROM read_parquet($glob)', { glob: join(tenantDir, '*', '*.parquet') });
      db.closeSync();
      return Number(reader.getRows()[0]?.[0] ?? 0);
    } finally {
      counter.closeSync();
    }
  })();
  return {
    rows,
    files: files.length,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    seconds: (performance.now() - t0) / 1000,
  };
};
