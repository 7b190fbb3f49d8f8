import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { findAlert } from '../alerts/alerts';
import type { Severity } from '../alerts/model';
import { severityRank } from '../alerts/rules';
import { alertEventDetail, type AlertEventDetail } from '../events/model';
import { consumeSqs } from '../events/sqs-consumer';
import { systemContext, type Deps } from '../platform/context';
import { errorMessage } from '../platform/errors';
import { log } from '../platform/log';
import { countMetric, METRIC_NAMES } from '../platform/metrics';
import { ConditionFailed, writeOne } from '../platform/writes';
import { DEFAULT_THROTTLE_SECONDS, THROTTLE_ENV, type StoredSubscription } from './model';
import { deliveryClaim, deliveryRelease, deliverySent, type DeliveryRecord } from './store';
import { matchingSubscriptions } from './subscriptions';

/** The alert events that notify (AlertResolved does not: the consumer's rule does not route it here). */
export const NOTIFYING_EVENTS = ['AlertOpened', 'AlertUpdated'] as const;
export type NotifyingEvent = (typeof NOTIFYING_EVENTS)[number];
const isNotifying = (type: string): type is NotifyingEvent => NOTIFYING_EVENTS.some((notifying) => notifying === type);

/** One notification to send: a subscription, what it is about, and the message in words. */
export interface Delivery {
  /** `<subscription_id>:<notice_id>:<window start>`: the same for every attempt of this delivery. */
  delivery_id: string;
  /** AlertOpened or AlertUpdated; OperationalAlertRaised or OperationalAlertResolved. */
  event_type: string;
  event_id: string;
  subscription: StoredSubscription;
  tenant_id: string;
  /** What is notified: a stock alert's alert_id, or an operational alert's (`ops:<alarm name>`). */
  notice_id: string;
  severity: Severity;
  subject: string;
  text: string;
  /** What a webhook receives beside the delivery's ids: `{ alert }` (the alert event) or `{ operational_alert }`. */
  payload: Readonly<Record<string, unknown>>;
}

/** The channels, passed in: SES/SNS/HTTPS in AWS, the outbox and real webhook POSTs locally, fakes in tests. A failure throws. */
export interface Senders {
  email: (delivery: Delivery) => Promise<void>;
  sms: (delivery: Delivery) => Promise<void>;
  webhook: (delivery: Delivery) => Promise<void>;
}

export interface NotifyDeps extends Deps {
  senders: Senders;
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
  const throttle = deps.throttleSeconds ?? throttleSecondsFromEnv();
  const outcome: NotifyOutcome = { sent: [], throttled: [] };
  if (!isNotifying(type)) return { ...outcome, skipped: 'not_notifying' };
  // A late or reordered event for an alert that has since resolved tells nobody anything useful.
  const current = await findAlert(deps, alert.alert_id);
  if (!current) return { ...outcome, skipped: 'alert_gone' };
  if (current.status === 'resolved') return { ...outcome, skipped: 'alert_resolved' };
  const window = windowStart(alert.opened_at, alert.occurred_at, throttle);
  const { subject, text } = messageOf(type, alert);
  return deliverOnce(deps, await matchingSubscriptions(deps, alert), {
    noticeId: alert.alert_id,
    windowStart: window,
    windowEnd: Date.parse(window) + throttle * 1000,
    eventType: type,
    eventId: alert.event_id,
    severity: alert.severity,
    subject,
    text,
    payload: { alert },
  });
};

/** One notice to deliver to some subscriptions, once each per window. */
export interface Notice {
  noticeId: string;
  windowStart: string;
  /** Epoch ms the window ends (the delivery record's TTL follows it). */
  windowEnd: number;
  eventType: string;
  eventId: string;
  severity: Severity;
  subject: string;
  text: string;
  payload: Readonly<Record<string, unknown>>;
}

/**
 * The delivery loop every notice goes through (stock alerts here, operational alerts in
 * functions/operations): per subscription, claim the delivery record of this notice and window,
 * send, mark it sent; see notifyAlert. Throws at the end if any send failed, after the others.
 */
export const deliverOnce = async (deps: NotifyDeps, subscriptions: readonly StoredSubscription[], notice: Notice): Promise<NotifyOutcome> => {
  const { db, ctx, senders } = deps;
  const leaseMs = (deps.leaseSeconds ?? 60) * 1000;
  const tenantId = ctx.caller.tenantId;
  const outcome: NotifyOutcome = { sent: [], throttled: [] };
  const failures: string[] = [];
  for (const subscription of subscriptions) {
    const record: DeliveryRecord = { tenantId, subscriptionId: subscription.subscription_id, alertId: notice.noticeId, windowStart: notice.windowStart };
    const deliveryId = `${subscription.subscription_id}:${notice.noticeId}:${notice.windowStart}`;
    const token = randomUUID();
    const claim = deliveryClaim(db, record, { token, channel: subscription.channel, eventId: notice.eventId, at: ctx.now(), leaseMs, windowEnd: notice.windowEnd });
    try {
      await writeOne(db, claim);
    } catch (error) {
      if (!(error instanceof ConditionFailed)) throw error;
      outcome.throttled.push(deliveryId);
      continue;
    }
    try {
      await senders[subscription.channel]({
        delivery_id: deliveryId,
        event_type: notice.eventType,
        event_id: notice.eventId,
        subscription,
        tenant_id: tenantId,
        notice_id: notice.noticeId,
        severity: notice.severity,
        subject: notice.subject,
        text: notice.text,
        payload: notice.payload,
      });
    } catch (error) {
      log.warn('notification failed; it will be retried', { delivery_id: deliveryId, channel: subscription.channel, error: errorMessage(error) });
      countMetric(METRIC_NAMES.notificationFailures);
      failures.push(`${deliveryId}: ${errorMessage(error)}`);
      await writeOne(db, deliveryRelease(db, record, token)).catch((e: unknown) =>
        log.warn('could not release a delivery claim; its lease will expire', { delivery_id: deliveryId, error: errorMessage(e) }),
      );
      continue;
    }
    await writeOne(db, deliverySent(db, record, token, ctx.now()));
    countMetric(METRIC_NAMES.notificationsSent);
    outcome.sent.push(deliveryId);
  }
  if (failures.length) throw new Error(`${failures.length} notification(s) failed: ${failures.join('; ')}`);
  return outcome;
};

/** Most urgent first (critical, high, normal), otherwise in the order given. */
export const byUrgency = <T extends { event: { detail: { severity: Severity } } }>(items: T[]): T[] =>
  items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => severityRank(a.item.event.detail.severity) - severityRank(b.item.event.detail.severity) || a.index - b.index)
    .map(({ item }) => item);

/** What the consumer runs with; each message gets its own system context (with this clock, for tests). */
export interface NotifierDeps extends Omit<NotifyDeps, 'ctx'> {
  now?: () => Date;
}

/**
 * The SQS handler body: every message parsed as an alert event, handled most
 * urgent first, one at a time, each for its own tenant; each failed (or
 * unreadable) message is reported in `batchItemFailures`, so SQS redelivers
 * only those and dead-letters them after the queue's maxReceives.
 */
export const notifyBatch = ({ now, ...deps }: NotifierDeps, event: SQSEvent): Promise<SQSBatchResponse> =>
  consumeSqs(
    event,
    alertEventDetail,
    (e) =>
      notifyAlert(
        { ...deps, ctx: systemContext({ tenantId: e.detail.tenant_id, actor: 'system:notifier', requestId: e.detail.event_id, now }) },
        e['detail-type'],
        e.detail,
      ),
    { order: byUrgency },
  );
