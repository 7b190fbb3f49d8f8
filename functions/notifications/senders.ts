import { traced } from '../platform/tracing';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { createHmac } from 'node:crypto';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Db } from '../platform/db';
import { guardedLookup, systemResolver, type Resolver } from './addresses';
import { isLocalMode, SENDER_EMAIL_ENV } from './model';
import type { Delivery, Senders } from './notify';
import { writeOutbox } from './outbox';
import { webhookUrlProblem } from './targets';

/** `sha256=<hex HMAC-SHA256 of the raw body, keyed with the subscription's secret>`. */
export const signature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

export const SIGNATURE_HEADER = 'X-Stockroom-Signature';
export const TIMESTAMP_HEADER = 'X-Stockroom-Timestamp';

/** The JSON a webhook receives: the alert event (or the operational alert), which delivery it is, and when it was sent (the timestamp header's value too). */
export const webhookBody = (delivery: Delivery, timestamp: string): string =>
  JSON.stringify({
    type: delivery.event_type,
    delivery_id: delivery.delivery_id,
    event_id: delivery.event_id,
    subscription_id: delivery.subscription.subscription_id,
    timestamp,
    ...delivery.payload,
  });

/** One POST, answering the status line only; a redirect is not followed (node:http never follows one). */
const post = (url: URL, options: RequestOptions, body: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { ...options, method: 'POST', headers: { ...options.headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      // The receiver's body is of no interest: drained, not read.
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });

/**
 * HTTPS POST (plain http to loopback in local mode). Anything but a 2xx, a
 * timeout or a network error throws, so the message is retried. Redirects
 * are not followed (a 3xx is a failed delivery: a redirect could lead
 * anywhere). Outside local mode the target is checked again at every
 * delivery, not only at subscribe time: an address literal by
 * webhookUrlProblem, a name by the guarded lookup the socket connects
 * through, which resolves it, refuses it if any address is not public, and
 * connects only to the addresses it checked (no second resolution an
 * attacker's DNS could answer differently).
 */
export const webhookSender =
  (options: { local?: boolean; timeoutMs?: number; now?: () => Date; resolve?: Resolver } = {}) =>
  async (delivery: Delivery): Promise<void> => {
    const { target, secret } = delivery.subscription;
    const local = options.local ?? isLocalMode();
    const problem = webhookUrlProblem(target, local);
    if (problem) throw new Error(`webhook target refused: ${problem}`);
    if (!secret) throw new Error('webhook subscription has no secret');
    const timestamp = (options.now ?? (() => new Date()))().toISOString();
    const body = webhookBody(delivery, timestamp);
    const status = await post(
      new URL(target),
      {
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
        ...(local ? {} : { lookup: guardedLookup(options.resolve ?? systemResolver) }),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Stockroom-Webhooks/1',
          [SIGNATURE_HEADER]: signature(secret, body),
          [TIMESTAMP_HEADER]: timestamp,
          'X-Stockroom-Delivery': delivery.delivery_id,
        },
      },
      body,
    );
    if (status >= 300 && status < 400) throw new Error(`webhook answered ${status}: redirects are not followed`);
    if (status < 200 || status >= 300) throw new Error(`webhook answered ${status}`);
  };

/** In AWS: SES (v2) for email from the verified sender identity, SNS direct publish for SMS, HTTPS for webhooks. */
export const awsSenders = (options: { senderEmail?: string } = {}): Senders => {
  let ses: SESv2Client | undefined;
  let sns: SNSClient | undefined;
  return {
    email: async (d) => {
      const from = options.senderEmail ?? process.env[SENDER_EMAIL_ENV];
      if (!from) throw new Error(`${SENDER_EMAIL_ENV} is not set: no sender identity for email`);
      ses ??= traced(new SESv2Client({}));
      await ses.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [d.subscription.target] },
          Content: { Simple: { Subject: { Data: d.subject, Charset: 'UTF-8' }, Body: { Text: { Data: d.text, Charset: 'UTF-8' } } } },
        }),
      );
    },
    sms: async (d) => {
      sns ??= traced(new SNSClient({}));
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
