import type { Db } from '../platform/db';
import { keys } from '../platform/keys';
import { decodeWith } from '../platform/storage';
import { TABLE } from '../platform/table';
import { deleteItem, putItem, updateItem, when, type Write } from '../platform/writes';
import type { OutboxEntry, StoredSubscription } from './model';
import { createdSubscriptionResponse, notificationResponse } from './schemas';

/**
 * Notifications' own storage (private to functions/notifications): the
 * decoders of subscriptions and outbox entries, and the writes of
 * subscriptions, delivery records and outbox entries.
 */
export const decodeSubscription = decodeWith('subscription', createdSubscriptionResponse.loose());
export const decodeOutboxEntry = decodeWith('outbox entry', notificationResponse.loose());

/** A new subscription, indexed on gsi1 under its scope (what matchingSubscriptions reads). */
export const subscriptionWrite = (db: Db, tenantId: string, subscription: StoredSubscription): Write =>
  putItem(db, {
    name: 'subscription',
    key: keys.subscription(tenantId, subscription.subscription_id),
    index: { gsi1pk: keys.subscribersIndex(tenantId, subscription.scope), gsi1sk: subscription.subscription_id },
    entity: 'subscription',
    tenantId,
    value: subscription,
    when: when.absent(),
  });

export const outboxWrite = (db: Db, tenantId: string, entry: OutboxEntry): Write =>
  putItem(db, {
    name: 'outbox entry',
    key: keys.outboxEntry(tenantId, entry.notification_id),
    entity: 'outbox',
    tenantId,
    value: entry,
    when: when.absent(),
  });

/** One delivery of an alert to a subscription in one throttle window (keys.delivery). */
export interface DeliveryRecord {
  tenantId: string;
  subscriptionId: string;
  alertId: string;
  windowStart: string;
}

const deliveryKey = (d: DeliveryRecord) => keys.delivery(d.tenantId, d.subscriptionId, d.alertId, d.windowStart);

/**
 * Claims a delivery for one sender: the record is absent, or `pending` under
 * a lease that has run out (its sender died). A `sent` record, or a pending
 * one under a live lease, fails the condition: someone else delivers this window.
 */
export const deliveryClaim = (
  db: Db,
  d: DeliveryRecord,
  claim: { token: string; channel: string; eventId: string; at: Date; leaseMs: number; windowEnd: number },
): Write =>
  putItem(db, {
    name: 'delivery claim',
    key: deliveryKey(d),
    entity: 'notification_delivery',
    tenantId: d.tenantId,
    value: {
      subscription_id: d.subscriptionId,
      alert_id: d.alertId,
      channel: claim.channel,
      event_id: claim.eventId,
      status: 'pending',
      claim: claim.token,
      lease_until: claim.at.getTime() + claim.leaseMs,
      claimed_at: claim.at.toISOString(),
      // Kept a day past its window, then TTL removes it.
      [TABLE.ttlAttribute]: Math.floor(claim.windowEnd / 1000) + 24 * 60 * 60,
    },
    when: when.or(when.absent(), when.and(when.equals('status', 'pending'), when.below('lease_until', claim.at.getTime()))),
  });

/** Gives a claim up (the send failed), if it is still ours. */
export const deliveryRelease = (db: Db, d: DeliveryRecord, token: string): Write =>
  deleteItem(db, { name: 'delivery release', key: deliveryKey(d), when: when.equals('claim', token) });

/** The delivery went out under our claim: `sent`, and the lease is gone. */
export const deliverySent = (db: Db, d: DeliveryRecord, token: string, at: Date): Write =>
  updateItem(db, {
    name: 'delivery sent',
    key: deliveryKey(d),
    set: { status: 'sent', sent_at: at.toISOString() },
    remove: ['lease_until'],
    when: when.equals('claim', token),
  });
