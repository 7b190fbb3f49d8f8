import * as z from 'zod';
import { ALERT_STATUSES, SEVERITIES } from '../alerts/model';
import { MOVEMENT_TYPES } from '../inventory/model';

/**
 * Domain events: what the rest of the system (alerts, notifications,
 * channel sync) may learn about changes to the table, in the shape
 * EventBridge delivers them (`source`, `detail-type`, `detail`). The
 * details are zod schemas, so a consumer parses what its queue delivers
 * (functions/events/sqs-consumer.ts) and the types below are theirs.
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

export const EVENT_TYPES = [
  'OrderAllocated',
  'OrderReleased',
  'OrderShipped',
  'StockLevelChanged',
  'AlertOpened',
  'AlertUpdated',
  'AlertResolved',
  'MovementRecorded',
  'OrderLineRecorded',
  'ForecastRunRequested',
  'ForecastChunkReady',
  'ChannelReconciliationRequested',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const count = z.number().int();

/** Fields every event detail carries. */
export const eventMeta = z.object({
  /** Deterministic from the stream record (`<type>:<pk>:<sk>:v<item version>`): a redelivered record yields the same id. */
  event_id: z.string(),
  schema_version: z.literal(SCHEMA_VERSION),
  tenant_id: z.string().min(1),
  /** When the change happened (the item's `updated_at`, else the stream record's creation time). */
  occurred_at: z.string(),
  /** The correlation id of the request (or consumed event) that made the change: what its log lines and every consumer's carry. */
  log_correlation_id: z.string().optional(),
});
export type EventMeta = z.infer<typeof eventMeta>;

/** Units of one SKU in one warehouse. */
export const units = z.object({ sku_id: z.string(), warehouse_id: z.string(), quantity: count });
export type Units = z.infer<typeof units>;

export const orderAllocatedDetail = eventMeta.extend({
  order_id: z.string(),
  /** `held` (a checkout hold that expires unless confirmed) or `allocated`. */
  status: z.enum(['held', 'allocated']),
  lines: z.array(z.object({ sku_id: z.string(), quantity: count })),
  allocations: z.array(units),
  hold_expires_at: z.string().optional(),
  /** The order record's version (1 for a new order). */
  version: count,
});
export type OrderAllocatedDetail = z.infer<typeof orderAllocatedDetail>;

export const orderReleasedDetail = eventMeta.extend({
  order_id: z.string(),
  reason: z.enum(['cancelled', 'expired']),
  /** Units given back to `available` by this change, per leg; legs with nothing released are left out. */
  released: z.array(units),
  version: count,
});
export type OrderReleasedDetail = z.infer<typeof orderReleasedDetail>;

export const orderShippedDetail = eventMeta.extend({
  order_id: z.string(),
  /** The order's status after this shipment (`partially_shipped` or `shipped`). */
  status: z.string(),
  /** Units shipped by this change (not cumulative), per leg that shipped. */
  shipped: z.array(units),
  version: count,
});
export type OrderShippedDetail = z.infer<typeof orderShippedDetail>;

export const levelQuantities = z.object({ on_hand: count, reserved: count, available: count, incoming: count });
export type LevelQuantities = z.infer<typeof levelQuantities>;

export const stockLevelChangedDetail = eventMeta.extend({
  sku_id: z.string(),
  warehouse_id: z.string(),
  /** null when the level was created by this change. */
  before: levelQuantities.nullable(),
  after: levelQuantities,
  /** The level's version after the change: consumers keep the highest they have seen. */
  version: count,
  reorder_point: count,
  safety_stock: count,
});
export type StockLevelChangedDetail = z.infer<typeof stockLevelChangedDetail>;

/**
 * A low-stock alert as it stands after the change (functions/alerts/model.ts):
 * AlertOpened (the alert item's INSERT), AlertUpdated (severity or available
 * changed), AlertResolved (status became resolved). Acknowledging changes
 * neither, so it emits nothing.
 */
export const alertEventDetail = eventMeta.extend({
  alert_id: z.string(),
  sku_id: z.string(),
  warehouse_id: z.string(),
  severity: z.enum(SEVERITIES),
  status: z.enum(ALERT_STATUSES),
  available: count,
  reorder_point: count,
  safety_stock: count,
  days_of_cover: z.number().nullable(),
  /** When the alert opened: the notification throttle windows start from it. */
  opened_at: z.string(),
  /** The alert item's version (grows with every write of the alert): order by it. */
  version: count,
});
export type AlertEventDetail = z.infer<typeof alertEventDetail>;

/** An exact decimal as the API stores money (functions/platform/money.ts): up to 15 digits, and 4 after the point. */
const decimalText = z.string().regex(/^(0|[1-9]\d{0,14})(\.\d{1,4})?$/, 'must be a decimal with at most 15 + 4 digits');
const text = z.string().nullable();

/**
 * One ledger row as the lake stores it (issue 9): flat, one field per column of
 * `movements/tenant_id=<t>/dt=YYYY-MM-DD/*.parquet` (functions/events/lake-columns.ts
 * MOVEMENT_COLUMNS, the Glue table in AWS), so the AWS path (an EventBridge
 * rule -> Firehose, converting `detail` to Parquet) needs no reshaping. What the
 * row lacks is null, not absent: `resulting_*` and `version` on rows written
 * without reading the level (functions/inventory/model.ts `Movement.resulting`),
 * `unit_cost` and `currency` on rows without a cost. `unit_cost` is the stored
 * decimal string, exact. The partition `dt` is `created_at`'s UTC date.
 * `occurred_at` is `created_at`; the event id is `MovementRecorded:<pk>:<sk>`
 * (ledger rows are immutable: one row, one event). Emitted on the row's
 * INSERT only.
 */
export const movementRecordedDetail = eventMeta.extend({
  movement_id: z.string().min(1),
  sku_id: z.string().min(1),
  warehouse_id: z.string().min(1),
  type: z.enum(MOVEMENT_TYPES),
  delta_on_hand: count,
  delta_reserved: count,
  delta_available: count,
  delta_incoming: count,
  resulting_on_hand: count.nullable(),
  resulting_reserved: count.nullable(),
  resulting_available: count.nullable(),
  resulting_incoming: count.nullable(),
  /** The level's version right after this row; null where `resulting_*` are. */
  version: count.nullable(),
  unit_cost: decimalText.nullable(),
  currency: text,
  reason: text,
  reference: text,
  note: text,
  correlation_id: text,
  actor: z.string().min(1),
  /** ISO instant in UTC (the ledger's own `created_at`, milliseconds). */
  created_at: z.iso.datetime({ message: 'must be an ISO instant in UTC' }).regex(/\.\d{1,3}Z$|:\d{2}Z$/, 'must have at most millisecond precision'),
});
export type MovementRecordedDetail = z.infer<typeof movementRecordedDetail>;

/** What became of an order line's units at one warehouse by one change of the order. */
export const ORDER_LINE_OUTCOMES = ['held', 'allocated', 'shipped', 'released'] as const;
export type OrderLineOutcome = (typeof ORDER_LINE_OUTCOMES)[number];

/**
 * One order line outcome as the lake stores it (issue 9): flat, one field per
 * column of `orders/tenant_id=<t>/dt=YYYY-MM-DD/*.parquet`
 * (functions/events/lake-columns.ts ORDER_LINE_COLUMNS, the Glue table in AWS).
 * A change of an order yields one per allocation leg (line x warehouse) whose
 * units it moved:
 * - the order's INSERT: `held` (a checkout hold) or `allocated`, every leg, its quantity;
 * - a confirm (held -> allocated): `allocated`, every leg, its outstanding units;
 * - a shipment: `shipped`, each leg that shipped, the units shipped by this change;
 * - a cancel or expiry: `released` with `reason` cancelled|expired, each leg that
 *   gave units back, the units released by this change.
 * `line_index` is the line's position in the order's `lines` (SKUs are unique per
 * order), `line_quantity` its ordered quantity. `record_id`
 * (`<order_id>:v<order version>:<line_index>:<warehouse_id>`) identifies the row:
 * readers dedupe on it. `correlation_id` is the order id, what the order's ledger
 * rows carry too (so `orders` joins `movements` on it). `created_at` is the
 * order's `updated_at` for that change; `occurred_at` equals it.
 */
export const orderLineRecordedDetail = eventMeta.extend({
  record_id: z.string().min(1),
  order_id: z.string().min(1),
  line_index: count.nonnegative(),
  sku_id: z.string().min(1),
  warehouse_id: z.string().min(1),
  outcome: z.enum(ORDER_LINE_OUTCOMES),
  quantity: count.positive(),
  line_quantity: count.positive(),
  /** `cancelled` or `expired` on a release; null otherwise. */
  reason: z.enum(['cancelled', 'expired']).nullable(),
  /** The order's status after the change. */
  order_status: z.string().min(1),
  order_version: count,
  correlation_id: text,
  created_at: z.iso.datetime({ message: 'must be an ISO instant in UTC' }).regex(/\.\d{1,3}Z$|:\d{2}Z$/, 'must have at most millisecond precision'),
});
export type OrderLineRecordedDetail = z.infer<typeof orderLineRecordedDetail>;

/**
 * A forecasting run was requested (functions/forecasting/run.ts): the planner reads the tenant's
 * history and splits it into chunks. Work for the system's own consumers, not a change to stock.
 */
export const forecastRunRequestedDetail = eventMeta.extend({ run_id: z.string() });
export type ForecastRunRequestedDetail = z.infer<typeof forecastRunRequestedDetail>;

/** One chunk of a run's series is in the lake (`key`), ready to be forecast by a worker. */
export const forecastChunkReadyDetail = eventMeta.extend({ run_id: z.string(), chunk: count.min(0), key: z.string() });
export type ForecastChunkReadyDetail = z.infer<typeof forecastChunkReadyDetail>;

/**
 * A chunk of a sales channel's reconciliation run is due (functions/channels/reconcile.ts): the run
 * item's INSERT asks for chunk 0, each chunk's end that leaves more asks for the next. Work for the
 * channels' own consumer, not a change to stock.
 */
export const channelReconciliationRequestedDetail = eventMeta.extend({ channel_id: z.string(), reconciliation_id: z.string(), chunk: count.min(0) });
export type ChannelReconciliationRequestedDetail = z.infer<typeof channelReconciliationRequestedDetail>;

export const eventDetails = {
  OrderAllocated: orderAllocatedDetail,
  OrderReleased: orderReleasedDetail,
  OrderShipped: orderShippedDetail,
  StockLevelChanged: stockLevelChangedDetail,
  AlertOpened: alertEventDetail,
  AlertUpdated: alertEventDetail,
  AlertResolved: alertEventDetail,
  MovementRecorded: movementRecordedDetail,
  OrderLineRecorded: orderLineRecordedDetail,
  ForecastRunRequested: forecastRunRequestedDetail,
  ForecastChunkReady: forecastChunkReadyDetail,
  ChannelReconciliationRequested: channelReconciliationRequestedDetail,
} satisfies Record<EventType, z.ZodType>;

export type EventDetails = { [T in EventType]: z.infer<(typeof eventDetails)[T]> };

/**
 * An event as EventBridge delivers it to a target (an SQS message body is
 * this JSON): the fields consumers read; the detail is parsed on its own,
 * with the schema of the events the consumer's rule routes to it.
 */
export const busEnvelope = z.object({
  id: z.string().optional(),
  source: z.string().optional(),
  'detail-type': z.string(),
  time: z.string().optional(),
  detail: z.record(z.string(), z.unknown()),
});
export type BusEnvelope = z.infer<typeof busEnvelope>;

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
export type MovementRecorded = DomainEventOf<'MovementRecorded'>;
export type OrderLineRecorded = DomainEventOf<'OrderLineRecorded'>;
export type ForecastRunRequested = DomainEventOf<'ForecastRunRequested'>;
export type ForecastChunkReady = DomainEventOf<'ForecastChunkReady'>;
export type ChannelReconciliationRequested = DomainEventOf<'ChannelReconciliationRequested'>;
export type DomainEvent =
  | OrderAllocated
  | OrderReleased
  | OrderShipped
  | StockLevelChanged
  | AlertEvent
  | MovementRecorded
  | OrderLineRecorded
  | ForecastRunRequested
  | ForecastChunkReady
  | ChannelReconciliationRequested;

export const domainEvent = <T extends EventType>(type: T, detail: EventDetails[T]): DomainEventOf<T> => ({
  source: EVENT_SOURCE,
  'detail-type': type,
  detail,
});
