import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import type { Db } from '../platform/db';
import { AppError, notFound } from '../platform/errors';
import { commitIdempotent, commitOptionsOf } from '../platform/idempotency';
import { newId } from '../platform/ids';
import { keys, type Key } from '../platform/keys';
import type { RequestContext } from '../platform/http';
import { backoff, type TransactItem } from '../platform/transactions';
import type { Product, Sku, Warehouse } from './model';
import type {
  createProductBody,
  createSkuBody,
  createWarehouseBody,
  patchSkuBody,
  patchWarehouseBody,
} from './schemas';
import { existsCheck, getItem, getProduct, getSku, getWarehouse, queryPage, type Page } from './store';

export interface CatalogDeps {
  db: Db;
  ctx: RequestContext;
}

const put = (db: Db, tenantId: string, key: Key, entity: string, value: object, extra: Record<string, string> = {}): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: { ...key, ...extra, entity, tenant_id: tenantId, ...value },
    ConditionExpression: 'attribute_not_exists(pk)',
  },
});

const alreadyExists = (what: string, id: string): AppError =>
  new AppError('ALREADY_EXISTS', `${what} '${id}' already exists`, { [`${what}_id`]: id });

/** Drops undefined fields so stored items and responses carry only what was given. */
const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/** POST /api/products */
export const createProduct = ({ db, ctx }: CatalogDeps, input: z.output<typeof createProductBody>): Promise<Product> => {
  const tenantId = ctx.caller.tenantId;
  const productId = input.product_id ?? newId();
  return commitIdempotent(db, commitOptionsOf(ctx), async () => {
    const now = ctx.now().toISOString();
    const product: Product = defined({ ...input, product_id: productId, created_at: now, updated_at: now });
    return {
      items: [put(db, tenantId, keys.product(tenantId, productId), 'product', product)],
      result: product,
      explainCancellation: () => alreadyExists('product', productId),
    };
  });
};

export const readProduct = async ({ db, ctx }: CatalogDeps, productId: string): Promise<Product> =>
  (await getProduct(db, ctx.caller.tenantId, productId)) ?? throwNotFound('product', productId);

const throwNotFound = (what: string, id: string): never => {
  throw notFound(what, id);
};

/** POST /api/skus: the product must exist in the same transaction that creates the SKU. */
export const createSku = ({ db, ctx }: CatalogDeps, input: z.output<typeof createSkuBody>): Promise<Sku> => {
  const tenantId = ctx.caller.tenantId;
  const skuId = input.sku_id ?? newId();
  return commitIdempotent(db, commitOptionsOf(ctx), async () => {
    const now = ctx.now().toISOString();
    const sku: Sku = defined({ ...input, sku_id: skuId, version: 1, created_at: now, updated_at: now });
    return {
      items: [
        existsCheck(db, keys.product(tenantId, input.product_id)),
        put(db, tenantId, keys.sku(tenantId, skuId), 'sku', sku, {
          gsi1pk: keys.skusOfProductIndex(tenantId, input.product_id),
          gsi1sk: skuId,
        }),
        // The supplier replenishment orders from must exist (suppliers are never deleted).
        ...(input.supplier_id === undefined ? [] : [existsCheck(db, keys.supplier(tenantId, input.supplier_id))]),
      ],
      result: sku,
      explainCancellation: (cancelled) =>
        cancelled.failedAt(0)
          ? notFound('product', input.product_id)
          : cancelled.failedAt(1)
            ? alreadyExists('sku', skuId)
            : input.supplier_id !== undefined && cancelled.failedAt(2)
              ? notFound('supplier', input.supplier_id)
              : undefined,
    };
  });
};

export const readSku = async ({ db, ctx }: CatalogDeps, skuId: string): Promise<Sku> =>
  (await getSku(db, ctx.caller.tenantId, skuId)) ?? throwNotFound('sku', skuId);

/**
 * Read-modify-write guarded by `version`: a PATCH never overwrites a change
 * it did not see. `null` clears an optional field.
 */
const patchEntity = async <T extends { version: number; updated_at: string }>(
  db: Db,
  read: () => Promise<T | undefined>,
  missing: () => never,
  key: Key,
  apply: (current: T) => T,
  extra: (next: T) => Record<string, unknown> = () => ({}),
): Promise<T> => {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = (await read()) ?? missing();
    const next = apply(current);
    try {
      await db.client.send(
        new PutCommand({
          TableName: db.table,
          Item: { ...key, ...extra(next), ...next },
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': current.version },
        }),
      );
      return next;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      await backoff(attempt);
    }
  }
  throw new AppError('CONFLICT', 'the record kept changing under this request; retry it');
};

const merge = <T extends object>(current: T, patch: Record<string, unknown>, now: string): T => {
  const next = { ...current } as Record<string, unknown>;
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  next.version = (current as { version: number }).version + 1;
  next.updated_at = now;
  return next as T;
};

/** PATCH /api/skus/{sku_id} */
export const patchSku = async ({ db, ctx }: CatalogDeps, skuId: string, patch: z.output<typeof patchSkuBody>): Promise<Sku> => {
  const tenantId = ctx.caller.tenantId;
  // A supplier can never be deleted, so reading it before the write suffices.
  if (typeof patch.supplier_id === 'string' && !(await getItem(db, keys.supplier(tenantId, patch.supplier_id)))) throw notFound('supplier', patch.supplier_id);
  return patchEntity<Sku>(
    db,
    () => getSku(db, tenantId, skuId),
    () => throwNotFound('sku', skuId),
    keys.sku(tenantId, skuId),
    (current) => {
      const next = merge(current, patch, ctx.now().toISOString());
      if ((next.unit_cost !== undefined || next.price !== undefined) && next.currency === undefined) {
        throw new AppError('VALIDATION_FAILED', 'The request is invalid: see details for each failing field', {
          fields: [{ in: 'body', path: 'currency', message: 'is required when the SKU has a unit_cost or price' }],
        });
      }
      return next;
    },
    (next) => ({
      entity: 'sku',
      tenant_id: tenantId,
      gsi1pk: keys.skusOfProductIndex(tenantId, next.product_id),
      gsi1sk: next.sku_id,
    }),
  );
};

/** GET /api/skus: every SKU of the tenant, or of one product. */
export const listSkus = async (
  { db, ctx }: CatalogDeps,
  query: { product_id?: string; cursor?: string; limit?: number },
): Promise<{ skus: Sku[]; next_cursor: string | null }> => {
  const tenantId = ctx.caller.tenantId;
  const page: Page<Sku> = query.product_id
    ? await queryPage<Sku>(db, { index: 'gsi1', partition: keys.skusOfProductIndex(tenantId, query.product_id), cursor: query.cursor, limit: query.limit })
    : await queryPage<Sku>(db, { partition: keys.sku(tenantId, '').pk, cursor: query.cursor, limit: query.limit });
  return { skus: page.items, next_cursor: page.next_cursor };
};

/** POST /api/warehouses */
export const createWarehouse = (
  { db, ctx }: CatalogDeps,
  input: z.output<typeof createWarehouseBody>,
): Promise<Warehouse> => {
  const tenantId = ctx.caller.tenantId;
  const warehouseId = input.warehouse_id ?? newId();
  return commitIdempotent(db, commitOptionsOf(ctx), async () => {
    const now = ctx.now().toISOString();
    const warehouse: Warehouse = defined({ ...input, warehouse_id: warehouseId, version: 1, created_at: now, updated_at: now });
    return {
      items: [put(db, tenantId, keys.warehouse(tenantId, warehouseId), 'warehouse', warehouse)],
      result: warehouse,
      explainCancellation: () => alreadyExists('warehouse', warehouseId),
    };
  });
};

/** PATCH /api/warehouses/{warehouse_id} */
export const patchWarehouse = (
  { db, ctx }: CatalogDeps,
  warehouseId: string,
  patch: z.output<typeof patchWarehouseBody>,
): Promise<Warehouse> => {
  const tenantId = ctx.caller.tenantId;
  return patchEntity<Warehouse>(
    db,
    () => getWarehouse(db, tenantId, warehouseId),
    () => throwNotFound('warehouse', warehouseId),
    keys.warehouse(tenantId, warehouseId),
    (current) => merge(current, patch, ctx.now().toISOString()),
    () => ({ entity: 'warehouse', tenant_id: tenantId }),
  );
};

/** GET /api/warehouses */
export const listWarehouses = async (
  { db, ctx }: CatalogDeps,
  query: { cursor?: string; limit?: number },
): Promise<{ warehouses: Warehouse[]; next_cursor: string | null }> => {
  const page = await queryPage<Warehouse>(db, { partition: keys.warehouse(ctx.caller.tenantId, '').pk, cursor: query.cursor, limit: query.limit });
  return { warehouses: page.items, next_cursor: page.next_cursor };
};
