import { api, must } from './client';
import type { paths } from './schema';

export type ListedOrder = paths['/api/orders']['get']['responses'][200]['content']['application/json']['orders'][number];
export type OrderStatus = ListedOrder['status'];

/** The statuses of an order that still has units to ship: allocated (firm) or partly shipped. */
export const WAITING_STATUSES = ['allocated', 'partially_shipped'] as const satisfies readonly OrderStatus[];

/** Units an order still has to ship: allocated, neither shipped nor released. */
export const unitsToShip = (order: Pick<ListedOrder, 'allocations'>): number =>
  order.allocations.reduce((sum, leg) => sum + leg.quantity - leg.shipped - leg.released, 0);

export interface OrdersWaiting {
  /** Orders counted, oldest first across both statuses. */
  orders: ListedOrder[];
  /** True when there are more than were read (the count is a floor: "100+"). */
  more: boolean;
}

/** Orders waiting to ship, oldest first: the first `limit` of each waiting status (the lists are oldest first). */
export const loadOrdersWaiting = async (limit = 100): Promise<OrdersWaiting> => {
  const pages = await Promise.all(WAITING_STATUSES.map((status) => must(api.GET('/api/orders', { params: { query: { status, limit } } }))));
  const orders = pages.flatMap((page) => page.orders).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.order_id.localeCompare(b.order_id));
  return { orders, more: pages.some((page) => page.next_cursor !== null) };
};
