import { z } from 'zod';
import type { Db } from '../platform/db';
import { keys } from '../platform/keys';
import { decodeWith, getItem, queryAll, StoredItemInvalid, type Decoder } from '../platform/storage';
import { putItem, when, type Write } from '../platform/writes';
import type { Order } from './model';
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

/**
 * The order record as a write: indexed for the hold sweeper only while it is
 * a hold; new (no previous version) or still at the version it was read at.
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
    index: order.status === 'held' && order.hold_expires_at ? keys.holdIndex(tenantId, order.order_id, order.hold_expires_at) : undefined,
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

/** The holds of one sweeper shard (keys.holdShards) that expired before `now`. */
export const holdsDueIn = (db: Db, partition: string, now: Date): Promise<DueHold[]> =>
  queryAll(db, { index: 'gsi1', partition, sort: { below: now.toISOString() } }, decodeDueHold);
