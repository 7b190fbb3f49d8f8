import * as z from 'zod';
import type { Db } from '../platform/db';
import { keys, type IndexKey } from '../platform/keys';
import { decodeWith, getItem, queryAll, queryPage, StoredItemInvalid, type Decoder, type Page } from '../platform/storage';
import { putItem, when, type Write } from '../platform/writes';
import type { Order, OrderStatus } from './model';
import { orderResponse } from './schemas';

/**
 * Orders' own storage: how an order is decoded and written. Private to the
 * context; other contexts go through functions/orders/orders.ts.
 */

/**
 * Stored orders are decoded with the response schema (fields it does not name
 * pass through as written); the annotation checks that its output is the model.
 */
export const decodeOrder: Decoder<Order> = decodeWith('order', orderResponse.loose());

const ORDER = 'order';

export const findOrder = (db: Db, tenantId: string, orderId: string): Promise<Order | undefined> =>
  getItem(db, keys.order(tenantId, orderId), decodeOrder);

/** A hold is on the sweeper's index; every other order on its status's (keys.ordersByStatusIndex). */
const orderIndex = (tenantId: string, order: Order): IndexKey =>
  order.status === 'held' && order.hold_expires_at
    ? keys.holdIndex(tenantId, order.order_id, order.hold_expires_at)
    : keys.ordersByStatusIndex(tenantId, order.status, order.created_at, order.order_id);

/**
 * The order record as a write: indexed for the hold sweeper while it is a
 * hold, by status after; new (no previous version) or still at the version it was read at.
 * Without `onConditionFailed`, a failed condition means the order moved: the
 * change is decided again.
 */
export const orderWrite = (
  db: Db,
  tenantId: string,
  order: Order,
  previousVersion: number | undefined,
  onConditionFailed?: Write['onConditionFailed'],
): Write =>
  putItem(db, {
    name: ORDER,
    key: keys.order(tenantId, order.order_id),
    index: orderIndex(tenantId, order),
    entity: ORDER,
    tenantId,
    value: order,
    when: when.newOrVersion(previousVersion),
    onConditionFailed,
  });

/** A hold's entry in the sweeper's index. gsi1 is a system index across tenants, so the tenant is read from the item. */
const dueHold = z.object({ tenant_id: z.string(), order_id: z.string() });
type DueHold = z.output<typeof dueHold>;

const decodeDueHold: Decoder<DueHold> = (item) => {
  const parsed = dueHold.safeParse(item);
  if (parsed.success) return parsed.data;
  throw new StoredItemInvalid('hold', item, parsed.error.message);
};

/**
 * The holds of one sweeper shard (keys.holdShards) that expired at or before `now`: the same instant
 * at which confirm refuses them (orders.ts holdExpired). The sort key is `<expires_at>#<tenant>#<order>`
 * and '$' sorts right after '#', so the bound takes in every key of the instant itself.
 */
export const holdsDueIn = (db: Db, partition: string, now: Date): Promise<DueHold[]> =>
  queryAll(db, { index: 'gsi1', partition, sort: { below: `${now.toISOString()}$` } }, decodeDueHold);

/** How many reads one page of held orders may take before it returns what it has (with a cursor). */
const MAX_FILTERED_READS = 10;

export interface OrderListing {
  status?: OrderStatus;
  cursor?: string;
  limit?: number;
}

/**
 * One page of a tenant's orders:
 * - with a status past the hold: its gsi1 partition, oldest first (eventually consistent: an
 *   order that just changed status may show in its old list for a moment);
 * - held: the base partition filtered by status (a hold's gsi1 is the sweeper's). DynamoDB applies
 *   Limit before the filter, so a page may be short, even empty, and still carry a next_cursor;
 * - neither: the base partition, by order_id.
 */
export const ordersPage = (db: Db, tenantId: string, listing: OrderListing): Promise<Page<Order>> => {
  const page = { cursor: listing.cursor, limit: listing.limit };
  if (listing.status === 'held') {
    return queryPage(db, { partition: keys.orders(tenantId), filter: when.equals('status', 'held'), maxReads: MAX_FILTERED_READS, ...page }, decodeOrder);
  }
  if (listing.status) return queryPage(db, { index: 'gsi1', partition: keys.ordersByStatus(tenantId, listing.status), ...page }, decodeOrder);
  return queryPage(db, { partition: keys.orders(tenantId), ...page }, decodeOrder);
};
