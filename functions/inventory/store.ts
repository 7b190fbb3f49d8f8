import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../platform/db';
import { notFound } from '../platform/errors';
import { keys, type Key } from '../platform/keys';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor } from '../platform/pagination';
import { TABLE } from '../platform/table';
import type { TransactionCancelled, TransactItem } from '../platform/transactions';
import type { Movement, Product, Quantities, Sku, StockLevel, Warehouse } from './model';

/** Attributes that exist for storage only and never leave this module. */
const INTERNAL = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'entity', 'tenant_id', TABLE.ttlAttribute]);

export const fromItem = <T>(item: Record<string, unknown>): T =>
  Object.fromEntries(Object.entries(item).filter(([name]) => !INTERNAL.has(name))) as T;

export const getItem = async <T>(db: Db, key: Key): Promise<T | undefined> => {
  const out = await db.client.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  return out.Item ? fromItem<T>(out.Item) : undefined;
};

export const getProduct = (db: Db, tenantId: string, productId: string) =>
  getItem<Product>(db, keys.product(tenantId, productId));
export const getSku = (db: Db, tenantId: string, skuId: string) => getItem<Sku>(db, keys.sku(tenantId, skuId));
export const getWarehouse = (db: Db, tenantId: string, warehouseId: string) =>
  getItem<Warehouse>(db, keys.warehouse(tenantId, warehouseId));
export const getLevel = (db: Db, tenantId: string, skuId: string, warehouseId: string) =>
  getItem<StockLevel>(db, keys.stockLevel(tenantId, skuId, warehouseId));

export const requireSku = async (db: Db, tenantId: string, skuId: string): Promise<Sku> => {
  const sku = await getSku(db, tenantId, skuId);
  if (!sku) throw notFound('sku', skuId);
  return sku;
};

export const requireWarehouse = async (db: Db, tenantId: string, warehouseId: string): Promise<Warehouse> => {
  const warehouse = await getWarehouse(db, tenantId, warehouseId);
  if (!warehouse) throw notFound('warehouse', warehouseId);
  return warehouse;
};

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** One page of a query on the table or on gsi1; the cursor is checked against the partition read. */
export const queryPage = async <T>(
  db: Db,
  request: {
    index?: typeof TABLE.gsi1.name;
    partition: string;
    sortBetween?: [string, string];
    newestFirst?: boolean;
    cursor?: string;
    limit?: number;
  },
): Promise<Page<T>> => {
  const pkName = request.index ? TABLE.gsi1.partitionKey : TABLE.partitionKey;
  const skName = request.index ? TABLE.gsi1.sortKey : TABLE.sortKey;
  const input: QueryCommandInput = {
    TableName: db.table,
    IndexName: request.index,
    KeyConditionExpression: request.sortBetween ? '#pk = :pk AND #sk BETWEEN :lo AND :hi' : '#pk = :pk',
    ExpressionAttributeNames: request.sortBetween ? { '#pk': pkName, '#sk': skName } : { '#pk': pkName },
    ExpressionAttributeValues: request.sortBetween
      ? { ':pk': request.partition, ':lo': request.sortBetween[0], ':hi': request.sortBetween[1] }
      : { ':pk': request.partition },
    ScanIndexForward: !request.newestFirst,
    Limit: request.limit ?? DEFAULT_PAGE_SIZE,
    ExclusiveStartKey: decodeCursor(request.cursor, { attribute: pkName, value: request.partition }),
    // Strong reads only exist on the base table; index reads are eventually consistent.
    ConsistentRead: request.index ? undefined : true,
  };
  const out = await db.client.send(new QueryCommand(input));
  return { items: (out.Items ?? []).map((item) => fromItem<T>(item)), next_cursor: encodeCursor(out.LastEvaluatedKey) };
};

/** Reads every page of a partition (bounded by what one SKU can have: one level per warehouse). */
export const queryAll = async <T>(db: Db, partition: string): Promise<T[]> => {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await queryPage<T>(db, { partition, cursor, limit: 1000 });
    all.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return all;
};

/**
 * Every item of one gsi1 partition, all pages, as stored (storage attributes
 * included: system readers such as the hold sweeper need `tenant_id`).
 * `sortBelow` keeps only sort keys lower than it.
 */
export const queryIndexAll = async (
  db: Db,
  request: { partition: string; sortBelow?: string },
): Promise<Record<string, unknown>[]> => {
  const all: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.client.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: TABLE.gsi1.name,
        KeyConditionExpression: request.sortBelow === undefined ? '#pk = :pk' : '#pk = :pk AND #sk < :below',
        ExpressionAttributeNames: { '#pk': TABLE.gsi1.partitionKey, ...(request.sortBelow === undefined ? {} : { '#sk': TABLE.gsi1.sortKey }) },
        ExpressionAttributeValues: { ':pk': request.partition, ...(request.sortBelow === undefined ? {} : { ':below': request.sortBelow }) },
        ExclusiveStartKey: start,
      }),
    );
    all.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return all;
};

// ---------- writes ----------

export const levelPut = (db: Db, tenantId: string, before: StockLevel, after: StockLevel): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: { ...keys.stockLevel(tenantId, after.sku_id, after.warehouse_id), entity: 'stock_level', tenant_id: tenantId, ...after },
    // Optimistic concurrency: the write lands only on the exact version this plan was computed from.
    // On failure DynamoDB returns the level as it now stands, so the retry plans without a read.
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ...(before.version === 0
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': before.version } }),
  },
});

/**
 * A reservation change as arithmetic on the level, with no read: the condition
 * is the business rule itself (enough available to reserve, enough reserved to
 * release or ship), so concurrent orders on one SKU never cancel each other;
 * DynamoDB refuses only the ones the stock cannot cover.
 */
export const levelIncrement = (
  db: Db,
  tenantId: string,
  target: { sku_id: string; warehouse_id: string },
  deltas: Quantities,
  guard: { attribute: 'available' | 'reserved'; atLeast: number },
  movementId: string,
  now: string,
): TransactItem => ({
  Update: {
    TableName: db.table,
    Key: keys.stockLevel(tenantId, target.sku_id, target.warehouse_id),
    UpdateExpression:
      'ADD on_hand :on_hand, reserved :reserved, available :available, incoming :incoming, version :one SET updated_at = :now, last_movement_id = :movement',
    ConditionExpression: '#guard >= :at_least',
    ExpressionAttributeNames: { '#guard': guard.attribute },
    ExpressionAttributeValues: {
      ':on_hand': deltas.on_hand,
      ':reserved': deltas.reserved,
      ':available': deltas.available,
      ':incoming': deltas.incoming,
      ':one': 1,
      ':now': now,
      ':movement': movementId,
      ':at_least': guard.atLeast,
    },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  },
});

export const movementPut = (db: Db, tenantId: string, movement: Movement): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: {
      ...keys.movement(tenantId, movement.sku_id, movement.movement_id),
      gsi1pk: keys.movementsOfSkuInWarehouseIndex(tenantId, movement.sku_id, movement.warehouse_id),
      gsi1sk: movement.movement_id,
      entity: 'movement',
      tenant_id: tenantId,
      ...movement,
    },
    ConditionExpression: 'attribute_not_exists(pk)',
  },
});

/** Stock levels a cancelled transaction returned (ALL_OLD), by level key: fresher than any earlier read. */
export const levelsReturnedBy = (cancelled: TransactionCancelled | undefined): StockLevel[] =>
  (cancelled?.items ?? []).flatMap((item) => (item?.entity === 'stock_level' ? [fromItem<StockLevel>(item)] : []));

export const existsCheck = (db: Db, key: Key): TransactItem => ({
  ConditionCheck: { TableName: db.table, Key: key, ConditionExpression: 'attribute_exists(pk)' },
});
