import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { consumeSqs } from '../events/sqs-consumer';
import { deliverOnce, throttleSecondsFromEnv, type NotifierDeps, type NotifyOutcome } from '../notifications/notify';
import { sendersFromEnv } from '../notifications/senders';
import { operationsSubscriptions } from '../notifications/subscriptions';
import { dbFromEnv } from '../platform/db';
import { systemContext } from '../platform/context';
import { log } from '../platform/log';

/**
 * Operational alerts: the system's own CloudWatch alarms (functions/operations/alarms.ts), told to
 * the admins who subscribed with scope `operations`, through the same subscriptions, channels,
 * throttle and delivery records as stock alerts. In AWS, CloudWatch puts every alarm state change
 * on the account's default bus as `CloudWatch Alarm State Change`; a rule there feeds this
 * consumer's queue. Locally bin/local/alarms.ts evaluates the same alarms over the EMF lines and
 * publishes the same events on the in-process bus. The operator's SNS topic hears the alarms too.
 */
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

/** The tenant whose admins operate this deployment (its `operations` subscribers hear the alarms). */
export const OPERATIONS_TENANT_ENV = 'OPERATIONS_TENANT_ID';

const alarmState = z.object({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.string(),
  timestamp: z.string(),
});

/** The part of CloudWatch's event detail this consumer reads (the rest, e.g. the metrics, is left as sent). */
export const alarmStateChangeDetail = z.object({
  alarmName: z.string().min(1).max(255),
  state: alarmState,
  previousState: alarmState.partial({ reason: true, timestamp: true }).optional(),
  configuration: z.object({ description: z.string().optional() }).loose().optional(),
}).loose();
export type AlarmStateChange = z.infer<typeof alarmStateChangeDetail>;

export type OperationalEvent = 'OperationalAlertRaised' | 'OperationalAlertResolved';

/** What a state change tells people: an alarm going off, or one that went off coming back; other changes (to or from INSUFFICIENT_DATA without an alarm) tell nobody anything. */
export const operationalEventOf = (change: AlarmStateChange): OperationalEvent | undefined => {
  if (change.state.value === 'ALARM' && change.previousState?.value !== 'ALARM') return 'OperationalAlertRaised';
  if (change.state.value === 'OK' && change.previousState?.value === 'ALARM') return 'OperationalAlertResolved';
  return undefined;
};

/** Where an operator reads the alarm: its page in the CloudWatch console of this region. */
export const alarmLink = (alarmName: string, region: string = process.env.AWS_REGION ?? 'us-east-1'): string =>
  `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(alarmName)}`;

export const operationalMessage = (type: OperationalEvent, change: AlarmStateChange): { subject: string; text: string } => {
  const raised = type === 'OperationalAlertRaised';
  const about = change.configuration?.description ? ` (${change.configuration.description})` : '';
  return {
    subject: `[Stockroom] ${raised ? 'ALARM' : 'resolved'}: ${change.alarmName}`,
    text:
      `Operational alert ${raised ? 'raised' : 'resolved'}: alarm ${change.alarmName}${about} is ${change.state.value} since ${change.state.timestamp}. ` +
      `Reason: ${change.state.reason} ${alarmLink(change.alarmName)}`,
  };
};

/** The throttle window an instant falls in, on a grid from the epoch: a redelivered change lands in the window it did the first time. */
const windowOf = (at: string, throttleSeconds: number): { start: string; end: number } => {
  const size = throttleSeconds * 1000;
  const start = Math.floor(Date.parse(at) / size) * size;
  return { start: new Date(start).toISOString(), end: start + size };
};

/**
 * One alarm state change to the operations subscribers: a raised alarm (critical) and its
 * resolution are two notices, each delivered once per subscription and throttle window, so an
 * alarm that flaps tells each subscriber once an hour (by default), not at every flap.
 */
export const notifyOperations = async (deps: NotifierDeps, tenantId: string, change: AlarmStateChange, eventId: string): Promise<NotifyOutcome> => {
  const type = operationalEventOf(change);
  if (type === undefined) return { sent: [], throttled: [] };
  const ctx = systemContext({ tenantId, actor: 'system:operations', requestId: eventId, now: deps.now });
  const throttle = deps.throttleSeconds ?? throttleSecondsFromEnv();
  const window = windowOf(change.state.timestamp, throttle);
  const { subject, text } = operationalMessage(type, change);
  const noticeId = `ops:${change.alarmName}:${change.state.value}`;
  const subscriptions = await operationsSubscriptions({ db: deps.db, ctx });
  return deliverOnce({ ...deps, ctx }, subscriptions, {
    noticeId,
    windowStart: window.start,
    windowEnd: window.end,
    eventType: type,
    eventId,
    severity: 'critical',
    subject,
    text,
    payload: {
      operational_alert: {
        alarm_name: change.alarmName,
        state: change.state.value,
        previous_state: change.previousState?.value,
        reason: change.state.reason,
        at: change.state.timestamp,
        description: change.configuration?.description,
        link: alarmLink(change.alarmName),
      },
    },
  });
};

/** The SQS handler body: each alarm state change told to the operations tenant's subscribers. */
export const notifyOperationsBatch = (deps: NotifierDeps, event: SQSEvent): Promise<SQSBatchResponse> =>
  consumeSqs(event, alarmStateChangeDetail, async (consumed) => {
    const tenantId = process.env[OPERATIONS_TENANT_ENV];
    if (!tenantId) {
      log.warn('an alarm changed state, but no operations tenant is set: only the operator topic hears it', { alarm_name: consumed.detail.alarmName, env: OPERATIONS_TENANT_ENV });
      return;
    }
    await notifyOperations(deps, tenantId, consumed.detail, consumed.id ?? `${consumed.detail.alarmName}:${consumed.detail.state.timestamp}`);
  });

/** The notifier as a Lambda runs it: the table, and the channels of this environment (SES/SNS/HTTPS in AWS, the outbox locally). */
export const notifierFromEnv = (): NotifierDeps => ({ db: dbFromEnv(), senders: sendersFromEnv(dbFromEnv()) });
