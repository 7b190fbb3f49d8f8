/**
 * Domain events: what the rest of the system (alerts, notifications,
 * channel sync) may learn about changes to the table, in the shape
 * EventBridge delivers them (`source`, `detail-type`, `detail`).
 *
 * Versioning: every detail carries `schema_version`. A compatible change
 * (a new optional field) keeps the number; an incompatible one publishes the
 * new version next to the old one until its consumers have moved, so a rule
 * can match on `detail.schema_version`.
 *
 * Delivery is at least once and unordered (EventBridge guarantees neither
 * order nor exactly-once): consumers dedupe on `detail.event_id`, and order
 * by `detail.version` / `occurred_at` where order matters.
 */
export const EVENT_SOURCE = 'stockroom';
export const SCHEMA_VERSION = 1;

export const EVENT_TYPES = ['OrderAllocated', 'OrderReleased', 'OrderShipped', 'StockLevelChanged', 'AlertOpened', 'AlertUpdated', 'AlertResolved'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Fields every event detail carries. */
export interface EventMeta {
  /** Deterministic from the stream record (`<type>:<pk>:<sk>:v<item version>`): a redelivered record yields the same id. */
  event_id: string;
  schema_version: typeof SCHEMA_VERSION;
  tenant_id: string;
  /** When the change happened (the item's `updated_at`, else the stream record's creation time). */
  occurred_at: string;
}

/** Units of one SKU in one warehouse. */
export interface Units {
  sku_id: string;
  warehouse_id: string;
  quantity: number;
}

export interface OrderAllocatedDetail extends EventMeta {
  order_id: string;
  /** `held` (a checkout hold that expires unless confirmed) or `allocated`. */
  status: 'held' | 'allocated';
  lines: { sku_id: string; quantity: number }[];
  allocations: Units[];
  hold_expires_at?: string;
  /** The order record's version (1 for a new order). */
  version: number;
}

export interface OrderReleasedDetail extends EventMeta {
  order_id: string;
  reason: 'cancelled' | 'expired';
  /** Units given back to `available` by this change, per leg; legs with nothing released are left out. */
  released: Units[];
  version: number;
}

export interface OrderShippedDetail extends EventMeta {
  order_id: string;
  /** The order's status after this shipment (`partially_shipped` or `shipped`). */
  status: string;
  /** Units shipped by this change (not cumulative), per leg that shipped. */
  shipped: Units[];
  version: number;
}

export interface LevelQuantities {
  on_hand: number;
  reserved: number;
  available: number;
  incoming: number;
}

export interface StockLevelChangedDetail extends EventMeta {
  sku_id: string;
  warehouse_id: string;
  /** null when the level was created by this change. */
  before: LevelQuantities | null;
  after: LevelQuantities;
  /** The level's version after the change: consumers keep the highest they have seen. */
  version: number;
  reorder_point: number;
  safety_stock: number;
}

/**
 * A low-stock alert as it stands after the change (functions/alerts/model.ts):
 * AlertOpened (the alert item's INSERT), AlertUpdated (severity or available
 * changed), AlertResolved (status became resolved). Acknowledging changes
 * neither, so it emits nothing.
 */
export interface AlertEventDetail extends EventMeta {
  alert_id: string;
  sku_id: string;
  warehouse_id: string;
  severity: 'critical' | 'high' | 'normal';
  status: 'open' | 'acknowledged' | 'resolved';
  available: number;
  reorder_point: number;
  safety_stock: number;
  days_of_cover: number | null;
  /** When the alert opened: the notification throttle windows start from it. */
  opened_at: string;
  /** The alert item's version (grows with every write of the alert): order by it. */
  version: number;
}

export interface EventDetails {
  OrderAllocated: OrderAllocatedDetail;
  OrderReleased: OrderReleasedDetail;
  OrderShipped: OrderShippedDetail;
  StockLevelChanged: StockLevelChangedDetail;
  AlertOpened: AlertEventDetail;
  AlertUpdated: AlertEventDetail;
  AlertResolved: AlertEventDetail;
}

/** One event as EventBridge carries it (PutEvents `Source`/`DetailType`/`Detail`; rules see these names). */
export interface DomainEventOf<T extends EventType> {
  source: typeof EVENT_SOURCE;
  'detail-type': T;
  detail: EventDetails[T];
}

export type OrderAllocated = DomainEventOf<'OrderAllocated'>;
export type OrderReleased = DomainEventOf<'OrderReleased'>;
export type OrderShipped = DomainEventOf<'OrderShipped'>;
export type StockLevelChanged = DomainEventOf<'StockLevelChanged'>;
export type AlertOpened = DomainEventOf<'AlertOpened'>;
export type AlertUpdated = DomainEventOf<'AlertUpdated'>;
export type AlertResolved = DomainEventOf<'AlertResolved'>;
export type AlertEvent = AlertOpened | AlertUpdated | AlertResolved;
export type DomainEvent = OrderAllocated | OrderReleased | OrderShipped | StockLevelChanged | AlertEvent;

export const domainEvent = <T extends EventType>(type: T, detail: EventDetails[T]): DomainEventOf<T> => ({
  source: EVENT_SOURCE,
  'detail-type': type,
  detail,
});
