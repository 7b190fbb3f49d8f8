import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { queryPage } from '../inventory/store';
import type { Db } from '../platform/db';
import type { RequestContext } from '../platform/http';
import { newId } from '../platform/ids';
import { log } from '../platform/log';
import { notificationKeys, type OutboxEntry } from './model';
import type { Delivery } from './notify';

/**
 * The local stand-in for SES and SNS: each email or SMS becomes an outbox
 * item (`T#t#OUTBOX` / ULID, so the list is oldest first) and a log line.
 * GET /api/notifications reads it.
 */
export const writeOutbox = async (db: Db, delivery: Delivery, now: Date = new Date()): Promise<OutboxEntry> => {
  const tenantId = delivery.alert.tenant_id;
  const entry: OutboxEntry = {
    notification_id: newId(),
    channel: delivery.subscription.channel as 'email' | 'sms',
    target: delivery.subscription.target,
    subscription_id: delivery.subscription.subscription_id,
    alert_id: delivery.alert.alert_id,
    event_type: delivery.event_type,
    severity: delivery.alert.severity,
    subject: delivery.subject,
    text: delivery.text,
    created_at: now.toISOString(),
  };
  await db.client.send(
    new PutCommand({
      TableName: db.table,
      Item: { pk: notificationKeys.outbox(tenantId), sk: entry.notification_id, entity: 'outbox', tenant_id: tenantId, ...entry },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  log.info('notification (local outbox)', { tenant_id: tenantId, ...entry });
  return entry;
};

export const listOutbox = async ({ db, ctx }: { db: Db; ctx: RequestContext }, query: { cursor?: string; limit?: number }) => {
  const page = await queryPage<OutboxEntry>(db, {
    partition: notificationKeys.outbox(ctx.caller.tenantId),
    ...(query.cursor ? { cursor: query.cursor } : {}),
    ...(query.limit ? { limit: query.limit } : {}),
  });
  return { notifications: page.items, next_cursor: page.next_cursor };
};
