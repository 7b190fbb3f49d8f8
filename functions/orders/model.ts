/** An order's allocation to one warehouse for one SKU: what was reserved there and what became of it. */
export interface AllocationLeg {
  sku_id: string;
  warehouse_id: string;
  /** Units reserved for this order in this warehouse. */
  quantity: number;
  /** Of those, shipped (on_hand and reserved both went down). */
  shipped: number;
  /** Of those, given back to available (cancel or expiry). */
  released: number;
  distance_km: number;
}

export const ORDER_STATUSES = ['held', 'allocated', 'partially_shipped', 'shipped', 'cancelled', 'expired'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface Order {
  order_id: string;
  status: OrderStatus;
  lines: { sku_id: string; quantity: number }[];
  allocations: AllocationLeg[];
  shipments: number;
  strategy: string;
  ship_to: { latitude: number; longitude: number; country?: string };
  /** Set while the order is a checkout hold: after this instant the sweeper releases it. */
  hold_expires_at?: string;
  created_at: string;
  updated_at: string;
  confirmed_at?: string;
  cancelled_at?: string;
  expired_at?: string;
  shipped_at?: string;
  /** Grows by one with each change of the order record. */
  version: number;
}

/** Units of a leg still reserved: neither shipped nor released. */
export const outstanding = (leg: AllocationLeg): number => leg.quantity - leg.shipped - leg.released;
