import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import * as z from 'zod';
import { ALERT_STATUSES, SEVERITIES } from '../alerts/model';
import { tenantOfPartition } from '../platform/keys';
import { CORRELATION_ATTRIBUTE } from '../platform/log';
import { movementColumns } from './lake-columns';
import {
  domainEvent,
  SCHEMA_VERSION,
  type DomainEvent,
  type EventMeta,
  type EventType,
  type LevelQuantities,
  movementRecordedDetail,
  type MovementRecordedDetail,
  orderLineRecordedDetail,
  type OrderLineOutcome,
  type OrderLineRecordedDetail,
  type OrderReleasedDetail,
  type Units,
} from './model';

/**
 * Stream record -> domain events. Pure: the same record always gives the
 * same events, ids included, so a redelivered batch can be deduplicated.
 *
 * - order INSERT (held or allocated)                    -> OrderAllocated
 * - order MODIFY to cancelled/expired from another status -> OrderReleased
 * - order MODIFY where some leg's `shipped` grew         -> OrderShipped
 * - each of those, and a confirm (held -> allocated)      -> one OrderLineRecorded
 *   per leg whose units the change held, allocated, shipped or released: the
 *   flat rows of the lake's orders table
 * - stock_level INSERT or MODIFY                         -> StockLevelChanged
 *   (not when neither quantities, thresholds nor version changed)
 * - alert INSERT (not resolved)                          -> AlertOpened
 * - alert MODIFY to resolved from another status         -> AlertResolved
 * - alert MODIFY where severity or available changed     -> AlertUpdated
 *   (acknowledging alone emits nothing)
 * - movement (ledger row) INSERT                         -> MovementRecorded,
 *   the flat row the lake stores (ledger rows are written once and never
 *   changed, so a movement MODIFY is nothing)
 *
 * - forecast run INSERT                                 -> ForecastRunRequested
 * - forecast chunk INSERT                               -> ForecastChunkReady
 *   (functions/forecasting/run.ts: the run's fan-out rides the stream like
 *   every other change, so it needs no queue of its own)
 * - channel reconciliation INSERT (requested)           -> ChannelReconciliationRequested
 *   (chunk 0), and its MODIFY where `chunk` grew while running -> the same
 *   for that chunk (functions/channels/reconcile.ts: a run over a large
 *   catalogue continues chunk by chunk through the stream)
 *
 * Everything else maps to nothing: other entities (idempotency records, the
 * processor's own event markers), REMOVE, and the unknown
 * event names DynamoDB Local gives TTL deletions. A record of a known entity
 * whose image is malformed throws (`EventMappingError`): the processor
 * reports it failed, so it is retried and, failing for good, dead-lettered
 * where someone looks, rather than silently dropped.
 */
export class EventMappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventMappingError';
  }
}

type Item = Record<string, unknown>;

type StreamImage = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;

const image = (raw: StreamImage | undefined): Item | undefined =>
  raw && Object.keys(raw).length > 0
    ? // @types/aws-lambda and the SDK type the same DynamoDB JSON differently (binary as a base64 string vs Uint8Array).
      unmarshall(raw as Record<string, AttributeValue>)
    : undefined;

const count = z.number().int();

const leg = z.object({
  sku_id: z.string(),
  warehouse_id: z.string(),
  quantity: count,
  shipped: count.default(0),
  released: count.default(0),
});

/** What every image the mapper reads carries: its key, its tenant (or not: then the key says), when and which version. */
const imageOf = z.object({
  pk: z.string(),
  sk: z.string(),
  tenant_id: z.string().optional(),
  updated_at: z.string().nullish(),
  version: count,
});

const orderItem = imageOf.extend({
  order_id: z.string(),
  status: z.string(),
  lines: z.array(z.object({ sku_id: z.string(), quantity: count })).default([]),
  allocations: z.array(leg).default([]),
  hold_expires_at: z.string().optional(),
});
type OrderItem = z.infer<typeof orderItem>;

const levelItem = imageOf.extend({
  sku_id: z.string(),
  warehouse_id: z.string(),
  on_hand: count,
  reserved: count,
  available: count,
  incoming: count.default(0),
  reorder_point: count.default(0),
  safety_stock: count.default(0),
});
type LevelItem = z.infer<typeof levelItem>;

const alertItem = imageOf.extend({
  alert_id: z.string(),
  sku_id: z.string(),
  warehouse_id: z.string(),
  status: z.enum(ALERT_STATUSES),
  severity: z.enum(SEVERITIES),
  available: count,
  reorder_point: count,
  safety_stock: count,
  days_of_cover: z.number().nullable().default(null),
  opened_at: z.string(),
});
type AlertItem = z.infer<typeof alertItem>;

const quantitiesOf = z.object({ on_hand: count, reserved: count, available: count, incoming: count });

/** A ledger row as functions/inventory/store.ts `movementPut` writes it: the key, then the Movement's fields. */
const movementItem = z.object({
  pk: z.string(),
  sk: z.string(),
  tenant_id: z.string().optional(),
  movement_id: z.string(),
  sku_id: z.string(),
  warehouse_id: z.string(),
  type: z.string(),
  deltas: quantitiesOf,
  resulting: quantitiesOf.optional(),
  version: count.optional(),
  unit_cost: z.string().optional(),
  currency: z.string().optional(),
  reason: z.string().optional(),
  reference: z.string().optional(),
  note: z.string().optional(),
  correlation_id: z.string().optional(),
  actor: z.string(),
  created_at: z.string(),
});

const parse = <T>(schema: z.ZodType<T>, item: Item, what: string): T => {
  const result = schema.safeParse(item);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
    throw new EventMappingError(`malformed ${what} image (${String(item.pk)} ${String(item.sk)}): ${fields}`);
  }
  return result.data;
};

const tenantOf = (item: { pk: string; tenant_id?: string | undefined }): string => {
  const tenant = item.tenant_id ?? tenantOfPartition(item.pk);
  if (!tenant) throw new EventMappingError(`no tenant on ${item.pk}`);
  return tenant;
};

const occurredAt = (record: DynamoDBRecord, item: { updated_at?: string | null | undefined }): string => {
  if (item.updated_at) return item.updated_at;
  const seconds = record.dynamodb?.ApproximateCreationDateTime;
  if (typeof seconds === 'number') return new Date(seconds * 1000).toISOString();
  throw new EventMappingError('record has neither updated_at nor ApproximateCreationDateTime');
};

/** `<type>:<pk>:<sk>:v<version>`: every change bumps the item's version, so one change is one id. */
export const eventId = (type: EventType, item: { pk: string; sk: string; version: number }): string =>
  `${type}:${item.pk}:${item.sk}:v${item.version}`;

const metaOf = (type: EventType, record: DynamoDBRecord, item: z.infer<typeof imageOf>): EventMeta => ({
  event_id: eventId(type, item),
  schema_version: SCHEMA_VERSION,
  tenant_id: tenantOf(item),
  occurred_at: occurredAt(record, item),
});
const meta = (type: EventType, record: DynamoDBRecord, item: OrderItem | LevelItem | AlertItem): EventMeta => metaOf(type, record, item);

const legKey = (l: { sku_id: string; warehouse_id: string }): string => `${l.sku_id}\u0000${l.warehouse_id}`;

/** Per (sku, warehouse), how much `field` grew from the old legs to the new; only growth, in the new legs' order. */
const growth = (before: OrderItem | undefined, after: OrderItem, field: 'shipped' | 'released'): Units[] => {
  const old = new Map<string, number>();
  for (const l of before?.allocations ?? []) old.set(legKey(l), (old.get(legKey(l)) ?? 0) + l[field]);
  const now = new Map<string, Units>();
  for (const l of after.allocations) {
    const seen = now.get(legKey(l));
    if (seen) seen.quantity += l[field];
    else now.set(legKey(l), { sku_id: l.sku_id, warehouse_id: l.warehouse_id, quantity: l[field] });
  }
  return [...now.entries()]
    .map(([key, units]) => ({ ...units, quantity: units.quantity - (old.get(key) ?? 0) }))
    .filter((units) => units.quantity > 0);
};

/** The statuses that give an order's units back, as the event's reason. */
const releaseReason = (status: string): OrderReleasedDetail['reason'] | undefined =>
  status === 'cancelled' || status === 'expired' ? status : undefined;

/** Per (sku, warehouse), the units still reserved (neither shipped nor released), legs with none left out. */
const outstandingUnits = (order: OrderItem): Units[] =>
  order.allocations
    .map((l) => ({ sku_id: l.sku_id, warehouse_id: l.warehouse_id, quantity: l.quantity - l.shipped - l.released }))
    .filter((units) => units.quantity > 0);

/** `OrderLineRecorded:<pk>:<sk>:v<version>:<line>:<warehouse>`: one order change, one line, one warehouse. */
export const orderLineEventId = (item: { pk: string; sk: string; version: number }, lineIndex: number, warehouseId: string): string =>
  `${eventId('OrderLineRecorded', item)}:${lineIndex}:${warehouseId}`;

/** One flat OrderLineRecorded per leg of `units` (units of one sku at one warehouse that this change of the order moved). */
const orderLineEvents = (
  record: DynamoDBRecord,
  order: OrderItem,
  outcome: OrderLineOutcome,
  reason: OrderLineRecordedDetail['reason'],
  units: readonly Units[],
): DomainEvent[] => {
  const tenantId = tenantOf(order);
  const createdAt = occurredAt(record, order);
  return units.map((leg) => {
    const lineIndex = order.lines.findIndex((line) => line.sku_id === leg.sku_id);
    const line = order.lines[lineIndex];
    if (!line) throw new EventMappingError(`order ${order.order_id} has a leg of ${leg.sku_id}, which none of its lines orders`);
    const detail: OrderLineRecordedDetail = parse(
      orderLineRecordedDetail,
      {
        // The key rides along only for the error message; the schema strips it.
        pk: order.pk,
        sk: order.sk,
        event_id: orderLineEventId(order, lineIndex, leg.warehouse_id),
        schema_version: SCHEMA_VERSION,
        tenant_id: tenantId,
        occurred_at: createdAt,
        record_id: `${order.order_id}:v${order.version}:${lineIndex}:${leg.warehouse_id}`,
        order_id: order.order_id,
        line_index: lineIndex,
        sku_id: leg.sku_id,
        warehouse_id: leg.warehouse_id,
        outcome,
        quantity: leg.quantity,
        line_quantity: line.quantity,
        reason,
        order_status: order.status,
        order_version: order.version,
        correlation_id: order.order_id,
        created_at: createdAt,
      },
      'order line',
    );
    return domainEvent('OrderLineRecorded', detail);
  });
};

const orderEvents = (record: DynamoDBRecord, name: 'INSERT' | 'MODIFY', item: Item, oldItem: Item | undefined): DomainEvent[] => {
  const after = parse(orderItem, item, 'order');
  if (name === 'INSERT') {
    if (after.status !== 'held' && after.status !== 'allocated') return [];
    const outcome = after.status;
    return [
      domainEvent('OrderAllocated', {
        ...meta('OrderAllocated', record, after),
        order_id: after.order_id,
        status: after.status,
        lines: after.lines.map((l) => ({ sku_id: l.sku_id, quantity: l.quantity })),
        allocations: after.allocations.map((l) => ({ sku_id: l.sku_id, warehouse_id: l.warehouse_id, quantity: l.quantity })),
        ...(after.hold_expires_at ? { hold_expires_at: after.hold_expires_at } : {}),
        version: after.version,
      }),
      ...orderLineEvents(record, after, outcome, null, after.allocations.map((l) => ({ sku_id: l.sku_id, warehouse_id: l.warehouse_id, quantity: l.quantity }))),
    ];
  }
  const before = oldItem ? parse(orderItem, oldItem, 'order') : undefined;
  const events: DomainEvent[] = [];
  const reason = releaseReason(after.status);
  if (reason && before?.status !== after.status) {
    const released = growth(before, after, 'released');
    events.push(
      domainEvent('OrderReleased', {
        ...meta('OrderReleased', record, after),
        order_id: after.order_id,
        reason,
        released,
        version: after.version,
      }),
      ...orderLineEvents(record, after, 'released', reason, released),
    );
  }
  if (before?.status === 'held' && after.status === 'allocated') {
    events.push(...orderLineEvents(record, after, 'allocated', null, outstandingUnits(after)));
  }
  const shipped = growth(before, after, 'shipped');
  if (shipped.length > 0) {
    events.push(
      domainEvent('OrderShipped', {
        ...meta('OrderShipped', record, after),
        order_id: after.order_id,
        status: after.status,
        shipped,
        version: after.version,
      }),
      ...orderLineEvents(record, after, 'shipped', null, shipped),
    );
  }
  return events;
};

const quantities = (l: LevelItem): LevelQuantities => ({
  on_hand: l.on_hand,
  reserved: l.reserved,
  available: l.available,
  incoming: l.incoming,
});

const sameLevel = (a: LevelItem, b: LevelItem): boolean =>
  a.version === b.version &&
  (['on_hand', 'reserved', 'available', 'incoming', 'reorder_point', 'safety_stock'] as const).every((f) => a[f] === b[f]);

/** Is this image of a level split into sub-levels (then it holds only sub-level 0's share)? */
const splitImage = (item: Item | undefined): boolean => item?.entity === 'stock_level' && typeof item.sub_levels === 'number' && item.sub_levels > 1;

const subLevelItem = imageOf.extend({
  sku_id: z.string(),
  warehouse_id: z.string(),
  generation: count,
  on_hand: count,
  reserved: count,
  available: count,
});

/**
 * A change to one part of a level split into sub-levels
 * (functions/inventory/sub-levels.ts). Its image holds only that part, so its
 * StockLevelChanged is made by the stream processor from the level's sum read
 * after it (levelChangedFromSum). `delta` is the part's change, to say what
 * the level was before it.
 */
export interface SplitLevelChange {
  tenant_id: string;
  sku_id: string;
  warehouse_id: string;
  event_id: string;
  occurred_at: string;
  delta: LevelQuantities;
  log_correlation_id?: string;
}

const partDelta = (after: Item, before: Item | undefined): LevelQuantities => {
  const of = (item: Item | undefined, field: keyof LevelQuantities): number => {
    const value = item?.[field];
    return typeof value === 'number' ? value : 0;
  };
  return {
    on_hand: of(after, 'on_hand') - of(before, 'on_hand'),
    reserved: of(after, 'reserved') - of(before, 'reserved'),
    available: of(after, 'available') - of(before, 'available'),
    incoming: of(after, 'incoming') - of(before, 'incoming'),
  };
};

/**
 * The split-level change a record is, if it is one: sub-level 0 of a split
 * level (or of one being split or joined), or a sub-level whose version grew.
 * A sub-level written whole by a rebalance keeps its version (sub-level 0's
 * write in the same transaction says it), and one just made starts at 0: no
 * change of their own.
 */
export const splitLevelChange = (record: DynamoDBRecord): SplitLevelChange | undefined => {
  const name = record.eventName;
  if (name !== 'INSERT' && name !== 'MODIFY') return undefined;
  const item = image(record.dynamodb?.NewImage);
  const oldItem = name === 'MODIFY' ? image(record.dynamodb?.OldImage) : undefined;
  if (!item) return undefined;
  let id: string;
  let target: { pk: string; sk: string; tenant_id?: string | undefined; sku_id: string; warehouse_id: string; updated_at?: string | null | undefined };
  if (item.entity === 'stock_sub_level') {
    const part = parse(subLevelItem, item, 'stock sub-level');
    const was = oldItem?.entity === 'stock_sub_level' ? parse(subLevelItem, oldItem, 'stock sub-level') : undefined;
    if (part.version <= (was?.version ?? 0)) return undefined;
    id = `StockLevelChanged:${part.pk}:${part.sk}:g${part.generation}:v${part.version}`;
    target = part;
  } else if (splitImage(item) || splitImage(oldItem)) {
    const level = parse(levelItem, item, 'stock level');
    id = eventId('StockLevelChanged', level);
    target = level;
  } else {
    return undefined;
  }
  const correlation = item[CORRELATION_ATTRIBUTE];
  return {
    tenant_id: tenantOf(target),
    sku_id: target.sku_id,
    warehouse_id: target.warehouse_id,
    event_id: id,
    occurred_at: occurredAt(record, target),
    delta: partDelta(item, oldItem?.entity === item.entity ? oldItem : undefined),
    ...(typeof correlation === 'string' ? { log_correlation_id: correlation } : {}),
  };
};

/** The level a split-level change belongs to, as its sum stood when read after the change. */
export interface LevelSum extends LevelQuantities {
  version: number;
  reorder_point: number;
  safety_stock: number;
}

/** StockLevelChanged of a split level: `after` is the sum read after the change, `before` that less the part's change. */
export const levelChangedFromSum = (change: SplitLevelChange, sum: LevelSum): DomainEvent => {
  const after: LevelQuantities = { on_hand: sum.on_hand, reserved: sum.reserved, available: sum.available, incoming: sum.incoming };
  const before: LevelQuantities = {
    on_hand: after.on_hand - change.delta.on_hand,
    reserved: after.reserved - change.delta.reserved,
    available: after.available - change.delta.available,
    incoming: after.incoming - change.delta.incoming,
  };
  return domainEvent('StockLevelChanged', {
    event_id: change.event_id,
    schema_version: SCHEMA_VERSION,
    tenant_id: change.tenant_id,
    occurred_at: change.occurred_at,
    sku_id: change.sku_id,
    warehouse_id: change.warehouse_id,
    // A part's change alone may say more than the sum (other parts moved since): no "before" then.
    before: Object.values(before).every((n) => n >= 0) ? before : null,
    after,
    version: sum.version,
    reorder_point: sum.reorder_point,
    safety_stock: sum.safety_stock,
    ...(change.log_correlation_id === undefined ? {} : { log_correlation_id: change.log_correlation_id }),
  });
};

const stockEvents = (record: DynamoDBRecord, name: 'INSERT' | 'MODIFY', item: Item, oldItem: Item | undefined): DomainEvent[] => {
  // A split level's item holds only its part: the processor makes its event from the sum (splitLevelChange).
  if (splitImage(item) || splitImage(oldItem)) return [];
  const after = parse(levelItem, item, 'stock level');
  // An old image of another entity (an item replaced by a different kind) counts as no "before".
  const before = name === 'MODIFY' && oldItem?.entity === 'stock_level' ? parse(levelItem, oldItem, 'stock level') : undefined;
  if (before && sameLevel(before, after)) return [];
  return [
    domainEvent('StockLevelChanged', {
      ...meta('StockLevelChanged', record, after),
      sku_id: after.sku_id,
      warehouse_id: after.warehouse_id,
      before: before ? quantities(before) : null,
      after: quantities(after),
      version: after.version,
      reorder_point: after.reorder_point,
      safety_stock: after.safety_stock,
    }),
  ];
};

const alertEvents = (record: DynamoDBRecord, name: 'INSERT' | 'MODIFY', item: Item, oldItem: Item | undefined): DomainEvent[] => {
  const after = parse(alertItem, item, 'alert');
  const before = name === 'MODIFY' && oldItem?.entity === 'alert' ? parse(alertItem, oldItem, 'alert') : undefined;
  let type: 'AlertOpened' | 'AlertUpdated' | 'AlertResolved';
  if (!before) {
    // An INSERT, or a MODIFY without a usable old image: what the alert is now says which.
    if (after.status === 'resolved') type = 'AlertResolved';
    else type = name === 'INSERT' ? 'AlertOpened' : 'AlertUpdated';
  } else if (after.status === 'resolved') {
    if (before.status === 'resolved') return [];
    type = 'AlertResolved';
  } else if (before.severity !== after.severity || before.available !== after.available) {
    type = 'AlertUpdated';
  } else {
    return [];
  }
  return [
    domainEvent(type, {
      ...meta(type, record, after),
      alert_id: after.alert_id,
      sku_id: after.sku_id,
      warehouse_id: after.warehouse_id,
      severity: after.severity,
      status: after.status,
      available: after.available,
      reorder_point: after.reorder_point,
      safety_stock: after.safety_stock,
      days_of_cover: after.days_of_cover,
      opened_at: after.opened_at,
      version: after.version,
    }),
  ];
};

/** `MovementRecorded:<pk>:<sk>`: a ledger row is written once (its put requires the key to be absent), so its key is its identity. */
export const movementEventId = (item: { pk: string; sk: string }): string => `MovementRecorded:${item.pk}:${item.sk}`;

const movementEvents = (item: Item): DomainEvent[] => {
  const row = parse(movementItem, item, 'movement');
  const detail: MovementRecordedDetail = parse(
    movementRecordedDetail,
    {
      // The key rides along only for the error message; the schema strips it.
      pk: row.pk,
      sk: row.sk,
      event_id: movementEventId(row),
      schema_version: SCHEMA_VERSION,
      occurred_at: row.created_at,
      ...movementColumns({ ...row, tenant_id: tenantOf(row) }),
    },
    'movement',
  );
  return [domainEvent('MovementRecorded', detail)];
};

const forecastRunItem = imageOf.extend({ run_id: z.string() });
const forecastChunkItem = imageOf.extend({ run_id: z.string(), chunk: count, key: z.string() });

const forecastEvents = (record: DynamoDBRecord, item: Item): DomainEvent[] => {
  if (item.entity === 'forecast_run') {
    const run = parse(forecastRunItem, item, 'forecast run');
    return [domainEvent('ForecastRunRequested', { ...metaOf('ForecastRunRequested', record, run), run_id: run.run_id })];
  }
  const chunk = parse(forecastChunkItem, item, 'forecast chunk');
  return [domainEvent('ForecastChunkReady', { ...metaOf('ForecastChunkReady', record, chunk), run_id: chunk.run_id, chunk: chunk.chunk, key: chunk.key })];
};

const reconciliationItem = imageOf.extend({ channel_id: z.string(), reconciliation_id: z.string(), status: z.string(), chunk: count });

const reconciliationEvents = (record: DynamoDBRecord, name: 'INSERT' | 'MODIFY', item: Item, oldItem: Item | undefined): DomainEvent[] => {
  const run = parse(reconciliationItem, item, 'channel reconciliation');
  const before = oldItem ? parse(reconciliationItem, oldItem, 'channel reconciliation') : undefined;
  // Starting, counting and finishing a chunk change the run too; only a new run, or a chunk's end that moved it to the next, asks for work.
  const due = name === 'INSERT' ? run.status === 'requested' : run.status === 'running' && before !== undefined && run.chunk > before.chunk;
  if (!due) return [];
  return [
    domainEvent('ChannelReconciliationRequested', {
      ...metaOf('ChannelReconciliationRequested', record, run),
      channel_id: run.channel_id,
      reconciliation_id: run.reconciliation_id,
      chunk: run.chunk,
    }),
  ];
};

export const eventsFromRecord = (record: DynamoDBRecord): DomainEvent[] => {
  // The declared type says INSERT | MODIFY | REMOVE; DynamoDB Local's TTL deletions carry other names.
  const name = record.eventName;
  if (name !== 'INSERT' && name !== 'MODIFY') return [];
  const item = image(record.dynamodb?.NewImage);
  if (!item) return [];
  const events = itemEvents(record, name, item, image(record.dynamodb?.OldImage));
  // The writer's correlation id (functions/platform/writes.ts stamps it) rides on to the consumers.
  const correlation = item[CORRELATION_ATTRIBUTE];
  if (typeof correlation !== 'string') return events;
  for (const event of events) event.detail.log_correlation_id = correlation;
  return events;
};

const itemEvents = (record: DynamoDBRecord, name: 'INSERT' | 'MODIFY', item: Item, oldItem: Item | undefined): DomainEvent[] => {
  switch (item.entity) {
    case 'order':
      return orderEvents(record, name, item, oldItem);
    case 'stock_level':
      return stockEvents(record, name, item, oldItem);
    case 'alert':
      return alertEvents(record, name, item, oldItem);
    case 'movement':
      return name === 'INSERT' ? movementEvents(item) : [];
    case 'forecast_run':
    case 'forecast_chunk':
      return name === 'INSERT' ? forecastEvents(record, item) : [];
    case 'channel_reconciliation':
      return reconciliationEvents(record, name, item, oldItem);
    default:
      return [];
  }
};
