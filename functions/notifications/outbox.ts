import { callerMay, type Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { newId } from '../platform/ids';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import { queryPage } from '../platform/storage';
import { writeOne } from '../platform/writes';
import type { Channel, OutboxEntry } from './model';
import type { Delivery } from './notify';
import { decodeOutboxEntry, outboxWrite } from './store';

/**
 * The local stand-in for SES and SNS: each email or SMS becomes an outbox
 * item (`T#t#OUTBOX` / ULID, so the list is oldest first) and a log line.
 * GET /api/notifications reads it.
 */
export const writeOutbox = async (db: Db, delivery: Delivery, now: Date = new Date()): Promise<OutboxEntry> => {
  const tenantId = delivery.tenant_id;
  const { channel } = delivery.subscription;
  if (channel === 'webhook') throw new Error('webhooks are POSTed, not written to the outbox');
  const entry: OutboxEntry = {
    notification_id: newId(),
    channel,
    target: delivery.subscription.target,
    subscription_id: delivery.subscription.subscription_id,
    alert_id: delivery.notice_id,
    event_type: delivery.event_type,
    severity: delivery.severity,
    subject: delivery.subject,
    text: delivery.text,
    created_at: now.toISOString(),
  };
  await writeOne(db, outboxWrite(db, tenantId, entry));
  log.info('notification (local outbox)', { tenant_id: tenantId, ...entry });
  return entry;
};

/**
 * A target shown to a caller who may not read subscriptions (a viewer):
 * enough to tell notifications apart, not enough to contact anyone. An
 * email keeps its first character and its domain (`j***@example.com`), a
 * phone number its last four digits (`+***0123`, hiding its length too), a
 * webhook only its scheme and host (`https://hooks.example.com/…`: the path
 * and query may carry a token).
 */
export const redactTarget = (channel: Channel, target: string): string => {
  switch (channel) {
    case 'email': {
      const at = target.lastIndexOf('@');
      return at > 0 ? `${target.slice(0, 1)}***${target.slice(at)}` : '***';
    }
    case 'sms':
      return `+***${target.slice(-4)}`;
    case 'webhook':
      return URL.canParse(target) ? `${new URL(target).origin}/…` : '***';
  }
};

/** GET /api/notifications: everyone with `alerts:read` sees the outbox; only callers with `subscriptions:read` see whole targets. */
export const listOutbox = async ({ db, ctx }: Deps, query: { cursor?: string; limit?: number }) => {
  const page = await queryPage(db, { partition: keys.outbox(ctx.caller.tenantId), cursor: query.cursor, limit: query.limit }, decodeOutboxEntry);
  const wholeTargets = callerMay(ctx.caller, 'subscriptions:read');
  const notifications = wholeTargets ? page.items : page.items.map((entry) => ({ ...entry, target: redactTarget(entry.channel, entry.target) }));
  return { notifications, next_cursor: page.next_cursor };
};
