import type { Severity } from '../alerts/model';

/**
 * Alert subscriptions and their notifications: who hears about which alerts,
 * by which channel. docs/architecture.md ("Notifications") explains delivery.
 */
export const CHANNELS = ['email', 'sms', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

/** A stock alert's SKU, warehouse or every stock alert; or `operations`: the deployment's operational alerts (admins only). */
export type Scope = { sku_id: string } | { warehouse_id: string } | { all: true } | { operations: true };

export interface Subscription {
  subscription_id: string;
  scope: Scope;
  channel: Channel;
  /** An email address, an E.164 phone number or an https URL (http to loopback only in local mode). */
  target: string;
  /** The least severe alert this subscription hears about. */
  min_severity: Severity;
  created_at: string;
  created_by: string;
}

/** As stored: webhooks also carry the HMAC secret (never returned after creation). */
export interface StoredSubscription extends Subscription {
  secret?: string;
}

/**
 * Env var the local runtime sets (bin/local.ts, the integration tests): only
 * then may a webhook target be plain http, and only to a loopback host; and
 * email and SMS go to the outbox instead of SES and SNS.
 */
export const LOCAL_MODE_ENV = 'STOCKROOM_LOCAL';
export const isLocalMode = (): boolean => process.env[LOCAL_MODE_ENV] === '1';

/** One notification per subscription per alert per window; env NOTIFY_THROTTLE_SECONDS overrides. */
export const DEFAULT_THROTTLE_SECONDS = 60 * 60;
export const THROTTLE_ENV = 'NOTIFY_THROTTLE_SECONDS';
/** The verified SES identity email goes out from (CDK sets it from a stack parameter). */
export const SENDER_EMAIL_ENV = 'NOTIFY_SENDER_EMAIL';

/** A local outbox entry (what SES or SNS would have sent). */
export interface OutboxEntry {
  notification_id: string;
  channel: 'email' | 'sms';
  target: string;
  subscription_id: string;
  alert_id: string;
  event_type: string;
  severity: Severity;
  subject: string;
  text: string;
  created_at: string;
}
