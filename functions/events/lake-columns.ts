import type { Movement } from '../inventory/model';

/**
 * The columns of every lake table (issue 9), in file order, in DuckDB's SQL
 * spelling: the one list per dataset that the local lake writes
 * (bin/local/lake.ts), the local readers declare (bin/local/lake-query.ts,
 * bin/local/athena.ts), the Glue tables in AWS are built from (lib/lake.ts,
 * through `glueType`) and the tests compare against. Plain data, so lib/ and
 * functions/ may import it (DuckDB itself is local-only).
 *
 * Types: BIGINT for quantities (inputs are at most 10^9, a resulting on_hand may
 * grow past 2^31); DECIMAL(19,4) for money, exactly the domain the API accepts
 * (functions/platform/money.ts: 15 digits before the point, 4 after), so sums are
 * exact in DuckDB and Athena alike; TIMESTAMP without time zone, holding UTC.
 * `NOT NULL` is enforced locally; Glue has no NOT NULL. The partition columns
 * (`LAKE_PARTITION_COLUMNS`) are in the path, not in the files.
 */
export type LakeColumn = readonly [name: string, type: string];

/**
 * A ledger row as the `movements` columns hold it: each delta and resulting quantity
 * its own column, an absent optional field null. The one flattening: the stream
 * processor's MovementRecorded detail is this plus the event's own fields, and the
 * local lake stores a ledger row appended directly (bin/local/lake.ts) through it too.
 * `type` is any string here: the detail's schema is what checks it.
 */
export const movementColumns = (row: Omit<Movement, 'type'> & { type: string; tenant_id: string }) => ({
  tenant_id: row.tenant_id,
  movement_id: row.movement_id,
  sku_id: row.sku_id,
  warehouse_id: row.warehouse_id,
  type: row.type,
  delta_on_hand: row.deltas.on_hand,
  delta_reserved: row.deltas.reserved,
  delta_available: row.deltas.available,
  delta_incoming: row.deltas.incoming,
  resulting_on_hand: row.resulting?.on_hand ?? null,
  resulting_reserved: row.resulting?.reserved ?? null,
  resulting_available: row.resulting?.available ?? null,
  resulting_incoming: row.resulting?.incoming ?? null,
  version: row.version ?? null,
  unit_cost: row.unit_cost ?? null,
  currency: row.currency ?? null,
  reason: row.reason ?? null,
  reference: row.reference ?? null,
  note: row.note ?? null,
  correlation_id: row.correlation_id ?? null,
  actor: row.actor,
  created_at: row.created_at,
});

/** One ledger row (functions/events/model.ts movementRecordedDetail), table `movements`. */
export const MOVEMENT_COLUMNS = [
  ['movement_id', 'VARCHAR NOT NULL'],
  ['sku_id', 'VARCHAR NOT NULL'],
  ['warehouse_id', 'VARCHAR NOT NULL'],
  ['type', 'VARCHAR NOT NULL'],
  ['delta_on_hand', 'BIGINT NOT NULL'],
  ['delta_reserved', 'BIGINT NOT NULL'],
  ['delta_available', 'BIGINT NOT NULL'],
  ['delta_incoming', 'BIGINT NOT NULL'],
  ['resulting_on_hand', 'BIGINT'],
  ['resulting_reserved', 'BIGINT'],
  ['resulting_available', 'BIGINT'],
  ['resulting_incoming', 'BIGINT'],
  ['version', 'BIGINT'],
  ['unit_cost', 'DECIMAL(19,4)'],
  ['currency', 'VARCHAR'],
  ['reason', 'VARCHAR'],
  ['reference', 'VARCHAR'],
  ['note', 'VARCHAR'],
  ['correlation_id', 'VARCHAR'],
  ['actor', 'VARCHAR NOT NULL'],
  ['created_at', 'TIMESTAMP NOT NULL'],
] as const satisfies readonly LakeColumn[];

/**
 * One outcome of one order line at one warehouse (functions/events/model.ts
 * orderLineRecordedDetail), table `orders`: a row per leg whose units this change
 * of the order held, allocated, shipped or released. `record_id` is the row's
 * identity (`<order_id>:v<order version>:<line_index>:<warehouse_id>`), what
 * readers dedupe on.
 */
export const ORDER_LINE_COLUMNS = [
  ['record_id', 'VARCHAR NOT NULL'],
  ['order_id', 'VARCHAR NOT NULL'],
  ['line_index', 'BIGINT NOT NULL'],
  ['sku_id', 'VARCHAR NOT NULL'],
  ['warehouse_id', 'VARCHAR NOT NULL'],
  ['outcome', 'VARCHAR NOT NULL'],
  ['quantity', 'BIGINT NOT NULL'],
  ['line_quantity', 'BIGINT NOT NULL'],
  ['reason', 'VARCHAR'],
  ['order_status', 'VARCHAR NOT NULL'],
  ['order_version', 'BIGINT NOT NULL'],
  ['correlation_id', 'VARCHAR'],
  ['created_at', 'TIMESTAMP NOT NULL'],
] as const satisfies readonly LakeColumn[];

/**
 * The daily rollup of the ledger, table `level_days` (issue 9, "Reports at scale"): one row
 * per closed tenant-day (`dt`, from the path) and SKU, warehouse and movement type, each
 * movement counted once (deduplicated on `movement_id` at close). Units are on_hand units
 * as the reports count them: in = the positive deltas, out = the negative ones as a positive
 * number, net = their sum; `movements` counts rows, unit-less ones included; `last_sale_at`
 * is the newest sale or shipment row with a negative on_hand delta, NULL when none;
 * `units_returned` the units that came back from customers (adjustment rows with reason
 * `returned` and a positive delta), which demand history nets out of sales.
 * Not fed by events: the daily close writes it (functions/reports/close.ts).
 */
export const LEVEL_DAY_COLUMNS = [
  ['sku_id', 'VARCHAR NOT NULL'],
  ['warehouse_id', 'VARCHAR NOT NULL'],
  ['type', 'VARCHAR NOT NULL'],
  ['units_in', 'BIGINT NOT NULL'],
  ['units_out', 'BIGINT NOT NULL'],
  ['net', 'BIGINT NOT NULL'],
  ['movements', 'BIGINT NOT NULL'],
  ['last_sale_at', 'TIMESTAMP'],
  ['units_returned', 'BIGINT NOT NULL'],
] as const satisfies readonly LakeColumn[];

/**
 * Every level's stock at the end of a closed day, table `level_balances` (issue 9, "Reports at
 * scale"): one row per level the ledger touched up to that day (`dt`, from the path), for every
 * closed day, so a report's opening on_hand is one day's rows rather than a sum over all history.
 * `on_hand` is the sum of every on_hand delta up to the day's end (each movement once);
 * `last_sale_at` the newest sale or shipment row with a negative delta up to then, NULL when none.
 * Written by the daily close with level_days (functions/reports/close.ts).
 */
export const LEVEL_BALANCE_COLUMNS = [
  ['sku_id', 'VARCHAR NOT NULL'],
  ['warehouse_id', 'VARCHAR NOT NULL'],
  ['on_hand', 'BIGINT NOT NULL'],
  ['last_sale_at', 'TIMESTAMP'],
] as const satisfies readonly LakeColumn[];

/** The partition columns every lake table's path carries, and their types when read back. */
export const LAKE_PARTITION_COLUMNS = [
  ['tenant_id', 'VARCHAR'],
  ['dt', 'DATE'],
] as const satisfies readonly LakeColumn[];

/** A DuckDB column type as Glue (Hive) spells it: VARCHAR `string`, BIGINT `bigint`, DECIMAL(p,s) `decimal(p,s)`, TIMESTAMP `timestamp`, DATE `date`. */
export const glueType = (duckdb: string): string => {
  const type = duckdb.replace(/ NOT NULL$/, '');
  if (type === 'VARCHAR') return 'string';
  if (type === 'BIGINT') return 'bigint';
  if (type === 'TIMESTAMP') return 'timestamp';
  if (type === 'DATE') return 'date';
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(type);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  throw new Error(`no Glue type for ${duckdb}`);
};

/** The Glue columns of a table, in file order. */
export const glueColumns = (columns: readonly LakeColumn[]): { name: string; type: string }[] =>
  columns.map(([name, type]) => ({ name, type: glueType(type) }));
