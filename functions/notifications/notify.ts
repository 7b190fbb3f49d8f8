import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Alert } from '../alerts/model';
import { severityRank } from '../alerts/rules';
import type { AlertEventDetail } from '../events/model';
import { getItem } from '../inventory/store';
import type { Db } from '../platform/db';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import { TABLE } from '../platform/table';
import { DEFAULT_THROTTLE_SECONDS, notificationKeys, THROTTLE_ENV, type StoredSubscription } from './model';
import { matchingSubscriptions } from './subscriptions';

/** The alert events that notify (AlertResolved does not: the consumer's rule does not route it here). */
export const NOTIFYING_EVENTS = ['AlertOpened', 'AlertUpdated'] as const;
export type NotifyingEvent = (typeof NOTIFYING_EVENTS)[number];

/** One notification to send: a subscription, the alert event, and the message in words. */
export interface Delivery {
  /** `<subscription_id>:<alert_id>:<window start>`: the same for every attempt of this delivery. */
  delivery_id: string;
  event_type: NotifyingEvent;
  event_id: string;
  subscription: StoredSubscription;
  alert: AlertEventDetail;
  subject: string;
  text: string;
}

/** The channels, passed in: SES/SNS/HTTPS in AWS, the outbox and real webhook POSTs locally, fakes in tests. A failure throws. */
export interface Senders {
  email: (delivery: Delivery) => Promise<void>;
  sms: (delivery: Delivery) => Promise<void>;
  webhook: (delivery: Delivery) => Promise<void>;
}

export interface NotifyDeps {
  db: Db;
  senders: Senders;
  now?: () => Date;
  /** One notification per subscription per alert per window of this length (default NOTIFY_THROTTLE_SECONDS or 1 h). */
  throttleSeconds?: number;
  /** How long a claimed delivery is reserved for its sender before another attempt may take it over. */
  leaseSeconds?: number;
}

export const throttleSecondsFromEnv = (): number => {
  const value = Number(process.env[THROTTLE_ENV]);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_THROTTLE_SECONDS;
};

/**
 * The start of the throttle window the event falls in. Windows are counted
 * from the alert's `opened_at` (the first notification opens the first
 * window), and from the event's own time, so a redelivered event lands in
 * the window it did the first time.
 */
export const windowStart = (openedAt: string, occurredAt: string, throttleSeconds: number): string => {
  const opened = Date.parse(openedAt);
  const at = Math.max(Date.parse(occurredAt), opened);
  const size = throttleSeconds * 1000;
  return new Date(opened + Math.floor((at - opened) / size) * size).toISOString();
};

export const messageOf = (type: NotifyingEvent, alert: AlertEventDetail): { subject: string; text: string } => ({
  subject: `[Stockroom] ${alert.severity} low stock: ${alert.sku_id} at ${alert.warehouse_id}`,
  text:
    `Low-stock alert ${alert.alert_id} ${type === 'AlertOpened' ? 'opened' : 'updated'} (${alert.severity}): ` +
    `SKU ${alert.sku_id} at warehouse ${alert.warehouse_id} has ${alert.available} available; ` +
    `reorder point ${alert.reorder_point}, safety stock ${alert.safety_stock}, ` +
    `days of cover ${alert.days_of_cover ?? 'unknown'}.`,
});

const isConditionFailure = (error: unknown): boolean => (error as Error).name === 'ConditionalCheckFailedException';

export interface NotifyOutcome {
  sent: string[];
  /** Deliveries already made (or being made) in this window. */
  throttled: string[];
  /** Why the event notified nobody, if so. */
  skipped?: 'not_notifying' | 'alert_gone' | 'alert_resolved';
}

/**
 * The notification consumer's domain function: one AlertOpened/AlertUpdated
 * to every matching subscription, at most once per subscription, alert and
 * throttle window.
 *
 * Per subscription: (1) claim the delivery record
 * (`T#t#DELIVERY#<sub>#<alert>` / window start) with a conditional Put:
 * absent, or `pending` with an expired lease; a record that is `sent`, or
 * pending under a live lease, means someone else delivers this window: skip.
 * (2) Send. (3) Mark it `sent` (conditional on our claim token). If the send
 * fails, the claim is deleted, the other subscriptions still get theirs, and
 * the function throws at the end so SQS redelivers the message (backoff by
 * visibility timeout, then the DLQ): subscriptions already served are `sent`
 * and are skipped on the retry. A crash between (2) and (3) leaves a pending
 * claim whose lease expires, so a retry may send that one again: at least
 * once in that case, never twice otherwise.
 */
export const notifyAlert = async (deps: NotifyDeps, type: string, alert: AlertEventDetail): Promise<NotifyOutcome> => {
  const { db, senders } = deps;
  const now = deps.now ?? (() => new Date());
  const throttle = deps.throttleSeconds ?? throttleSecondsFromEnv();
  const leaseMs = (deps.leaseSeconds ?? 60) * 1000;
  const outcome: NotifyOutcome = { sent: [], throttled: [] };
  if (!(NOTIFYING_EVENTS as readonly string[]).includes(type)) return { ...outcome, skipped: 'not_notifying' };
  const tenantId = alert.tenant_id;
  // A late or reordered event for an alert that has since resolved tells nobody anything useful.
  const current = await getItem<Alert>(db, keys.alert(tenantId, alert.alert_id));
  if (!current) return { ...outcome, skipped: 'alert_gone' };
  if (current.status === 'resolved') return { ...outcome, skipped: 'alert_resolved' };
  const window = windowStart(alert.opened_at, alert.occurred_at, throttle);
  const windowEnd = Date.parse(window) + throttle * 1000;
  const { subject, text } = messageOf(type as NotifyingEvent, alert);
  const failures: string[] = [];
  for (const subscription of await matchingSubscriptions(db, tenantId, alert)) {
    const key = notificationKeys.delivery(tenantId, subscription.subscription_id, alert.alert_id, window);
    const deliveryId = `${subscription.subscription_id}:${alert.alert_id}:${window}`;
    const token = randomUUID();
    const at = now();
    try {
      await db.client.send(
        new PutCommand({
          TableName: db.table,
          Item: {
            ...key,
            entity: 'notification_delivery',
            tenant_id: tenantId,
            subscription_id: subscription.subscription_id,
            alert_id: alert.alert_id,
            channel: subscription.channel,
            event_id: alert.event_id,
            status: 'pending',
            claim: token,
            lease_until: at.getTime() + leaseMs,
            claimed_at: at.toISOString(),
            // Kept a day past its window, then TTL removes it.
            [TABLE.ttlAttribute]: Math.floor(windowEnd / 1000) + 24 * 60 * 60,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :pending AND lease_until < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':now': at.getTime() },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      outcome.throttled.push(deliveryId);
      continue;
    }
    try {
      await senders[subscription.channel]({ delivery_id: deliveryId, event_type: type as NotifyingEvent, event_id: alert.event_id, subscription, alert, subject, text });
    } catch (error) {
      log.warn('notification failed; it will be retried', { delivery_id: deliveryId, channel: subscription.channel, error: (error as Error).message });
      failures.push(`${deliveryId}: ${(error as Error).message}`);
      await db.client
        .send(
          new DeleteCommand({
            TableName: db.table,
            Key: key,
            ConditionExpression: 'claim = :claim',
            ExpressionAttributeValues: { ':claim': token },
          }),
        )
        .catch((e: unknown) => log.warn('could not release a delivery claim; its lease will expire', { delivery_id: deliveryId, error: (e as Error).message }));
      continue;
    }
    await db.client.send(
      new UpdateCommand({
        TableName: db.table,
        Key: key,
        UpdateExpression: 'SET #status = :sent, sent_at = :at REMOVE lease_until',
        ConditionExpression: 'claim = :claim',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':sent': 'sent', ':at': now().toISOString(), ':claim': token },
      }),
    );
    outcome.sent.push(deliveryId);
  }
  if (failures.length) throw new Error(`${failures.length} notification(s) failed: ${failures.join('; ')}`);
  return outcome;
};

type AlertBusEvent = EventBridgeEvent<string, AlertEventDetail>;

/** Most urgent first (critical, high, normal), otherwise in the order given. */
export const byUrgency = <T extends { event: AlertBusEvent }>(items: T[]): T[] =>
  items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => severityRank(a.item.event.detail.severity) - severityRank(b.item.event.detail.severity) || a.index - b.index)
    .map(({ item }) => item);

/**
 * The SQS handler body: parse every message, handle them most urgent first,
 * one at a time, and report each failed (or unreadable) message in
 * `batchItemFailures`, so SQS redelivers only those and dead-letters them
 * after the queue's maxReceives.
 */
export const notifyBatch = async (deps: NotifyDeps, event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const parsed: { messageId: string; event: AlertBusEvent }[] = [];
  for (const record of event.Records) {
    try {
      const body = JSON.parse(record.body) as AlertBusEvent;
      if (!body || typeof body !== 'object' || !body.detail || typeof body.detail.alert_id !== 'string') throw new Error('the message is not an alert event');
      parsed.push({ messageId: record.messageId, event: body });
    } catch (error) {
      log.error('notification consumer got an unreadable message', { message_id: record.messageId, error: (error as Error).message });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  for (const { messageId, event: e } of byUrgency(parsed)) {
    try {
      await notifyAlert(deps, e['detail-type'], e.detail);
    } catch (error) {
      log.error('notification consumer failed a message', { message_id: messageId, error: (error as Error).message });
      batchItemFailures.push({ itemIdentifier: messageId });
    }
  }
  return { batchItemFailures };
};
