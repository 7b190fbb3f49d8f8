import * as z from 'zod';
import { SEVERITIES } from '../alerts/model';
import { idSchema } from '../platform/ids';
import { CHANNELS } from './model';

/** Request and response schemas of subscriptions and the local outbox. */

export const scopeSchema = z.union([
  z.strictObject({ sku_id: idSchema }),
  z.strictObject({ warehouse_id: idSchema }),
  z.strictObject({ all: z.literal(true) }),
  z.strictObject({ operations: z.literal(true) }),
]);

export const subscribeBody = z.strictObject({
  scope: scopeSchema.describe('one SKU (any warehouse), one warehouse (any SKU), every stock alert, or (admins only) the operational alerts: the system\'s own alarms, raised and resolved'),
  channel: z.enum(CHANNELS),
  target: z.string().min(1).max(2048).describe('email address, E.164 phone number, or https URL (webhook)'),
  min_severity: z.enum(SEVERITIES).default('normal').describe('the least severe alert to hear about'),
});

export const subscriptionResponse = z.strictObject({
  subscription_id: z.string(),
  scope: scopeSchema,
  channel: z.enum(CHANNELS),
  target: z.string(),
  min_severity: z.enum(SEVERITIES),
  created_at: z.string(),
  created_by: z.string(),
});

export const createdSubscriptionResponse = subscriptionResponse.extend({
  secret: z
    .string()
    .optional()
    .describe('webhooks only, returned this once: X-Stockroom-Signature is sha256=<hex HMAC-SHA256 of the raw body with it>'),
});

export const listSubscriptionsQuery = z.strictObject({
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export const subscriptionListResponse = z.strictObject({ subscriptions: z.array(subscriptionResponse), next_cursor: z.string().nullable() });

export const subscriptionParams = z.strictObject({ subscription_id: idSchema });

export const listNotificationsQuery = listSubscriptionsQuery;

export const notificationResponse = z.strictObject({
  notification_id: z.string(),
  channel: z.enum(['email', 'sms']),
  target: z.string().describe("redacted (j***@example.com, +***0123) for roles without 'subscriptions:read'"),
  subscription_id: z.string(),
  alert_id: z.string(),
  event_type: z.string(),
  severity: z.enum(SEVERITIES),
  subject: z.string(),
  text: z.string(),
  created_at: z.string(),
});

export const notificationListResponse = z.strictObject({ notifications: z.array(notificationResponse), next_cursor: z.string().nullable() });
