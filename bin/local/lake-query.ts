import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBDateValue, DuckDBDecimalValue, DuckDBInstance, DuckDBTimestampValue, listValue, StatementType } from '@duckdb/node-api';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { DUCKDB_OFFLINE, LakeInputError, READ_TABLES, PARTITION_COLUMNS, assertTenantId, isMissingFile, withLakeRead } from './lake';

/**
 * Report SQL over the local lake, as Athena runs it over S3 (issue 9). Each
 * query gets its own in-memory DuckDB that can read one tenant's directory and
 * nothing else:
 * - one view per lake table (`movements`, `orders`, `level_days`: READ_TABLES) reads
 *   `<root>/<table>/tenant_id=<t>/*\/*.parquet` (Hive partitioning: `tenant_id`
 *   VARCHAR and `dt` DATE come from the path) and keeps only rows of that tenant,
 *   so no SQL can drop the tenant predicate and see another tenant's rows,
 *   whatever its WHERE says; a table the tenant has no files of is an empty
 *   table of its columns;
 * - file access is limited to those directories (`allowed_directories`, external
 *   access off, configuration locked) and extensions are never installed or
 *   loaded, so `read_csv('/etc/passwd')` or another tenant's path is refused;
 * - the text must be exactly one SELECT (an in-memory DuckDB cannot be opened
 *   READ_ONLY; this is the same guarantee: nothing is written);
 * - every value, the tenant and the paths included, is bound: nothing is
 *   spliced into SQL.
 * Queries hold the root's read lock (lake.ts), so a compaction never swaps
 * files under them.
 */

export type LakeParam = string | number | boolean | null;
export type LakeValue = string | number | boolean | null;
export type LakeRow = Record<string, LakeValue>;

const GLOB_CHARACTERS = /[*?[\]{}]/;
const REPORT_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const REPORT_SQL_DIR = resolve(__dirname, '../../functions/reports/sql');

/** The text of one report's SQL file (functions/reports/sql/<name>.sql), read at run time. */
export const readReportSql = async (name: string): Promise<string> => {
  if (!REPORT_NAME.test(name)) throw new LakeInputError(`invalid report name: ${JSON.stringify(name)}`);
  return readFile(join(REPORT_SQL_DIR, `${name}.sql`), 'utf8');
};

/** The CREATE TABLE of an empty lake table (its columns, then the partition columns, nothing NOT NULL): what a view stands on without files. */
export const emptyTableSql = (table: string, columns: readonly (readonly [string, string])[], options: { temporary?: boolean } = {}): string =>
  `CREATE ${options.temporary ? 'TEMP ' : ''}TABLE ${table} (${[...columns, ...PARTITION_COLUMNS].map(([name, type]) => `${name} ${type.replace(' NOT NULL', '')}`).join(', ')})`;

/**
 * One DuckDB instance per lake root and tenant, kept between queries so that DuckDB's
 * object cache keeps the Parquet footers it has read (a warm report does not re-read the
 * metadata of every file), as Athena keeps its own metadata. Each is locked to its
 * tenant's directories when created: external access off, configuration locked, so no
 * query on it can read another tenant's files or undo that. The least recently used
 * idle instance is closed beyond MAX_INSTANCES.
 */
interface TenantInstance {
  instance: DuckDBInstance;
  busy: number;
  /** Closed when its last query ends (closeLakeQueries came while it was busy). */
  closing: boolean;
}

const MAX_INSTANCES = 8;
const instances = new Map<string, Promise<TenantInstance>>();

const openTenantInstance = async (dirs: readonly string[]): Promise<TenantInstance> => {
  const instance = await DuckDBInstance.create(':memory:', { ...DUCKDB_OFFLINE, threads: '2', enable_object_cache: 'true' });
  const setup = await instance.connect();
  try {
    await setup.run('SET VARIABLE lake_dirs = $dirs', { dirs: listValue(dirs.map((dir) => `${dir}/`)) });
    await setup.run(`SET allowed_directories = getvariable('lake_dirs')`);
    await setup.run('SET enable_external_access = false');
    await setup.run('SET lock_configuration = true');
  } finally {
    setup.closeSync();
  }
  return { instance, busy: 0, closing: false };
};

const tenantInstance = async (key: string, dirs: readonly string[]): Promise<TenantInstance> => {
  let found = instances.get(key);
  if (found) {
    // Most recently used last.
    instances.delete(key);
  } else {
    found = openTenantInstance(dirs);
    found.catch(() => instances.delete(key));
  }
  instances.set(key, found);
  // Counted busy before any eviction below can look at it.
  const handed = await found;
  handed.busy += 1;
  for (const [other, entry] of instances) {
    if (instances.size <= MAX_INSTANCES) break;
    if (other === key) continue;
    const idle = await entry.catch(() => undefined);
    if (idle && idle.busy === 0 && instances.get(other) === entry) {
      instances.delete(other);
      idle.instance.closeSync();
    }
  }
  return handed;
};

/** Closes the cached instances of one lake root (the stand-in's close), or of every root; a busy one when its queries end. */
export const closeLakeQueries = async (root?: string): Promise<void> => {
  const prefix = root === undefined ? undefined : `${resolve(root)}\u0000`;
  for (const [key, entry] of [...instances]) {
    if (prefix !== undefined && !key.startsWith(prefix)) continue;
    instances.delete(key);
    const cached = await entry.catch(() => undefined);
    if (!cached) continue;
    if (cached.busy === 0) cached.instance.closeSync();
    else cached.closing = true;
  }
};

/** A result's rows and its columns as DuckDB typed them (the local Athena names those types as Athena does). */
export interface LakeResult {
  rows: LakeRow[];
  columns: { name: string; type: DuckDBType }[];
}

/** Runs one SELECT over the tenant's lake tables with bound parameters; `params.tenant_id` is required. */
export const queryLake = async (
  root: string,
  sqlText: string,
  params: Record<string, LakeParam>,
  options: { maxRows?: number } = {},
): Promise<LakeRow[]> => (await queryLakeResult(root, sqlText, params, options)).rows;

/** queryLake, with the result's columns and their types. */
export const queryLakeResult = async (
  root: string,
  sqlText: string,
  params: Record<string, LakeParam>,
  /** At most this many rows are read out of DuckDB (streamed, so a huge result is never held whole); all of them unless set. */
  options: { maxRows?: number } = {},
): Promise<LakeResult> => {
  const tenantId = assertTenantId(params.tenant_id);
  const lakeRoot = resolve(root);
  if (GLOB_CHARACTERS.test(lakeRoot)) throw new LakeInputError('the lake root may not contain glob characters');
  const tenantDirs = READ_TABLES.map(({ table, columns }) => ({ table, columns, dir: join(lakeRoot, table, `tenant_id=${tenantId}`) }));
  return withLakeRead(lakeRoot, async () => {
    // Handed out busy: the caller releases it below.
    const cached = await tenantInstance(`${lakeRoot}\u0000${tenantId}`, tenantDirs.map(({ dir }) => dir));
    try {
      const db = await cached.instance.connect();
      try {
        await db.run('SET VARIABLE lake_tenant = $tenant', { tenant: tenantId });
        // Temporary: the views live and die with this connection, so each query sees the files there are now.
        // Columns by position (union_by_name off): every file of a table is written with the table's declared
        // columns in order (LocalLake, the close, the bench's generator), and unifying by name would read every
        // file's footer before the query prunes any (~100 ms per table at two years of days).
        for (const { table, columns, dir } of tenantDirs) {
          if (await hasFiles(dir)) {
            await db.run(`SET VARIABLE lake_glob_${table} = $glob`, { glob: join(dir, '*', '*.parquet') });
            await db.run(
              `CREATE TEMP VIEW ${table} AS SELECT * FROM read_parquet(getvariable('lake_glob_${table}'), hive_partitioning = true, ` +
                `hive_types = {${PARTITION_COLUMNS.map(([name, type]) => `'${name}': ${type}`).join(', ')}}, union_by_name = false) ` +
                `WHERE tenant_id = getvariable('lake_tenant')`,
            );
          } else {
            await db.run(emptyTableSql(table, columns, { temporary: true }));
          }
        }

        const statements = await db.extractStatements(sqlText);
        if (statements.count !== 1) throw new LakeInputError(`a report is exactly one statement, not ${statements.count}`);
        const prepared = await statements.prepare(0);
        if (prepared.statementType !== StatementType.SELECT) throw new LakeInputError('a report may only SELECT');
        const values: Record<string, DuckDBValue> = {};
        for (let index = 1; index <= prepared.parameterCount; index += 1) {
          const name = prepared.parameterName(index);
          const value = params[name];
          if (value === undefined) throw new LakeInputError(`parameter $${name} has no value`);
          values[name] = value;
        }
        prepared.bind(values);
        const reader = options.maxRows === undefined ? await prepared.runAndReadAll() : await prepared.runAndReadUntil(options.maxRows);
        const rows = reader.getRowObjects();
        const types = reader.columnTypes();
        const names = reader.columnNames();
        // One object per row, built directly: a result of tens of thousands of rows is converted on every query.
        const kept = options.maxRows === undefined ? rows : rows.slice(0, options.maxRows);
        const converted: LakeRow[] = new Array<LakeRow>(kept.length);
        kept.forEach((row, index) => {
          const plainRow: LakeRow = {};
          for (const name of names) plainRow[name] = plain(row[name] ?? null);
          converted[index] = plainRow;
        });
        return {
          rows: converted,
          columns: reader.columnNames().flatMap((name, index) => {
            const type = types[index];
            return type === undefined ? [] : [{ name, type }];
          }),
        };
      } finally {
        db.closeSync();
      }
    } finally {
      cached.busy -= 1;
      if (cached.closing && cached.busy === 0) cached.instance.closeSync();
    }
  });
};

const hasFiles = async (tenantDir: string): Promise<boolean> => {
  let days: string[];
  try {
    days = await readdir(tenantDir);
  } catch (error) {
    if (isMissingFile(error)) return false;
    throw error;
  }
  for (const day of days) {
    const names = await readdir(join(tenantDir, day)).catch((): string[] => []);
    if (names.some((name) => name.endsWith('.parquet'))) return true;
  }
  return false;
};

/** DuckDB values as JSON-ready ones: integers as numbers (strings past 2^53), decimals as exact strings, dates as YYYY-MM-DD, timestamps as ISO instants. */
const plain = (value: DuckDBValue): LakeValue => {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof DuckDBDecimalValue) return value.toString();
  if (value instanceof DuckDBDateValue) return value.toString();
  if (value instanceof DuckDBTimestampValue) return new Date(Number(value.micros / 1000n)).toISOString();
  return String(value);
};
