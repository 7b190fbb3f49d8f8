import { CORRELATION_ATTRIBUTE } from './log';
import { BatchGetCommand, BatchWriteCommand, GetCommand, QueryCommand, TransactGetCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import type { Db } from './db';
import type { IndexKey, Key } from './keys';
import { cursorKeyAttributes, decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, queryDigest, type IndexName, type SortRange } from './pagination';
import { mapBounded } from './pool';
import { CONTENDED_WRITE, RetriesExhausted, retrying, THROTTLED_BATCH } from './retry';
import { errorName, unavailable } from './errors';
import { TABLE } from './table';
import { compileFilter, type Condition, type StoredItem } from './writes';
import { noteRead, noteWritten } from './audit-scope';

/**
 * The storage layer every context reads through: item reads, one paged
 * query reader (with filters, index reads and "read until the page is
 * full"), batch reads and writes with their unprocessed-part retries. Stored
 * items are decoded where they are read, never cast.
 */
export type { StoredItem };

/** Turns a stored item into the domain's type, or throws StoredItemInvalid. */
export type Decoder<T> = (item: StoredItem) => T;

/** Attributes that exist for storage only and never leave this layer. */
const INTERNAL = new Set<string>([TABLE.partitionKey, TABLE.sortKey, TABLE.gsi1.partitionKey, TABLE.gsi1.sortKey, 'entity', 'tenant_id', TABLE.ttlAttribute, CORRELATION_ATTRIBUTE]);

const withoutStorageAttributes = (item: StoredItem): StoredItem =>
  Object.fromEntries(Object.entries(item).filter(([name]) => !INTERNAL.has(name)));

/** A stored item that does not have the shape its reader expects: a bug or a bad migration, never the caller's fault. */
export class StoredItemInvalid extends Error {
  constructor(what: string, item: StoredItem, issues: string) {
    super(`stored ${what} (${String(item[TABLE.partitionKey])} / ${String(item[TABLE.sortKey])}) is malformed: ${issues}`);
    this.name = 'StoredItemInvalid';
  }
}

/**
 * A decoder from a zod schema, applied to the item without its storage
 * attributes. The schema describes the fields the domain relies on; fields it
 * does not name pass through (`loose`), as they did when they were written.
 */
export const decodeWith =
  <S extends z.ZodType>(what: string, schema: S): Decoder<z.output<S>> =>
  (item) => {
    const parsed = schema.safeParse(withoutStorageAttributes(item));
    if (parsed.success) return parsed.data;
    throw new StoredItemInvalid(what, item, parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; '));
  };

export const getItem = async <T>(db: Db, key: Key, decode: Decoder<T>): Promise<T | undefined> => {
  const out = await db.client.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  // What a request reads is what its writes change it from (the audit record's "before").
  noteRead([out.Item]);
  return out.Item ? decode(out.Item) : undefined;
};

/**
 * Items read as of one instant (TransactGetItems, at most 100): for an entity
 * kept in several items whose sum is what it is (a split stock level), where
 * separate reads could each see a different moment. In the keys' order,
 * undefined where absent. A read that meets a transaction in flight is
 * cancelled by DynamoDB and tried again.
 */
export const transactGet = async (db: Db, keysToRead: readonly Key[]): Promise<(StoredItem | undefined)[]> => {
  try {
    const items = await retrying<(StoredItem | undefined)[], undefined>(CONTENDED_WRITE, async () => {
      try {
        const out = await db.client.send(new TransactGetCommand({ TransactItems: keysToRead.map((key) => ({ Get: { TableName: db.table, Key: { ...key } } })) }));
        return { done: (out.Responses ?? []).map((r) => r.Item) };
      } catch (error) {
        if (errorName(error) === 'TransactionCanceledException') return { retry: undefined };
        throw error;
      }
    });
    noteRead(items);
    return items;
  } catch (error) {
    if (error instanceof RetriesExhausted) throw unavailable();
    throw error;
  }
};

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type { SortRange };

export interface QueryRequest {
  /** Read gsi1 instead of the table (eventually consistent). */
  index?: IndexName;
  partition: string;
  sort?: SortRange;
  newestFirst?: boolean;
  cursor?: string;
  limit?: number;
  /** Only items that match (DynamoDB applies Limit before the filter). */
  filter?: Condition;
  /**
   * With a filter: how many reads one page may take to fill up before it
   * returns what it has (with a cursor). 1 (the default) returns a short page.
   */
  maxReads?: number;
}

/**
 * What a cursor of this query is bound to: everything that decides which items
 * it reads and in what order, but not the page size (a client may change
 * `limit` between pages).
 */
const digestOf = (request: QueryRequest): string =>
  queryDigest({
    index: request.index ?? null,
    partition: request.partition,
    sort: request.sort ?? null,
    filter: request.filter ?? null,
    newestFirst: request.newestFirst === true,
  });

/** One page of a query; a cursor is followed only if it continues this very query (pagination.ts). */
export const queryPage = async <T>(db: Db, request: QueryRequest, decode: Decoder<T>): Promise<Page<T>> => {
  const attributes = cursorKeyAttributes(request.index);
  const pkName = attributes.partition;
  const skName = attributes.sort;
  const digest = digestOf(request);
  const names: Record<string, string> = { '#pk': pkName };
  const values: Record<string, unknown> = { ':pk': request.partition };
  let keyCondition = '#pk = :pk';
  if (request.sort) {
    names['#sk'] = skName;
    if ('between' in request.sort) {
      [values[':lo'], values[':hi']] = request.sort.between;
      keyCondition += ' AND #sk BETWEEN :lo AND :hi';
    } else {
      values[':below'] = request.sort.below;
      keyCondition += ' AND #sk < :below';
    }
  }
  const filter = request.filter && compileFilter(request.filter);
  const limit = request.limit ?? DEFAULT_PAGE_SIZE;
  const input: QueryCommandInput = {
    TableName: db.table,
    IndexName: request.index,
    KeyConditionExpression: keyCondition,
    ExpressionAttributeNames: { ...names, ...filter?.names },
    ExpressionAttributeValues: { ...values, ...filter?.values },
    ...(filter ? { FilterExpression: filter.expression } : {}),
    ScanIndexForward: !request.newestFirst,
    Limit: limit,
    // Strong reads only exist on the base table; index reads are eventually consistent.
    ConsistentRead: request.index ? undefined : true,
  };
  const found: StoredItem[] = [];
  let start: Record<string, unknown> | undefined = decodeCursor(request.cursor, { index: request.index, partition: request.partition, sort: request.sort, digest });
  for (let reads = 0; reads < (request.maxReads ?? 1); reads++) {
    const out = await db.client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    noteRead(out.Items ?? []);
    for (const [index, item] of (out.Items ?? []).entries()) {
      found.push(item);
      if (found.length === limit && index < (out.Items ?? []).length - 1) {
        // The page filled in the middle of a read: resume after its last item.
        const resume = Object.fromEntries([pkName, skName, ...attributes.table].map((a) => [a, item[a]]));
        return { items: found.map(decode), next_cursor: encodeCursor(resume, digest) };
      }
    }
    start = out.LastEvaluatedKey;
    if (!start || found.length === limit) break;
  }
  return { items: found.map(decode), next_cursor: encodeCursor(start, digest) };
};

/** Every page of a query (partitions bounded by the domain: one SKU's levels, a tenant's warehouses, a window of ledger rows). */
export const queryAll = async <T>(db: Db, request: Omit<QueryRequest, 'cursor' | 'limit' | 'maxReads'>, decode: Decoder<T>): Promise<T[]> => {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await queryPage(db, { ...request, cursor, limit: 1000 }, decode);
    all.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return all;
};

/** BatchGetItem's and BatchWriteItem's caps per call. */
const BATCH_GET_MAX = 100;
const BATCH_WRITE_MAX = 25;

const chunked = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/**
 * Strongly consistent reads of many keys (any order; absent keys are simply
 * missing), retrying what DynamoDB leaves unprocessed.
 */
export const batchGet = async <T>(db: Db, keysToRead: readonly Key[], decode: Decoder<T>, options: { projection?: string[] } = {}): Promise<T[]> => {
  const found: T[] = [];
  const projection = options.projection?.length
    ? {
        ProjectionExpression: options.projection.map((_, i) => `#p${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(options.projection.map((a, i) => [`#p${i}`, a])),
      }
    : {};
  // The chunks of a large read (an order's SKUs x warehouses) go out side by side.
  await mapBounded(chunked(keysToRead, BATCH_GET_MAX), BATCH_CONCURRENCY, (chunk) =>
    untilProcessed<Record<string, unknown>[]>(async (unprocessed) => {
      const out = await db.client.send(
        new BatchGetCommand({ RequestItems: { [db.table]: { Keys: unprocessed ?? chunk.map((key) => ({ ...key })), ConsistentRead: true, ...projection } } }),
      );
      noteRead(out.Responses?.[db.table] ?? []);
      found.push(...(out.Responses?.[db.table] ?? []).map(decode));
      const left = out.UnprocessedKeys?.[db.table]?.Keys ?? [];
      return left.length ? { retry: left } : { done: undefined };
    }),
  );
  return found;
};

/** How many chunks of one batch read are in flight at once. */
const BATCH_CONCURRENCY = 4;

/**
 * A batch call retried until DynamoDB has processed every part. Parts left
 * unprocessed after the policy's attempts mean the table is throttling: the
 * database is unavailable (503, retry later), not data that kept changing.
 */
const untilProcessed = async <L>(call: (unprocessed: L | undefined) => Promise<{ retry: L } | { done: undefined }>): Promise<void> => {
  try {
    await retrying<void, L>(THROTTLED_BATCH, (_attempt, unprocessed) => call(unprocessed));
  } catch (error) {
    if (error instanceof RetriesExhausted) throw unavailable();
    throw error;
  }
};

/** Unconditional deletes of many items by key, retrying what DynamoDB leaves unprocessed. */
export const batchDelete = async (db: Db, keysToDelete: readonly Key[]): Promise<void> => {
  for (const chunk of chunked(keysToDelete, BATCH_WRITE_MAX)) {
    await untilProcessed<NonNullable<NonNullable<BatchWriteCommand['input']['RequestItems']>[string]>>(async (unprocessed) => {
      const out = await db.client.send(
        new BatchWriteCommand({ RequestItems: { [db.table]: unprocessed ?? chunk.map((key) => ({ DeleteRequest: { Key: { pk: key.pk, sk: key.sk } } })) } }),
      );
      if (!unprocessed) noteWritten(chunk.map((key) => ({ op: 'delete', key: { pk: key.pk, sk: key.sk } })));
      const left = out.UnprocessedItems?.[db.table] ?? [];
      return left.length ? { retry: left } : { done: undefined };
    });
  }
};

/** Unconditional puts of many items, retrying what DynamoDB leaves unprocessed. */
export const batchPut = async (db: Db, items: readonly (StoredItem & Key & Partial<IndexKey>)[]): Promise<void> => {
  for (const chunk of chunked(items, BATCH_WRITE_MAX)) {
    await untilProcessed<NonNullable<NonNullable<BatchWriteCommand['input']['RequestItems']>[string]>>(async (unprocessed) => {
      const out = await db.client.send(
        new BatchWriteCommand({ RequestItems: { [db.table]: unprocessed ?? chunk.map((Item) => ({ PutRequest: { Item } })) } }),
      );
      if (!unprocessed) noteWritten(chunk.map(({ pk, sk, ...value }) => ({ op: 'put', key: { pk, sk }, entity: typeof value.entity === 'string' ? value.entity : undefined, value })));
      const left = out.UnprocessedItems?.[db.table] ?? [];
      return left.length ? { retry: left } : { done: undefined };
    });
  }
};
