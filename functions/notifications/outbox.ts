import type { Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { newId } from '../platform/ids';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import { queryPage } from '../platform/storage';
import { writeOne } from '../platform/writes';
import type { OutboxEntry } from './model';
import type { Delivery } from './notify';
import { decodeOutboxEntry, outboxWrite } from './store';

/**
 * The local stand-in for SES and SNS: each email or SMS becomes an outbox
 * item (`T#t#OUTBOX` / ULID, so the list is oldest first) and a log line.
 * GET /api/notifications reads it.
 */
export const writeOutbox = async (db: Db, delivery: Delivery, now: Date = new Date()): Promise<OutboxEntry> => {
  const tenantId = delivery.alert.tenant_id;
  const { channel } = delivery.subscription;
  if (channel === 'webhook') throw new Error('webhooks are POSTed, not written to the outbox');
  const entry: OutboxEntry = {
    notification_id: newId(),
    channel,
    target: delivery.subscription.target,
    subscription_id: delivery.subscription.subscription_id,
    alert_id: delivery.alert.alert_id,
    event_type: delivery.event_type,
    severity: delivery.alert.severity,
    subject: delivery.subject,
    text: delivery.text,
    created_at: now.toISOString(),
  };
  await writeOne(db, outboxWrite(db, tenantId, entry));
  log.info('notification (local outbox)', { tenant_id: tenantId, ...entry });
  return entry;
};

export const listOutbox = async ({ db, ctx }: Deps, query: { cursor?: string; limit?: number }) => {
  const page = await queryPage(db, { partition: keys.outbox(ctx.caller.tenantId), cursor: query.cursor, limit: query.limit }, decodeOutboxEntry);
  return { notifications: page.items, next_cursor: page.next_cursor };
};
