import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as z from 'zod';
import { LEVEL_BALANCE_COLUMNS, LEVEL_DAY_COLUMNS } from '../events/lake-columns';
import { MOVEMENT_TYPES } from '../inventory/model';
import type { LakeObjects } from '../platform/lake-objects';
import { readParquet, writeParquet, type ParquetRow } from '../platform/parquet';
import { valuationWarningRow } from './schemas';
import { parseValuationState, valuate, VALUATION_STATE_VERSION, type ValuationMethod, type ValuationRow, type ValuationState, type ValuationWarning } from './valuation';
import { DAY_MS, dayOf, nextDay } from '../platform/days';

/**
 * The daily close of the lake (issue 9, "Reports at scale"): what lets a report over two
 * years of ledger answer in about a second. Once a day is over (UTC), its movements never
 * change, so the close turns each tenant-day into:
 * - a `level_days` rollup (per SKU, warehouse and movement type: units in, out, net,
 *   movements, last sale), one Parquet object at a fixed key, which stock-movement and
 *   sales-trends read instead of the day's raw rows;
 * - a `level_balances` snapshot (per level: on_hand and last sale at the day's end), from which
 *   a report's opening stock is one day's rows instead of a sum over the whole history;
 * - valuation checkpoints (the FIFO and weighted-average engine's whole state, and the
 *   warnings said so far) at the end of every Sunday, every month's last day and the last
 *   closed day, from which the valuation report replays only the rows after them.
 * `closed.json` then says which days are closed (every day before `closed_through`) and
 * which checkpoints exist; reports read it first and bind what it says as parameters.
 *
 * It reads and writes objects only (S3 in AWS, the S3 stand-in locally): the day's files
 * are read with hyparquet, rolled up and valued here, in code the tests run against the
 * SQL path (no Athena in the close, so it neither queues behind user reports nor pages
 * results). Deduplication is per day: a movement and its at-least-once copies share a
 * created_at, so a dt partition.
 *
 * Late rows: a day's files are fingerprinted (keys, sizes and ETags) in `manifest.json`;
 * a closed day whose files change (a late record, a redrive, compaction) is closed again,
 * and the checkpoints from the one before it are rebuilt. Every write is whole and at a
 * fixed key, and closed.json is written last, so a close that dies midway is finished by
 * the next run and a reader never sees a day closed before its rollup is there.
 */

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const dayText = z.string().regex(DAY);

export const CLOSE_METHODS: readonly ValuationMethod[] = ['fifo', 'weighted_average'];

/** Where the close reads and writes, under the lake bucket. */
export const closeKeys = {
  tenants: 'movements/',
  movements: (tenantId: string) => `movements/tenant_id=${tenantId}/`,
  rollup: (tenantId: string, day: string) => `level_days/tenant_id=${tenantId}/dt=${day}/rollup.parquet`,
  balance: (tenantId: string, day: string) => `level_balances/tenant_id=${tenantId}/dt=${day}/balance.parquet`,
  /** Every closed day's balance object of a tenant (listing it tells the first day the ledger knew). */
  balancesOf: (tenantId: string) => `level_balances/tenant_id=${tenantId}/`,
  manifest: (tenantId: string) => `close/tenant_id=${tenantId}/manifest.json`,
  closed: (tenantId: string) => `close/tenant_id=${tenantId}/closed.json`,
  checkpoint: (tenantId: string, method: ValuationMethod, day: string) => `close/tenant_id=${tenantId}/valuation/${method}/${day}.json.gz`,
} as const;

/** The movement columns the close reads. */
const READ_COLUMNS = ['movement_id', 'sku_id', 'warehouse_id', 'type', 'delta_on_hand', 'unit_cost', 'currency', 'correlation_id', 'reason', 'created_at'] as const;

const closedFile = z.strictObject({
  version: z.literal(1),
  /** Every day before it is closed (rolled up, and within the checkpoints); the days from it on are read raw. */
  closed_through: dayText,
  /** The newest created_at among closed days' movements (a report's data_as_of when no newer row is raw). */
  newest_closed_at: z.iso.datetime().nullable(),
  /** Days whose end-of-day valuation checkpoints exist (both methods), ascending. */
  checkpoints: z.array(dayText),
  /** Their format (valuation.ts VALUATION_STATE_VERSION): a report resumes only from checkpoints of the format it reads. */
  state_version: z.number().int(),
  /** Checkpoints dropped by this run, deleted by the next one (a report that read the previous closed.json may still be loading one). */
  retired: z.array(dayText),
});
export type ClosedDays = z.infer<typeof closedFile>;

/**
 * The rollups' format: a manifest of another version (or none, or one that does not decode)
 * marks every day changed, so the close rewrites every rollup in today's columns.
 * 2: level_days gained units_returned.
 */
const ROLLUP_VERSION = 2;
const manifestFile = z.strictObject({ version: z.literal(ROLLUP_VERSION), days: z.record(dayText, z.string()) });

const checkpointFile = z.strictObject({ state: z.unknown(), warnings: z.array(valuationWarningRow) });
export interface Checkpoint {
  state: ValuationState;
  /** What the engine said about rows up to the state's as_of (not the transfers still in transit: a later run says those). */
  warnings: ValuationWarning[];
}

const decodeJson = <T>(schema: z.ZodType<T>, bytes: Uint8Array, what: string): T => {
  const parsed = schema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  if (!parsed.success) throw new Error(`${what} is not what the close writes: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
};

/**
 * What the close has closed for the tenant; undefined before its first close, and when the
 * object is not one this code reads (written by another version): as good as no close, so a
 * report reads every day raw and the next close starts over, rewriting it.
 */
export const readClosedDays = async (objects: LakeObjects, tenantId: string): Promise<ClosedDays | undefined> => {
  const bytes = await objects.get(closeKeys.closed(tenantId));
  if (bytes === undefined) return undefined;
  try {
    return decodeJson(closedFile, bytes, closeKeys.closed(tenantId));
  } catch {
    return undefined;
  }
};

/** A checkpoint the close wrote; undefined when it is gone. */
export const readCheckpoint = async (objects: LakeObjects, tenantId: string, method: ValuationMethod, day: string): Promise<Checkpoint | undefined> => {
  const key = closeKeys.checkpoint(tenantId, method, day);
  const bytes = await objects.get(key);
  if (bytes === undefined) return undefined;
  const file = decodeJson(checkpointFile, gunzipSync(bytes), key);
  return { state: parseValuationState(file.state), warnings: file.warnings };
};

// ---------- days ----------

/** The last instant of the day (UTC), as valuation's as_of counts it. */
export const endOfDay = (day: string): string => new Date(Date.parse(day) + DAY_MS - 1).toISOString();

/** A day whose end keeps a checkpoint for good: a Sunday (so a replay is at most a week) or a month's last day ("stock on 31 December"). */
export const keepsCheckpoint = (day: string): boolean => new Date(Date.parse(day)).getUTCDay() === 0 || nextDay(day).endsWith('-01');

const DT_OF_KEY = /\/dt=(\d{4}-\d{2}-\d{2})\/[^/]+\.parquet$/;

// ---------- rollup ----------

export interface DayMovement {
  movement_id: string;
  sku_id: string;
  warehouse_id: string;
  type: string;
  delta_on_hand: bigint;
  unit_cost: string | null;
  currency: string | null;
  correlation_id: string | null;
  reason: string | null;
  created_at: string;
}

const text = (row: ParquetRow, name: string): string => {
  const value = row[name];
  if (typeof value !== 'string') throw new TypeError(`a movement without ${name}`);
  return value;
};
const optionalText = (row: ParquetRow, name: string): string | null => {
  const value = row[name];
  if (value !== null && typeof value !== 'string') throw new TypeError(`a movement whose ${name} is not text`);
  return value ?? null;
};

const movementOf = (row: ParquetRow): DayMovement => {
  const delta = row.delta_on_hand;
  if (typeof delta !== 'bigint') throw new TypeError('a movement without delta_on_hand');
  return {
    movement_id: text(row, 'movement_id'),
    sku_id: text(row, 'sku_id'),
    warehouse_id: text(row, 'warehouse_id'),
    type: text(row, 'type'),
    delta_on_hand: delta,
    unit_cost: optionalText(row, 'unit_cost'),
    currency: optionalText(row, 'currency'),
    correlation_id: optionalText(row, 'correlation_id'),
    reason: optionalText(row, 'reason'),
    created_at: text(row, 'created_at'),
  };
};

export interface LevelDay {
  sku_id: string;
  warehouse_id: string;
  type: string;
  units_in: bigint;
  units_out: bigint;
  net: bigint;
  movements: bigint;
  last_sale_at: string | null;
  units_returned: bigint;
}

const isSale = (row: DayMovement): boolean => (row.type === 'sale' || row.type === 'shipment') && row.delta_on_hand < 0n;

/**
 * One day's level_days rows from its movements, each movement_id once (the first copy: copies
 * are the same row), as the reports count units: in = positive on_hand deltas, out = negative
 * ones as a positive number, net = their sum, movements = rows (unit-less ones too), last sale
 * = the newest sale or shipment row with a negative delta. Sorted by SKU, warehouse, type.
 */
export const rollUpDay = (rows: readonly DayMovement[]): LevelDay[] => {
  const seen = new Set<string>();
  const groups = new Map<string, LevelDay>();
  for (const row of rows) {
    if (seen.has(row.movement_id)) continue;
    seen.add(row.movement_id);
    const key = JSON.stringify([row.sku_id, row.warehouse_id, row.type]);
    let group = groups.get(key);
    if (!group) {
      group = { sku_id: row.sku_id, warehouse_id: row.warehouse_id, type: row.type, units_in: 0n, units_out: 0n, net: 0n, movements: 0n, last_sale_at: null, units_returned: 0n };
      groups.set(key, group);
    }
    if (row.delta_on_hand > 0n) group.units_in += row.delta_on_hand;
    else group.units_out -= row.delta_on_hand;
    group.net += row.delta_on_hand;
    group.movements += 1n;
    if (row.type === 'adjustment' && row.reason === 'returned' && row.delta_on_hand > 0n) group.units_returned += row.delta_on_hand;
    if (isSale(row) && (group.last_sale_at === null || Date.parse(row.created_at) > Date.parse(group.last_sale_at))) group.last_sale_at = row.created_at;
  }
  const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...groups.values()].sort((a, b) => order(a.sku_id, b.sku_id) || order(a.warehouse_id, b.warehouse_id) || order(a.type, b.type));
};

const ledgerType = z.enum(MOVEMENT_TYPES);

export interface LevelBalance {
  sku_id: string;
  warehouse_id: string;
  on_hand: bigint;
  last_sale_at: string | null;
}

const levelKeyOf = (row: { sku_id: string; warehouse_id: string }): string => JSON.stringify([row.sku_id, row.warehouse_id]);

/** The balances at a day's end from those at the previous day's end and the day's rollup (each movement already once). */
export const nextBalances = (balances: ReadonlyMap<string, LevelBalance>, day: readonly LevelDay[]): Map<string, LevelBalance> => {
  const next = new Map([...balances].map(([key, balance]) => [key, { ...balance }]));
  for (const row of day) {
    const key = levelKeyOf(row);
    const balance = next.get(key) ?? { sku_id: row.sku_id, warehouse_id: row.warehouse_id, on_hand: 0n, last_sale_at: null };
    balance.on_hand += row.net;
    if (row.last_sale_at !== null && (balance.last_sale_at === null || Date.parse(row.last_sale_at) > Date.parse(balance.last_sale_at))) balance.last_sale_at = row.last_sale_at;
    next.set(key, balance);
  }
  return next;
};

const balanceRows = (balances: ReadonlyMap<string, LevelBalance>): ParquetRow[] => {
  const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...balances.values()].sort((a, b) => order(a.sku_id, b.sku_id) || order(a.warehouse_id, b.warehouse_id)).map((b) => ({ ...b }));
};

const bigintOf = (row: ParquetRow, name: string, key: string): bigint => {
  const value = row[name];
  if (typeof value !== 'bigint') throw new TypeError(`${key} has a row without ${name}`);
  return value;
};

const readBalances = async (objects: LakeObjects, tenantId: string, day: string): Promise<Map<string, LevelBalance> | undefined> => {
  const key = closeKeys.balance(tenantId, day);
  const bytes = await objects.get(key);
  if (bytes === undefined) return undefined;
  const balances = new Map<string, LevelBalance>();
  for (const row of await readParquet(bytes, LEVEL_BALANCE_COLUMNS.map(([name]) => name))) {
    const balance = { sku_id: text(row, 'sku_id'), warehouse_id: text(row, 'warehouse_id'), on_hand: bigintOf(row, 'on_hand', key), last_sale_at: optionalText(row, 'last_sale_at') };
    balances.set(levelKeyOf(balance), balance);
  }
  return balances;
};


/**
 * One closed day as the close wrote it: its level_days rows and every level's balance at its
 * end (both empty for a day the close has not written). What the forecasting context reads its
 * demand history from, without knowing where or how the close stores it.
 */
export const readClosedDay = async (objects: LakeObjects, tenantId: string, day: string): Promise<{ rollup: LevelDay[]; balances: LevelBalance[] }> => {
  if (!DAY.test(day)) throw new RangeError(`not a YYYY-MM-DD day: ${day}`);
  const key = closeKeys.rollup(tenantId, day);
  const [bytes, balances] = await Promise.all([objects.get(key), readBalances(objects, tenantId, day)]);
  const rollup = bytes === undefined ? [] : (await readParquet(bytes, LEVEL_DAY_COLUMNS.map(([name]) => name))).map(
    (row): LevelDay => ({
      sku_id: text(row, 'sku_id'),
      warehouse_id: text(row, 'warehouse_id'),
      type: text(row, 'type'),
      units_in: bigintOf(row, 'units_in', key),
      units_out: bigintOf(row, 'units_out', key),
      net: bigintOf(row, 'net', key),
      movements: bigintOf(row, 'movements', key),
      last_sale_at: optionalText(row, 'last_sale_at'),
      units_returned: bigintOf(row, 'units_returned', key),
    }),
  );
  return { rollup, balances: [...(balances?.values() ?? [])] };
};

const valuationRowOf = (row: DayMovement): ValuationRow => ({
  movement_id: row.movement_id,
  created_at: row.created_at,
  sku_id: row.sku_id,
  warehouse_id: row.warehouse_id,
  // The lake holds only the ledger's types; another would be a corrupt file, not a row to guess at.
  type: ledgerType.parse(row.type),
  on_hand: Number(row.delta_on_hand),
  ...(row.unit_cost === null ? {} : { unit_cost: row.unit_cost }),
  ...(row.currency === null ? {} : { currency: row.currency }),
  ...(row.correlation_id === null ? {} : { correlation_id: row.correlation_id }),
});

/**
 * The warnings a checkpoint carries: all of a run's but those about transfers still in transit
 * at its end, which depend on as_of (the run that resumes from the state says them, or not).
 */
export const carriedWarnings = (warnings: readonly ValuationWarning[], state: ValuationState): ValuationWarning[] => {
  const waiting = new Set(state.in_transit.map((t) => t.out.movement_id));
  return warnings.filter((w) => !(w.kind === 'unmatched_transfer' && waiting.has(w.movement_id)));
};

// ---------- the close ----------

export interface CloseDeps {
  objects: LakeObjects;
  now: () => Date;
}

export interface TenantClose {
  tenant_id: string;
  /** Days rolled up (again) by this run. */
  closed: string[];
  /** Days whose checkpoints this run wrote. */
  checkpoints: string[];
  closed_through: string | null;
  rows_read: number;
}

const fingerprint = (files: readonly { key: string; size: number; etag: string }[]): string =>
  createHash('sha256')
    .update(files.map((f) => `${f.key} ${f.size} ${f.etag}`).join('\n'))
    .digest('hex')
    .slice(0, 32);

const readDay = async (objects: LakeObjects, keys: readonly string[]): Promise<DayMovement[]> => {
  const rows: DayMovement[] = [];
  for (const key of keys) {
    const bytes = await objects.get(key);
    // A file compaction removed since the listing: the day is listed again, changed, by the next run.
    if (bytes === undefined) throw new Error(`${key} vanished while the day was being closed`);
    for (const row of await readParquet(bytes, READ_COLUMNS)) rows.push(movementOf(row));
  }
  return rows;
};

const putJson = (objects: LakeObjects, key: string, value: unknown): Promise<void> =>
  objects.put(key, Buffer.from(JSON.stringify(value), 'utf8'), 'application/json');

/**
 * Closes every day before `today` (UTC, default now) of one tenant that is not closed yet or
 * whose files changed since it was, and rolls the valuation checkpoints forward to the end of
 * the day before today. Idempotent: a second run with nothing new reads only listings.
 */
export const closeTenant = async (deps: CloseDeps, tenantId: string, options: { today?: string } = {}): Promise<TenantClose> => {
  const today = options.today ?? dayOf(deps.now().getTime());
  if (!DAY.test(today)) throw new RangeError(`today is not a YYYY-MM-DD day: ${today}`);
  const { objects } = deps;
  const [listing, manifestBytes, closed] = await Promise.all([
    objects.list(closeKeys.movements(tenantId)),
    objects.get(closeKeys.manifest(tenantId)),
    readClosedDays(objects, tenantId),
  ]);
  const manifest = ((): { days: Record<string, string> } => {
    if (manifestBytes === undefined) return { days: {} };
    try {
      return decodeJson(manifestFile, manifestBytes, closeKeys.manifest(tenantId));
    } catch {
      return { days: {} };
    }
  })();

  const files = new Map<string, { key: string; size: number; etag: string }[]>();
  for (const object of listing) {
    const day = DT_OF_KEY.exec(object.key)?.[1];
    if (day === undefined || day >= today) continue;
    const list = files.get(day) ?? [];
    list.push(object);
    files.set(day, list);
  }
  const days = [...files.keys()].sort();
  const prints = new Map(days.map((day) => [day, fingerprint(files.get(day) ?? [])]));
  const changed = new Set(days.filter((day) => manifest.days[day] !== prints.get(day)));
  const result: TenantClose = { tenant_id: tenantId, closed: [], checkpoints: [], closed_through: closed?.closed_through ?? null, rows_read: 0 };
  const firstDay = days[0];
  if (firstDay === undefined) return result;
  if (changed.size === 0 && closed?.closed_through === today) return result;

  // Resume from the newest checkpoint before the first day that needs work (a changed day, or the first unclosed one).
  const firstChanged = [...changed][0];
  const from = [firstChanged, closed?.closed_through].filter((d): d is string => d !== undefined).sort()[0] ?? firstDay;
  // Checkpoints of another format are not resumed from: the close replays from the first day and rewrites them.
  const resumable = closed?.state_version === VALUATION_STATE_VERSION ? closed.checkpoints.filter((day) => day < from) : [];
  const startDay = resumable.at(-1);
  let starts = new Map<ValuationMethod, Checkpoint | undefined>();
  if (startDay !== undefined) {
    // A checkpoint that does not decode (an older format, a damaged object) is as good as none: the close rebuilds from the first day.
    const loaded = await Promise.all(CLOSE_METHODS.map((method) => readCheckpoint(objects, tenantId, method, startDay).catch(() => undefined)));
    if (loaded.every((c) => c !== undefined)) starts = new Map(CLOSE_METHODS.map((method, index) => [method, loaded[index]]));
  }
  // The balances at the end of the checkpoint's day: written with it, so both resume together (or neither does).
  let balances = starts.size > 0 && startDay !== undefined ? await readBalances(objects, tenantId, startDay) : undefined;
  if (balances === undefined) starts = new Map();
  balances ??= new Map();
  const resumeFrom = starts.size > 0 && startDay !== undefined ? nextDay(startDay) : firstDay;
  const kept = starts.size > 0 ? resumable : [];

  const lastDay = dayOf(Date.parse(today) - DAY_MS);
  let newest = closed?.newest_closed_at ?? null;
  let segment: DayMovement[] = [];
  const written: string[] = [];
  for (let day = resumeFrom; day <= lastDay; day = nextDay(day)) {
    const keys = (files.get(day) ?? []).map((f) => f.key);
    if (keys.length > 0) {
      const rows = await readDay(objects, keys);
      result.rows_read += rows.length;
      const rollup = rollUpDay(rows);
      if (changed.has(day)) {
        await objects.put(closeKeys.rollup(tenantId, day), writeParquet(LEVEL_DAY_COLUMNS, rollup.map((row): ParquetRow => ({ ...row }))), 'application/vnd.apache.parquet');
        result.closed.push(day);
      }
      balances = nextBalances(balances, rollup);
      for (const row of rows) if (newest === null || Date.parse(row.created_at) > Date.parse(newest)) newest = row.created_at;
      for (const row of rows) segment.push(row);
    }
    // Every closed day has its balances, rows or not, so a report finds the day before its window whatever it is.
    await objects.put(closeKeys.balance(tenantId, day), writeParquet(LEVEL_BALANCE_COLUMNS, balanceRows(balances)), 'application/vnd.apache.parquet');
    if (!keepsCheckpoint(day) && day !== lastDay) continue;
    // The segment's rows, each once, valued from the last checkpoint to the end of this day.
    const ledger = new Map<string, ValuationRow>();
    for (const row of segment) if (row.delta_on_hand !== 0n && !ledger.has(row.movement_id)) ledger.set(row.movement_id, valuationRowOf(row));
    const next = new Map<ValuationMethod, Checkpoint>();
    for (const method of CLOSE_METHODS) {
      const start = starts.get(method);
      const run = valuate([...ledger.values()], { as_of: endOfDay(day), method, ...(start ? { start: start.state } : {}) });
      const checkpoint = { state: run.state, warnings: [...(start?.warnings ?? []), ...carriedWarnings(run.warnings, run.state)] };
      await objects.put(closeKeys.checkpoint(tenantId, method, day), gzipSync(JSON.stringify(checkpoint)), 'application/gzip');
      next.set(method, checkpoint);
    }
    starts = next;
    segment = [];
    written.push(day);
    result.checkpoints.push(day);
  }

  await putJson(objects, closeKeys.manifest(tenantId), { version: ROLLUP_VERSION, days: Object.fromEntries(prints) });
  // Kept for good: Sundays and month ends; the last closed day's until a newer one replaces it.
  const all = [...new Set([...kept, ...written])].sort();
  const checkpoints = all.filter((day) => keepsCheckpoint(day) || day === all.at(-1));
  const retired = [...new Set([...(closed?.checkpoints ?? []), ...written])].filter((day) => !checkpoints.includes(day)).sort();
  // Last run's retired checkpoints go now (never one this run keeps).
  const gone = (closed?.retired ?? []).filter((day) => !checkpoints.includes(day));
  await objects.delete(gone.flatMap((day) => CLOSE_METHODS.map((method) => closeKeys.checkpoint(tenantId, method, day))));
  const next: ClosedDays = { version: 1, closed_through: today, newest_closed_at: newest, checkpoints, state_version: VALUATION_STATE_VERSION, retired };
  await putJson(objects, closeKeys.closed(tenantId), next);
  result.closed_through = today;
  return result;
};

const TENANT_FOLDER = /^movements\/tenant_id=([^/]+)\/$/;

/** Closes every tenant the lake holds movements of (one ListObjectsV2 per 1,000 tenants), one after another. */
export const closeLake = async (deps: CloseDeps, options: { today?: string } = {}): Promise<TenantClose[]> => {
  const tenants = (await deps.objects.folders(closeKeys.tenants)).flatMap((prefix) => {
    const tenant = TENANT_FOLDER.exec(prefix)?.[1];
    return tenant === undefined ? [] : [tenant];
  });
  const results: TenantClose[] = [];
  for (const tenantId of tenants) results.push(await closeTenant(deps, tenantId, options));
  return results;
};
