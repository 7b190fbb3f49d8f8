import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { createHmac } from 'node:crypto';
import type { Db } from '../platform/db';
import { isLocalMode, SENDER_EMAIL_ENV } from './model';
import type { Delivery, Senders } from './notify';
import { writeOutbox } from './outbox';
import { webhookUrlProblem } from './targets';

/** `sha256=<hex HMAC-SHA256 of the raw body, keyed with the subscription's secret>`. */
export const signature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

export const SIGNATURE_HEADER = 'X-Stockroom-Signature';
export const TIMESTAMP_HEADER = 'X-Stockroom-Timestamp';

/** The JSON a webhook receives: the alert event, which delivery it is, and when it was sent (the timestamp header's value too). */
export const webhookBody = (delivery: Delivery, timestamp: string): string =>
  JSON.stringify({
    type: delivery.event_type,
    delivery_id: delivery.delivery_id,
    event_id: delivery.event_id,
    subscription_id: delivery.subscription.subscription_id,
    timestamp,
    alert: delivery.alert,
  });

/**
 * HTTPS POST (plain http to loopback in local mode). Redirects are not
 * followed (a redirect could lead anywhere); anything but a 2xx, a timeout
 * or a network error throws, so the message is retried.
 */
export const webhookSender =
  (options: { local?: boolean; timeoutMs?: number; now?: () => Date } = {}) =>
  async (delivery: Delivery): Promise<void> => {
    const { target, secret } = delivery.subscription;
    const problem = webhookUrlProblem(target, options.local ?? isLocalMode());
    if (problem) throw new Error(`webhook target refused: ${problem}`);
    if (!secret) throw new Error('webhook subscription has no secret');
    const timestamp = (options.now ?? (() => new Date()))().toISOString();
    const body = webhookBody(delivery, timestamp);
    const res = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Stockroom-Webhooks/1',
        [SIGNATURE_HEADER]: signature(secret, body),
        [TIMESTAMP_HEADER]: timestamp,
        'X-Stockroom-Delivery': delivery.delivery_id,
      },
      body,
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered ${res.status}`);
  };

/** In AWS: SES (v2) for email from the verified sender identity, SNS direct publish for SMS, HTTPS for webhooks. */
export const awsSenders = (options: { senderEmail?: string } = {}): Senders => {
  let ses: SESv2Client | undefined;
  let sns: SNSClient | undefined;
  return {
    email: async (d) => {
      const from = options.senderEmail ?? process.env[SENDER_EMAIL_ENV];
      if (!from) throw new Error(`${SENDER_EMAIL_ENV} is not set: no sender identity for email`);
      ses ??= new SESv2Client({});
      await ses.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [d.subscription.target] },
          Content: { Simple: { Subject: { Data: d.subject, Charset: 'UTF-8' }, Body: { Text: { Data: d.text, Charset: 'UTF-8' } } } },
        }),
      );
    },
    sms: async (d) => {
      sns ??= new SNSClient({});
      await sns.send(
        new PublishCommand({
          PhoneNumber: d.subscription.target,
          Message: d.text,
          MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
        }),
      );
    },
    webhook: webhookSender({ local: false }),
  };
};

/** Locally: email and SMS to the outbox (table + log), webhooks really POSTed. */
export const localSenders = (db: Db): Senders => ({
  email: async (d) => {
    await writeOutbox(db, d);
  },
  sms: async (d) => {
    await writeOutbox(db, d);
  },
  webhook: webhookSender({ local: true }),
});

/** What the handler uses: local mode (STOCKROOM_LOCAL=1) picks the outbox, otherwise AWS. */
export const sendersFromEnv = (db: Db): Senders => (isLocalMode() ? localSenders(db) : awsSenders());
