import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DuckDBConnection, DuckDBInstance, DuckDBTimestampValue, listValue } from '@duckdb/node-api';
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import { LAKE_PARTITION_COLUMNS, MOVEMENT_COLUMNS, movementColumns, type LakeColumn } from '../../functions/events/lake-columns';
import type { Movement } from '../../functions/inventory/model';
import { ID_PATTERN } from '../../functions/platform/ids';
import { entriesOf, lakeFeeds, lakeTables, type LakeTable } from '../../functions/wiring';
import { DATA_DIR } from './paths';

/**
 * The local lake: the lake tables (functions/wiring.ts `lakeFeeds`: movements,
 * orders) as partitioned Parquet under `.data/lake/`, in the layout the AWS lake
 * has (issue 9): `<table>/tenant_id=<t>/dt=YYYY-MM-DD/<ulid>.parquet`,
 * Hive-style, the partition columns in the path and not in the files (as Glue
 * declares them). DuckDB writes the files (COPY ... TO ... (FORMAT parquet))
 * from an in-memory staging table filled by its appender, so no value is ever
 * spliced into SQL; paths are bound parameters too.
 *
 * Visibility rules, which readers (lake-query.ts) rely on:
 * - a file is written under a temporary name that the readers' glob (`*.parquet`)
 *   does not match, and renamed into place (rename(2) is atomic on one file
 *   system), so a reader sees a whole file or none of it;
 * - compaction writes the merged file under a temporary name, records what it
 *   replaces in a manifest, then, holding this root's write lock (readers hold
 *   its read lock for a whole query), renames the merged file in and unlinks
 *   the files it replaces. A reader in this process therefore sees either all
 *   the small files or the merged one, never both and never neither. After a
 *   crash between the rename and the unlinks the manifest finishes the job
 *   (`LocalLake.open` rolls it forward); readers in other processes are not
 *   covered by the lock (the runtime serves reports from its own process).
 * - one LocalLake writes a root at a time.
 */

export const DEFAULT_LAKE_ROOT = resolve(DATA_DIR, 'lake');

/** A ledger row as it enters the lake: the movement and its tenant. */
export type LakeMovement = Movement & { tenant_id: string };

/** The columns of a movements file, in order (functions/events/lake-columns.ts: the one list, shared with the Glue table). */
export { MOVEMENT_COLUMNS };

/** The partition columns the path carries, and their types when read back. */
export const PARTITION_COLUMNS = LAKE_PARTITION_COLUMNS;

/** What the lake knows of a table: its columns, the field whose UTC day is `dt`, the field a row is identified (and files sorted) by. */
export interface LakeTableSpec {
  table: LakeTable;
  columns: readonly LakeColumn[];
  partitionTime: string;
  rowId: string;
}

/** Every lake table, from the wiring's lake feeds. */
export const LAKE_TABLES: readonly LakeTableSpec[] = entriesOf(lakeFeeds).map(([, feed]) => ({
  table: feed.table,
  columns: feed.columns,
  partitionTime: feed.partitionTime,
  rowId: feed.rowId,
}));

/** Every table a report may read: the feeds' tables and the close's rollups (functions/wiring.ts lakeTables), each with its file columns. */
export const READ_TABLES = lakeTables;

export const lakeTableSpec = (table: LakeTable): LakeTableSpec => {
  const spec = LAKE_TABLES.find((t) => t.table === table);
  if (!spec) throw new LakeInputError(`no lake table ${JSON.stringify(table)}`);
  return spec;
};

/** DuckDB may never download anything: parquet is built in. */
export const DUCKDB_OFFLINE = { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' } as const;

const DT_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const UNIT_COST = /^(0|[1-9]\d{0,14})(\.\d{1,4})?$/;
const FILE = /^[0-9A-HJKMNP-TV-Z]{26}\.parquet$/;
const MANIFEST = /^\.compact-[0-9A-HJKMNP-TV-Z]{26}\.json$/;
const TEMP = /^\.([0-9A-HJKMNP-TV-Z]{26}\.parquet|compact-[0-9A-HJKMNP-TV-Z]{26}\.json)\.tmp$/;
/** A level_days partition's close record: which file is the day's rollup and how many raw rows it was computed from. */

export class LakeInputError extends Error {
  override name = 'LakeInputError';
}

/** A tenant id as it may appear in a lake path: the id rule of functions/platform/ids.ts. */
export const assertTenantId = (tenantId: unknown): string => {
  if (typeof tenantId !== 'string' || !ID_PATTERN.test(tenantId)) throw new LakeInputError(`invalid tenant id: ${JSON.stringify(tenantId)}`);
  return tenantId;
};

/** A partition date: YYYY-MM-DD and a real calendar day. */
export const assertDt = (dt: unknown): string => {
  if (typeof dt !== 'string' || !DT_PATTERN.test(dt) || new Date(`${dt}T00:00:00.000Z`).toISOString().slice(0, 10) !== dt) {
    throw new LakeInputError(`invalid partition date: ${JSON.stringify(dt)}`);
  }
  return dt;
};

export const partitionDir = (root: string, tenantId: string, dt: string, table: LakeTable = 'movements'): string =>
  join(resolve(root), lakeTableSpec(table).table, `tenant_id=${assertTenantId(tenantId)}`, `dt=${assertDt(dt)}`);

// ---- the per-root read/write lock shared with lake-query.ts ----

class RwLock {
  private readers = 0;
  private writer = false;
  private readonly waiting: Array<{ write: boolean; grant: () => void }> = [];

  async run<T>(write: boolean, body: () => Promise<T>): Promise<T> {
    await new Promise<void>((grant) => {
      this.waiting.push({ write, grant });
      this.pump();
    });
    try {
      return await body();
    } finally {
      if (write) this.writer = false;
      else this.readers -= 1;
      this.pump();
    }
  }

  /** First come, first served: a waiting writer holds back the readers behind it. */
  private pump(): void {
    while (!this.writer) {
      const next = this.waiting[0];
      if (!next) return;
      if (next.write) {
        if (this.readers > 0) return;
        this.writer = true;
      } else {
        this.readers += 1;
      }
      this.waiting.shift();
      next.grant();
    }
  }
}

const locks = new Map<string, RwLock>();
const lockOf = (root: string): RwLock => {
  const key = resolve(root);
  let lock = locks.get(key);
  if (!lock) locks.set(key, (lock = new RwLock()));
  return lock;
};

/** Readers of a root hold this for a whole query: compaction cannot swap files under them. */
export const withLakeRead = <T>(root: string, body: () => Promise<T>): Promise<T> => lockOf(root).run(false, body);
const withLakeWrite = <T>(root: string, body: () => Promise<T>): Promise<T> => lockOf(root).run(true, body);

// ---- rows ----

interface StagedRow {
  table: LakeTable;
  tenantId: string;
  dt: string;
  values: Array<string | bigint | DuckDBTimestampValue | null>;
}

/** A flat row (one field per column, plus `tenant_id`) as a lake table stores it: a lake feed's event detail is one. */
export type LakeRecord = Record<string, unknown>;

/** One value as its column's DuckDB type stores it; throws LakeInputError on anything it cannot store exactly. */
const columnValue = (row: LakeRecord, [name, declared]: LakeColumn): string | bigint | DuckDBTimestampValue | null => {
  const required = declared.endsWith(' NOT NULL');
  const type = declared.replace(/ NOT NULL$/, '');
  const value = row[name];
  if (value === undefined || value === null) {
    if (required) throw new LakeInputError(`${name} is required`);
    return null;
  }
  if (type === 'BIGINT') {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new LakeInputError(`${name} must be an integer`);
    return BigInt(value);
  }
  if (typeof value !== 'string') throw new LakeInputError(`${name} must be a string`);
  if (type === 'VARCHAR') {
    if (required && value === '') throw new LakeInputError(`${name} is required`);
    return value;
  }
  if (type === 'DECIMAL(19,4)') {
    if (!UNIT_COST.test(value)) throw new LakeInputError(`${name} must be a decimal with at most 15 + 4 digits: ${JSON.stringify(value)}`);
    return value;
  }
  if (type === 'TIMESTAMP') {
    const ms = Date.parse(value);
    if (!INSTANT.test(value) || Number.isNaN(ms)) throw new LakeInputError(`${name} must be an ISO instant in UTC: ${JSON.stringify(value)}`);
    return new DuckDBTimestampValue(BigInt(ms) * 1000n);
  }
  throw new LakeInputError(`column ${name} has a type the local lake does not write: ${declared}`);
};

/** Checks a flat row of `spec`'s table and stages it in the file's column order. */
const stageRecord = (spec: LakeTableSpec, row: LakeRecord): StagedRow => {
  if (typeof row !== 'object' || row === null) throw new LakeInputError(`a ${spec.table} row must be an object`);
  const tenantId = assertTenantId(row.tenant_id);
  const time = row[spec.partitionTime];
  const ms = typeof time === 'string' && INSTANT.test(time) ? Date.parse(time) : Number.NaN;
  if (Number.isNaN(ms)) throw new LakeInputError(`${spec.partitionTime} must be an ISO instant in UTC: ${JSON.stringify(time)}`);
  return { table: spec.table, tenantId, dt: new Date(ms).toISOString().slice(0, 10), values: spec.columns.map((column) => columnValue(row, column)) };
};

/** A ledger row flattened to the movements columns (functions/events/lake-columns.ts movementColumns), once it is shaped like one. */
const flatMovement = (row: LakeMovement): LakeRecord => {
  if (typeof row !== 'object' || row === null) throw new LakeInputError('a movement row must be an object');
  const deltas: Partial<Movement['deltas']> | undefined = row.deltas;
  if (typeof deltas !== 'object' || deltas === null) throw new LakeInputError('deltas are required');
  return movementColumns(row);
};

// ---- the writer ----

export interface LocalLakeOptions {
  /** Where the lake lives; `.data/lake/` by default. */
  root?: string;
  /** Buffered rows are written at least this often (ms); 2000 by default. 0 turns the timer off (flush() and close() still write). */
  flushEveryMs?: number;
  /** Where a failed timed flush is reported (its rows stay buffered and are tried again). */
  onError?: (error: unknown) => void;
}

export interface CompactionResult {
  /** How many files the partition had, and how many rows. */
  files: number;
  rows: number;
  /** The merged file's name, when there was something to merge. */
  merged?: string;
}

const STAGING = 'lake_staging';

export class LocalLake {
  readonly root: string;
  readonly flushEveryMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly nextId = monotonicFactory();
  private buffer = new Map<string, StagedRow[]>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    options: LocalLakeOptions,
  ) {
    this.root = resolve(options.root ?? DEFAULT_LAKE_ROOT);
    this.flushEveryMs = options.flushEveryMs ?? 2000;
    this.onError = options.onError ?? ((error) => console.error('lake: flush failed, rows kept for the next try:', error));
  }

  /** Opens the lake at `root` (creating it), finishing or undoing any compaction a crash interrupted. */
  static async open(options: LocalLakeOptions = {}): Promise<LocalLake> {
    const instance = await DuckDBInstance.create(':memory:', { ...DUCKDB_OFFLINE, threads: '2' });
    const db = await instance.connect();
    const lake = new LocalLake(instance, db, options);
    for (const { table } of READ_TABLES) await mkdir(join(lake.root, table), { recursive: true });
    await lake.recover();
    if (lake.flushEveryMs > 0) {
      lake.timer = setInterval(() => {
        if (lake.pending() > 0) lake.flush().catch(lake.onError);
      }, lake.flushEveryMs);
      lake.timer.unref();
    }
    return lake;
  }

  /** How many rows wait in the buffer. */
  pending(): number {
    let count = 0;
    for (const rows of this.buffer.values()) count += rows.length;
    return count;
  }

  /** Buffers ledger rows (movements) for the next flush. All or nothing: one invalid row refuses the whole call (LakeInputError). */
  append(rows: readonly LakeMovement[]): void {
    const spec = lakeTableSpec('movements');
    this.buffered(rows.map((row) => stageRecord(spec, flatMovement(row))));
  }

  /** Buffers flat rows of a lake table (a lake feed's event details) for the next flush; all or nothing, like `append`. */
  appendRecords(table: LakeTable, rows: readonly LakeRecord[]): void {
    const spec = lakeTableSpec(table);
    this.buffered(rows.map((row) => stageRecord(spec, row)));
  }

  private buffered(staged: readonly StagedRow[]): void {
    if (this.closed) throw new Error('the lake is closed');
    for (const row of staged) {
      const key = `${row.table}/${row.tenantId}/${row.dt}`;
      const list = this.buffer.get(key);
      if (list) list.push(row);
      else this.buffer.set(key, [row]);
    }
  }

  /** Writes every buffered row: one new file per partition. Rows of a partition whose write fails stay buffered. */
  flush(): Promise<void> {
    return this.serial(async () => {
      const batch = this.buffer;
      this.buffer = new Map();
      const failures: unknown[] = [];
      for (const [key, rows] of batch) {
        try {
          await this.writePartitionFile(rows);
        } catch (error) {
          failures.push(error);
          const later = this.buffer.get(key) ?? [];
          this.buffer.set(key, [...rows, ...later]);
        }
      }
      if (failures.length > 0) throw failures[0];
    });
  }

  /**
   * Merges a partition's files into one. Rows are never seen twice or missing by
   * a reader of this process: the merged file is written under a temporary name,
   * its row count checked against the files it replaces, a manifest records the
   * swap, and the rename plus unlinks happen under the root's write lock.
   */
  compact(tenantId: string, dt: string, table: LakeTable = 'movements'): Promise<CompactionResult> {
    const dir = partitionDir(this.root, tenantId, dt, table);
    const spec = lakeTableSpec(table);
    return this.serial(async () => {
      await this.recoverPartition(dir);
      const files = (await listDir(dir)).filter((name) => FILE.test(name)).sort();
      if (files.length === 0) return { files: 0, rows: 0 };
      const paths = files.map((name) => join(dir, name));
      const rows = await this.count(paths);
      if (files.length === 1) return { files: 1, rows };
      const id = this.nextId();
      const merged = `${id}.parquet`;
      const temp = join(dir, `.${id}.parquet.tmp`);
      await this.db.run(
        `COPY (SELECT * FROM read_parquet($files, union_by_name = true) ORDER BY ${spec.partitionTime}, ${spec.rowId}) TO $path (FORMAT parquet, COMPRESSION zstd)`,
        { files: listValue(paths), path: temp },
      );
      const written = await this.count([temp]);
      if (written !== rows) {
        await rm(temp, { force: true });
        throw new Error(`compaction of ${dir} wrote ${written} rows of ${rows}; nothing was changed`);
      }
      const manifest = join(dir, `.compact-${id}.json`);
      await writeAtomically(manifest, JSON.stringify({ merged, temp: `.${id}.parquet.tmp`, replaces: files }));
      await withLakeWrite(this.root, () => this.swap(dir, manifest));
      return { files: files.length, rows, merged };
    });
  }

  /** Writes what is buffered and releases DuckDB. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    await this.queue.catch(() => undefined);
    this.db.closeSync();
    this.instance.closeSync();
  }

  private serial<T>(body: () => Promise<T>): Promise<T> {
    const run = this.queue.then(body, body);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writePartitionFile(rows: StagedRow[]): Promise<void> {
    const first = rows[0];
    if (!first) return;
    const spec = lakeTableSpec(first.table);
    const dir = partitionDir(this.root, first.tenantId, first.dt, first.table);
    await mkdir(dir, { recursive: true });
    const id = this.nextId();
    const temp = join(dir, `.${id}.parquet.tmp`);
    await this.db.run(`CREATE OR REPLACE TABLE ${STAGING} (${spec.columns.map(([name, type]) => `${name} ${type}`).join(', ')})`);
    try {
      const appender = await this.db.createAppender(STAGING);
      try {
        for (const row of rows) {
          for (const value of row.values) {
            if (value === null) appender.appendNull();
            else if (typeof value === 'bigint') appender.appendBigInt(value);
            else if (typeof value === 'string') appender.appendVarchar(value);
            else appender.appendTimestamp(value);
          }
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      await this.db.run(`COPY (SELECT * FROM ${STAGING} ORDER BY ${spec.partitionTime}, ${spec.rowId}) TO $path (FORMAT parquet, COMPRESSION zstd)`, { path: temp });
      await rename(temp, join(dir, `${id}.parquet`));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    } finally {
      await this.db.run(`DROP TABLE IF EXISTS ${STAGING}`);
    }
  }

  private async count(paths: string[]): Promise<number> {
    const reader = await this.db.runAndReadAll(`SELECT count(*) FROM read_parquet($files)`, { files: listValue(paths) });
    return Number(reader.getRows()[0]?.[0] ?? 0);
  }

  /** Renames the merged file in and unlinks what it replaces (idempotent: a crash midway is finished by recovery). */
  private async swap(dir: string, manifestPath: string): Promise<void> {
    const manifest = await readManifest(manifestPath);
    const names = await listDir(dir);
    if (names.includes(manifest.temp)) await rename(join(dir, manifest.temp), join(dir, manifest.merged));
    for (const name of manifest.replaces) await rm(join(dir, name), { force: true });
    await rm(manifestPath, { force: true });
  }

  private async recover(): Promise<void> {
    for (const { table } of LAKE_TABLES) {
      for (const tenant of await listDir(join(this.root, table))) {
        for (const day of await listDir(join(this.root, table, tenant))) await this.recoverPartition(join(this.root, table, tenant, day));
      }
    }
  }

  /**
   * A manifest whose merged file (or its temp) exists is rolled forward; one whose
   * merged file never got written is dropped with its temp. Other temps are the
   * leftovers of a flush or compaction that died before its rename: removed.
   */
  private async recoverPartition(dir: string): Promise<void> {
    const names = await listDir(dir);
    const referenced = new Set<string>();
    for (const name of names.filter((n) => MANIFEST.test(n))) {
      const path = join(dir, name);
      const manifest = await readManifest(path);
      if (names.includes(manifest.merged) || names.includes(manifest.temp)) {
        referenced.add(manifest.temp);
        await withLakeWrite(this.root, () => this.swap(dir, path));
      } else {
        await rm(path, { force: true });
      }
    }
    for (const name of names.filter((n) => TEMP.test(n) && !referenced.has(n))) await rm(join(dir, name), { force: true });
  }
}

/** A compaction's manifest: what the merged file is called, under which temp name, and what it replaces. Decoded, not cast: it survives crashes. */
const compactionManifest = z.object({ merged: z.string(), temp: z.string(), replaces: z.array(z.string()) });

const readManifest = async (path: string): Promise<z.infer<typeof compactionManifest>> => compactionManifest.parse(JSON.parse(await readFile(path, 'utf8')));

/** Node's "no such file or directory", by its code. */
export const isMissingFile = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';

const listDir = async (dir: string): Promise<string[]> => {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isMissingFile(error)) return [];
    throw error;
  }
};

const writeAtomically = async (path: string, text: string): Promise<void> => {
  const temp = `${path}.tmp`;
  await writeFile(temp, text, { flag: 'w' });
  await rename(temp, path);
};
