import { createHash } from 'node:crypto';
import * as z from 'zod';
import { AppError } from './errors';
import { tenantOfPartition } from './keys';
import { TABLE } from './table';
import { canonicalJson } from './values';

/**
 * Opaque cursors: base64url JSON of the DynamoDB LastEvaluatedKey (`k`) and
 * a digest of the query it continues (`q`). DynamoDB answers a malformed
 * ExclusiveStartKey, or one outside the query's key condition, with a
 * ValidationException, so a cursor is checked here before it is followed:
 * - its key has exactly the key attributes of the index read (table: pk, sk;
 *   an index: its own pair and the table's), each a non-empty string within
 *   DynamoDB's key size limits;
 * - its partition key is exactly the partition read (not merely the same
 *   tenant), an index cursor's table key belongs to the same tenant, and its
 *   sort key lies inside the query's sort range;
 * - its digest is the query's: index, partition, sort range, filter and
 *   direction (not the page size), so a cursor reused with other filters is
 *   refused instead of resuming somewhere the query cannot reach.
 * Every refusal is 400 VALIDATION_FAILED on `query.cursor`.
 */

export type IndexName = typeof TABLE.gsi1.name;

/** A query's sort-key condition: BETWEEN (both ends inclusive), or strictly below a bound. */
export type SortRange = { between: [string, string] } | { below: string };

/** What a cursor must match: the query it continues. */
export interface CursorScope {
  index?: IndexName;
  partition: string;
  sort?: SortRange;
  /** From queryDigest: the rest of the query. */
  digest: string;
}

/** The key attributes of a read of `index` (or of the table): the ones its LastEvaluatedKey holds. */
export const cursorKeyAttributes = (index: IndexName | undefined): { partition: string; sort: string; table: string[] } =>
  index === undefined
    ? { partition: TABLE.partitionKey, sort: TABLE.sortKey, table: [] }
    : { partition: TABLE[index].partitionKey, sort: TABLE[index].sortKey, table: [TABLE.partitionKey, TABLE.sortKey] };

/** DynamoDB's size limits of key attributes, in UTF-8 bytes. */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;

const keyValue = (maxBytes: number) =>
  z
    .string()
    .min(1)
    .refine((value) => Buffer.byteLength(value, 'utf8') <= maxBytes);

const keySchemaOf = (index: IndexName | undefined) => {
  const names = cursorKeyAttributes(index);
  const shape: Record<string, z.ZodType<string>> = {
    [names.partition]: keyValue(MAX_PARTITION_KEY_BYTES),
    [names.sort]: keyValue(MAX_SORT_KEY_BYTES),
  };
  if (names.table.length) {
    shape[TABLE.partitionKey] = keyValue(MAX_PARTITION_KEY_BYTES);
    shape[TABLE.sortKey] = keyValue(MAX_SORT_KEY_BYTES);
  }
  return z.strictObject(shape);
};
const KEY_SCHEMAS = { table: keySchemaOf(undefined), [TABLE.gsi1.name]: keySchemaOf(TABLE.gsi1.name) };

const envelope = z.strictObject({ k: z.record(z.string(), z.unknown()), q: z.string() });

/** A digest of a query's shape (canonical JSON, so key order does not matter); 128 bits are plenty to tell queries apart. */
export const queryDigest = (query: unknown): string =>
  createHash('sha256').update(canonicalJson(query)).digest().subarray(0, 16).toString('base64url');

export const encodeCursor = (key: Record<string, unknown> | undefined, digest: string): string | null =>
  key ? Buffer.from(JSON.stringify({ k: key, q: digest }), 'utf8').toString('base64url') : null;

/** DynamoDB compares string keys by their UTF-8 bytes, which is not JavaScript's UTF-16 order. */
const compareBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const insideRange = (sortKey: string, range: SortRange | undefined): boolean => {
  if (range === undefined) return true;
  if ('below' in range) return compareBytes(sortKey, range.below) < 0;
  const [low, high] = range.between;
  return compareBytes(sortKey, low) >= 0 && compareBytes(sortKey, high) <= 0;
};

const refused = (message: string, why: string): AppError =>
  new AppError('VALIDATION_FAILED', message, { fields: [{ in: 'query', path: 'cursor', message: why }] });

const notOurs = (): AppError => refused('the cursor is not one this list returned', 'unknown or tampered cursor');

const otherQuery = (): AppError =>
  refused(
    'the cursor was returned by another query (other filters, order or list): repeat that query, or start again without a cursor',
    'cursor of another query',
  );

/** The base64url JSON of a cursor in the shape `schema` says, or the 400 for one this list never returned. */
const openCursor = <T>(cursor: string, schema: z.ZodType<T>): T => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw notOurs();
  }
  const shape = schema.safeParse(parsed);
  if (!shape.success) throw notOurs();
  return shape.data;
};

/** The ExclusiveStartKey a cursor stands for, once it is known to continue exactly this query (400 otherwise). */
export const decodeCursor = (cursor: string | undefined, scope: CursorScope): Record<string, string> | undefined => {
  if (cursor === undefined) return undefined;
  const { k, q } = openCursor(cursor, envelope);
  if (q !== scope.digest) throw otherQuery();
  // The digest is no signature: the key itself must still be one this query can resume from.
  const parsedKey = KEY_SCHEMAS[scope.index ?? 'table'].safeParse(k);
  if (!parsedKey.success) throw notOurs();
  const key = parsedKey.data;
  const names = cursorKeyAttributes(scope.index);
  if (key[names.partition] !== scope.partition) throw notOurs();
  const tenant = tenantOfPartition(scope.partition);
  // An index cursor also carries the item's table key: a tenant's read never positions by another tenant's item.
  if (names.table.length && tenant !== undefined && tenantOfPartition(key[TABLE.partitionKey] ?? '') !== tenant) throw notOurs();
  if (!insideRange(key[names.sort] ?? '', scope.sort)) throw notOurs();
  return key;
};

/**
 * A list made by reading another query further (e.g. each SKU of a page of SKUs, filtered): its cursor is
 * that query's own cursor (`c`), bound to the list's query (`q`, a queryDigest of everything the list
 * filters on that the inner query does not). Unwrapping checks the binding (another filter, or another
 * list's cursor, is 400 on query.cursor as above); the inner cursor is checked again by the query it
 * continues when it is followed (its partition, key and digest), so nothing in `c` is trusted.
 */
const wrapped = z.strictObject({ c: z.string().min(1), q: z.string() });

export const wrapCursor = (inner: string | null, digest: string): string | null =>
  inner === null ? null : Buffer.from(JSON.stringify({ c: inner, q: digest }), 'utf8').toString('base64url');

/** The inner query's cursor a wrapped cursor carries, once it is known to continue this list's query (400 otherwise). */
export const unwrapCursor = (cursor: string | undefined, digest: string): string | undefined => {
  if (cursor === undefined) return undefined;
  const { c, q } = openCursor(cursor, wrapped);
  if (q !== digest) throw otherQuery();
  return c;
};

export const DEFAULT_PAGE_SIZE = 50;
