import { createDocumentClient, type Db } from '../../functions/platform/db';
import { AppError, errorName } from '../../functions/platform/errors';
import type { RequestContext } from '../../functions/platform/context';
import { tableName } from '../../functions/platform/table';
import { newTenantId } from './api';
import { createProduct, createSku, createWarehouse } from '../../functions/inventory/catalog';
import { updateStock } from '../../functions/inventory/stock';
import type { AllocateInput } from '../../functions/orders/schemas';

/** Domain functions called directly (no HTTP), for tests that need to steer the clock or the client. */
export const testDb = (): Db => ({ client: createDocumentClient(), table: tableName() });

export const contextFor = (tenantId = newTenantId(), now: () => Date = () => new Date()): RequestContext => ({
  caller: { kind: 'user', tenantId, role: 'admin', subject: 'test' },
  requestId: 'test',
  now,
});

/** The code of the AppError a domain call rejects with, undefined when it succeeds; anything else is rethrown. */
export const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
};

/** Product 'p' and SKU 'sku-1', stocked in each warehouse named (created west of one another along latitude 40). */
export const stockOneSku = async (db: Db, ctx: RequestContext, stock: Record<string, number>): Promise<void> => {
  const deps = { db, ctx };
  await createProduct(deps, { product_id: 'p', name: 'P' });
  await createSku(deps, { sku_id: 'sku-1', product_id: 'p', name: 'S' });
  for (const [i, [warehouseId, quantity]] of Object.entries(stock).entries()) {
    await createWarehouse(deps, { warehouse_id: warehouseId, name: warehouseId, latitude: 40, longitude: -74 - i, priority: 100, active: true });
    await updateStock(deps, { sku_id: 'sku-1', warehouse_id: warehouseId, transaction_type: 'restock', quantity });
  }
};

/** An order for `quantity` of 'sku-1' shipped to (40, -74), split as needed, held when `holdSeconds` is given. */
export const oneLineOrder = (orderId: string, quantity: number, holdSeconds?: number): AllocateInput => ({
  order_id: orderId,
  lines: [{ sku_id: 'sku-1', quantity }],
  ship_to: { latitude: 40, longitude: -74 },
  strategy: 'fewest_shipments',
  allow_split: true,
  ...(holdSeconds === undefined ? {} : { hold_seconds: holdSeconds }),
});

export interface HeldDb {
  db: Db;
  /** What each TransactWriteItems this client sent came to: 'committed' or the error's name. */
  transactions: string[];
  /** How many times `meanwhile` ran (1 once the first transaction was held). */
  interleaved: () => number;
}

/**
 * A Db whose first TransactWriteItems is sent only after `meanwhile` has
 * finished (another change landing between a plan and its write); later ones
 * go at once. The caller destroys `db.client`.
 */
export const holdFirstTransaction = (meanwhile: () => Promise<unknown>): HeldDb => {
  const client = createDocumentClient();
  const transactions: string[] = [];
  let interleaved = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
      if (interleaved === 0) {
        interleaved++;
        await meanwhile();
      }
      try {
        const output = await next(args);
        transactions.push('committed');
        return output;
      } catch (error) {
        transactions.push(errorName(error) ?? 'unknown error');
        throw error;
      }
    },
    { step: 'initialize', name: 'holdFirstTransaction' },
  );
  return { db: { client, table: tableName() }, transactions, interleaved: () => interleaved };
};
