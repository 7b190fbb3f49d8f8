import type { z } from 'zod';
import type { Deps } from '../platform/context';
import { alreadyExists, keptChanging, notFound, orNotFound, validationFailed } from '../platform/errors';
import { commitIdempotent } from '../platform/idempotency';
import { newId } from '../platform/ids';
import { keys, type Key } from '../platform/keys';
import { pricedIn } from '../platform/money';
import { RARE_CONFLICT, RetriesExhausted, retrying } from '../platform/retry';
import { batchGet, getItem, queryAll, queryPage, type Decoder } from '../platform/storage';
import { TABLE } from '../platform/table';
import { definedOnly } from '../platform/values';
import { assertInScope, assertUnscoped, scopeFilter, SCOPED_LIST_READS } from '../platform/warehouse-scope';
import { checkItem, ConditionFailed, putItem, when, writeOne, type Write } from '../platform/writes';
import type { Product, Sku, Warehouse } from './model';
import type { createProductBody, createSkuBody, createWarehouseBody, patchSkuBody, patchWarehouseBody } from './schemas';
import { decodeCatalogKey, decodeProduct, decodeSku, decodeWarehouse } from './store';

/** Creates one catalogue entity; a second create of the same id is 409 ALREADY_EXISTS. */
const createEntity = (
  db: Deps['db'],
  tenantId: string,
  what: 'product' | 'sku' | 'warehouse',
  id: string,
  key: Key,
  value: object,
  index?: { gsi1pk: string; gsi1sk: string },
): Write =>
  putItem(db, {
    name: what,
    key,
    index,
    entity: what,
    tenantId,
    value,
    when: when.absent(),
    onConditionFailed: () => alreadyExists(what, id),
  });

/** Creates a product or warehouse from its input: the id chosen or a new ULID, timestamps, version where it has one. */
const createSimple = <T extends object>(deps: Deps, what: 'product' | 'warehouse', id: string, key: Key, build: (now: string) => T): Promise<T> =>
  commitIdempotent(deps, async () => {
    const entity = definedOnly(build(deps.ctx.now().toISOString()));
    return { writes: [createEntity(deps.db, deps.ctx.caller.tenantId, what, id, key, entity)], result: entity };
  });

/** POST /api/products */
export const createProduct = (deps: Deps, input: z.output<typeof createProductBody>): Promise<Product> => {
  const productId = input.product_id ?? newId();
  return createSimple<Product>(deps, 'product', productId, keys.product(deps.ctx.caller.tenantId, productId), (now) => ({ ...input, product_id: productId, created_at: now, updated_at: now }));
};

export const readProduct = (deps: Deps, productId: string): Promise<Product> =>
  orNotFound('product', productId, getItem(deps.db, keys.product(deps.ctx.caller.tenantId, productId), decodeProduct));

/** POST /api/skus: the product (and the supplier, if named) must exist in the same transaction that creates the SKU. */
export const createSku = (deps: Deps, input: z.output<typeof createSkuBody>): Promise<Sku> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  const skuId = input.sku_id ?? newId();
  return commitIdempotent(deps, async () => {
    const now = ctx.now().toISOString();
    const sku: Sku = pricedIn(definedOnly({ ...input, sku_id: skuId, version: 1, created_at: now, updated_at: now }));
    return {
      writes: [
        checkItem(db, { name: 'product exists', key: keys.product(tenantId, input.product_id), when: when.exists(), onConditionFailed: () => notFound('product', input.product_id) }),
        createEntity(db, tenantId, 'sku', skuId, keys.sku(tenantId, skuId), sku, keys.skuIndex(tenantId, input.product_id, skuId)),
        // The supplier replenishment orders from must exist (suppliers are never deleted).
        ...(input.supplier_id === undefined
          ? []
          : [checkItem(db, { name: 'supplier exists', key: keys.supplier(tenantId, input.supplier_id), when: when.exists(), onConditionFailed: () => notFound('supplier', input.supplier_id ?? '') })]),
      ],
      result: sku,
    };
  });
};

export const readSku = (deps: Deps, skuId: string): Promise<Sku> => requireSku(deps, skuId);

/**
 * Read-modify-write guarded by `version`: a PATCH never overwrites a change
 * it did not see. `null` clears an optional field.
 */
const patchEntity = async <T extends { version: number; updated_at: string }>(
  deps: Deps,
  spec: { what: 'sku' | 'warehouse'; id: string; key: Key; decode: Decoder<T>; apply: (current: T, now: string) => T; index?: (next: T) => { gsi1pk: string; gsi1sk: string } },
): Promise<T> => {
  const { db, ctx } = deps;
  try {
    return await retrying<T, undefined>(RARE_CONFLICT, async () => {
      const current = await orNotFound(spec.what, spec.id, getItem(db, spec.key, spec.decode));
      const next = spec.apply(current, ctx.now().toISOString());
      const write = putItem(db, { name: spec.what, key: spec.key, index: spec.index?.(next), entity: spec.what, tenantId: ctx.caller.tenantId, value: next, when: when.versionIs(current.version) });
      try {
        await writeOne(db, write);
        return { done: next };
      } catch (error) {
        if (error instanceof ConditionFailed) return { retry: undefined };
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof RetriesExhausted) throw keptChanging(error.attempts);
    throw error;
  }
};

/** The patch applied: given fields replaced, `null` fields removed, the version bumped. */
const merge = <T extends { version: number; updated_at: string }>(current: T, patch: Record<string, unknown>, now: string): T => {
  const next: T = { ...current, version: current.version + 1, updated_at: now };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) Reflect.deleteProperty(next, field);
    else if (value !== undefined) Reflect.set(next, field, value);
  }
  return next;
};

/** PATCH /api/skus/{sku_id} */
export const patchSku = async (deps: Deps, skuId: string, patch: z.output<typeof patchSkuBody>): Promise<Sku> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  // A supplier can never be deleted, so reading it before the write suffices.
  if (typeof patch.supplier_id === 'string' && !(await getItem(db, keys.supplier(tenantId, patch.supplier_id), (item) => item))) {
    throw notFound('supplier', patch.supplier_id);
  }
  return patchEntity<Sku>(deps, {
    what: 'sku',
    id: skuId,
    key: keys.sku(tenantId, skuId),
    decode: decodeSku,
    apply: (current, now) => {
      // Amounts follow the currency's minor unit, also when only the currency changed.
      const next = pricedIn(merge(current, patch, now));
      if ((next.unit_cost !== undefined || next.price !== undefined) && next.currency === undefined) {
        throw validationFailed([{ path: 'currency', message: 'is required when the SKU has a unit_cost or price' }]);
      }
      return next;
    },
    index: (next) => keys.skuIndex(tenantId, next.product_id, next.sku_id),
  });
};

/** GET /api/skus: every SKU of the tenant, or of one product. */
export const listSkus = async (deps: Deps, query: { product_id?: string; cursor?: string; limit?: number }): Promise<{ skus: Sku[]; next_cursor: string | null }> => {
  const tenantId = deps.ctx.caller.tenantId;
  const page = query.product_id
    ? await queryPage(deps.db, { index: 'gsi1', partition: keys.skusOfProductIndex(tenantId, query.product_id), cursor: query.cursor, limit: query.limit }, decodeSku)
    : await queryPage(deps.db, { partition: keys.skus(tenantId), cursor: query.cursor, limit: query.limit }, decodeSku);
  return { skus: page.items, next_cursor: page.next_cursor };
};

/** POST /api/warehouses */
export const createWarehouse = async (deps: Deps, input: z.output<typeof createWarehouseBody>): Promise<Warehouse> => {
  // A new warehouse is in nobody's scope yet: only a user who works in every warehouse makes one.
  assertUnscoped(deps.ctx, 'creating a warehouse');
  const warehouseId = input.warehouse_id ?? newId();
  const created = await createSimple<Warehouse>(deps, 'warehouse', warehouseId, keys.warehouse(deps.ctx.caller.tenantId, warehouseId), (now) => ({
    ...input,
    warehouse_id: warehouseId,
    version: 1,
    created_at: now,
    updated_at: now,
  }));
  forgetWarehouses(deps.ctx.caller.tenantId);
  return created;
};

/** PATCH /api/warehouses/{warehouse_id} */
export const patchWarehouse = async (deps: Deps, warehouseId: string, patch: z.output<typeof patchWarehouseBody>): Promise<Warehouse> => {
  assertInScope(deps.ctx, [warehouseId], 'changing the warehouse');
  const patched = await patchEntity<Warehouse>(deps, {
    what: 'warehouse',
    id: warehouseId,
    key: keys.warehouse(deps.ctx.caller.tenantId, warehouseId),
    decode: decodeWarehouse,
    apply: (current, now) => merge(current, patch, now),
  });
  forgetWarehouses(deps.ctx.caller.tenantId);
  return patched;
};

/** GET /api/warehouses: a scoped user's list holds only their warehouses (the others are none of their business). */
export const listWarehouses = async (deps: Deps, query: { cursor?: string; limit?: number }): Promise<{ warehouses: Warehouse[]; next_cursor: string | null }> => {
  const scoped = scopeFilter(deps.ctx);
  const page = await queryPage(
    deps.db,
    {
      partition: keys.warehouses(deps.ctx.caller.tenantId),
      cursor: query.cursor,
      limit: query.limit,
      ...(scoped === undefined ? {} : { filter: scoped, maxReads: SCOPED_LIST_READS }),
    },
    decodeWarehouse,
  );
  return { warehouses: page.items, next_cursor: page.next_cursor };
};

// ---------- for other contexts ----------

export const findSku = (deps: Deps, skuId: string): Promise<Sku | undefined> => getItem(deps.db, keys.sku(deps.ctx.caller.tenantId, skuId), decodeSku);

export const requireSku = (deps: Deps, skuId: string): Promise<Sku> => orNotFound('sku', skuId, findSku(deps, skuId));

export const requireWarehouse = (deps: Deps, warehouseId: string): Promise<Warehouse> =>
  orNotFound('warehouse', warehouseId, getItem(deps.db, keys.warehouse(deps.ctx.caller.tenantId, warehouseId), decodeWarehouse));

/**
 * Which of these SKU and warehouse ids exist in the caller's tenant: one strongly consistent,
 * projected BatchGetItem over all of them (a demand-history import checks up to 10,000 rows'
 * ids at once). Ids are keys only here: another tenant's never match.
 */
export const existingCatalogIds = async (deps: Deps, ids: { skuIds: Iterable<string>; warehouseIds: Iterable<string> }): Promise<{ skuIds: Set<string>; warehouseIds: Set<string> }> => {
  const tenantId = deps.ctx.caller.tenantId;
  const skus = [...new Set(ids.skuIds)];
  const warehouses = [...new Set(ids.warehouseIds)];
  const found = await batchGet(
    deps.db,
    [...skus.map((id) => keys.sku(tenantId, id)), ...warehouses.map((id) => keys.warehouse(tenantId, id))],
    decodeCatalogKey,
    { projection: [TABLE.partitionKey, TABLE.sortKey] },
  );
  const skuPartition = keys.skus(tenantId);
  const warehousePartition = keys.warehouses(tenantId);
  return {
    skuIds: new Set(found.filter((key) => key.pk === skuPartition).map((key) => key.sk)),
    warehouseIds: new Set(found.filter((key) => key.pk === warehousePartition).map((key) => key.sk)),
  };
};

/** Every warehouse of the tenant (the planner's view), strongly consistent. */
export const allWarehouses = async (deps: Deps): Promise<Warehouse[]> => {
  const tenantId = deps.ctx.caller.tenantId;
  const warehouses = await queryAll(deps.db, { partition: keys.warehouses(tenantId) }, decodeWarehouse);
  recentlyRead.set(tenantId, { readAt: deps.ctx.now().getTime(), warehouses });
  return warehouses;
};

/**
 * How long this container answers the planner from the warehouses it last
 * read. A tenant has a handful of warehouses that change a few times a year,
 * while every allocation needs them: reading them once per order was one of
 * its calls.
 */
export const WAREHOUSES_FRESH_MS = 5_000;

const recentlyRead = new Map<string, { readAt: number; warehouses: Warehouse[] }>();

/** A warehouse written in this container is read again by its next allocation, whatever the cache's age. */
const forgetWarehouses = (tenantId: string): void => {
  recentlyRead.delete(tenantId);
};

/**
 * The tenant's warehouses as this container read them at most
 * WAREHOUSES_FRESH_MS ago, or read now. Stale is safe for stock: the
 * allocation's conditional writes, not the snapshot, guard the levels. A
 * warehouse deactivated in this container is never chosen after; one
 * deactivated elsewhere is never chosen once the list here is older than
 * WAREHOUSES_FRESH_MS. (Checking each chosen warehouse inside the allocation's
 * transaction would close even that window, but it makes every order's
 * transaction touch the warehouse item, so concurrent orders from one
 * warehouse conflict on it: allocation throughput fell by a quarter.)
 */
export const recentWarehouses = async (deps: Deps): Promise<Warehouse[]> => {
  const hit = recentlyRead.get(deps.ctx.caller.tenantId);
  const age = hit && deps.ctx.now().getTime() - hit.readAt;
  if (hit && age !== undefined && age >= 0 && age < WAREHOUSES_FRESH_MS) return hit.warehouses;
  return allWarehouses(deps);
};
