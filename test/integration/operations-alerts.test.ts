import type { SQSEvent } from 'aws-lambda';
import type { Delivery, Senders } from '../../functions/notifications/notify';
import { subscribe } from '../../functions/notifications/subscriptions';
import { ALARM_STATE_CHANGE, notifyOperationsBatch, OPERATIONS_TENANT_ENV, type AlarmStateChange } from '../../functions/operations/notify-operations';
import { codeOf, contextFor, testDb } from '../support/domain';
import { sqsRecord } from '../support/events';

/** Operational alerts (issue 14): the system's alarm state changes, told to a tenant's `operations` subscribers. */
const db = testDb();

const change = (state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', previous: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', at: string): AlarmStateChange => ({
  alarmName: 'stockroom-api-server-errors',
  state: { value: state, reason: `Threshold Crossed: 1 out of the last 1 datapoints [12.0] was ${state === 'ALARM' ? 'greater' : 'not greater'} than the threshold (5.0).`, timestamp: at },
  previousState: { value: previous, reason: 'earlier', timestamp: '2026-12-01T00:00:00.000+0000' },
  configuration: { description: 'API 5xx answers above 5 a minute' },
});

let messages = 0;
/** CloudWatch's event as the default bus's rule delivers it to the queue. */
const sqs = (...changes: AlarmStateChange[]): SQSEvent => ({
  Records: changes.map((detail) => {
    messages += 1;
    return sqsRecord(`m-${messages}`, { version: '0', id: `ev-${messages}`, source: 'aws.cloudwatch', 'detail-type': ALARM_STATE_CHANGE, account: '123456789012', region: 'eu-west-1', time: detail.state.timestamp, resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${detail.alarmName}`], detail });
  }),
});

const recording = (): { sent: Delivery[]; senders: Senders } => {
  const sent: Delivery[] = [];
  const record = async (delivery: Delivery): Promise<void> => void sent.push(delivery);
  return { sent, senders: { email: record, sms: record, webhook: record } };
};

describe('operational alerts', () => {
  const saved = process.env[OPERATIONS_TENANT_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[OPERATIONS_TENANT_ENV];
    else process.env[OPERATIONS_TENANT_ENV] = saved;
  });

  test("an alarm going off is told once to each of the operations tenant's operations subscribers, and its clearing once more", async () => {
    const ctx = contextFor();
    process.env[OPERATIONS_TENANT_ENV] = ctx.caller.tenantId;
    const email = await subscribe({ db, ctx }, { scope: { operations: true }, channel: 'email', target: 'ops@example.com', min_severity: 'normal' });
    const stockAlerts = await subscribe({ db, ctx }, { scope: { all: true }, channel: 'email', target: 'buyer@example.com', min_severity: 'normal' });
    const other = contextFor();
    await subscribe({ db, ctx: other }, { scope: { operations: true }, channel: 'email', target: 'elsewhere@example.com', min_severity: 'normal' });
    const { sent, senders } = recording();

    const raised = change('ALARM', 'OK', '2026-12-02T10:00:05.000Z');
    expect(await notifyOperationsBatch({ db, senders }, sqs(raised))).toEqual({ batchItemFailures: [] });
    // A redelivery of the same change, and the alarm going off again within the hour: throttled.
    expect(await notifyOperationsBatch({ db, senders }, sqs(raised, change('ALARM', 'OK', '2026-12-02T10:20:00.000Z')))).toEqual({ batchItemFailures: [] });
    expect(sent.map((d) => [d.subscription.subscription_id, d.event_type, d.tenant_id])).toEqual([[email.subscription_id, 'OperationalAlertRaised', ctx.caller.tenantId]]);
    expect(sent[0]).toMatchObject({
      notice_id: 'ops:stockroom-api-server-errors:ALARM',
      severity: 'critical',
      subject: '[Stockroom] ALARM: stockroom-api-server-errors',
      payload: { operational_alert: { alarm_name: 'stockroom-api-server-errors', state: 'ALARM', previous_state: 'OK', link: expect.stringContaining('#alarmsV2:alarm/stockroom-api-server-errors') } },
    });
    expect(sent[0]!.text).toContain('Threshold Crossed');
    expect(sent.some((d) => d.subscription.subscription_id === stockAlerts.subscription_id)).toBe(false);

    await notifyOperationsBatch({ db, senders }, sqs(change('OK', 'ALARM', '2026-12-02T10:30:00.000Z')));
    expect(sent.map((d) => d.event_type)).toEqual(['OperationalAlertRaised', 'OperationalAlertResolved']);
    expect(sent[1]).toMatchObject({ notice_id: 'ops:stockroom-api-server-errors:OK', subject: '[Stockroom] resolved: stockroom-api-server-errors' });
  });

  test('changes to or from INSUFFICIENT_DATA without an alarm tell nobody', async () => {
    const ctx = contextFor();
    process.env[OPERATIONS_TENANT_ENV] = ctx.caller.tenantId;
    await subscribe({ db, ctx }, { scope: { operations: true }, channel: 'sms', target: '+14155550123', min_severity: 'normal' });
    const { sent, senders } = recording();
    await notifyOperationsBatch({ db, senders }, sqs(change('OK', 'INSUFFICIENT_DATA', '2026-12-02T11:00:00.000Z'), change('INSUFFICIENT_DATA', 'OK', '2026-12-02T11:01:00.000Z')));
    expect(sent).toEqual([]);
  });

  test('without an operations tenant nothing is sent and the message is not failed (the operator topic still hears the alarm)', async () => {
    delete process.env[OPERATIONS_TENANT_ENV];
    const { sent, senders } = recording();
    expect(await notifyOperationsBatch({ db, senders }, sqs(change('ALARM', 'OK', '2026-12-02T12:00:00.000Z')))).toEqual({ batchItemFailures: [] });
    expect(sent).toEqual([]);
  });

  test('a failed send is retried by SQS: the message fails, and the redelivery sends it once', async () => {
    const ctx = contextFor();
    process.env[OPERATIONS_TENANT_ENV] = ctx.caller.tenantId;
    await subscribe({ db, ctx }, { scope: { operations: true }, channel: 'email', target: 'ops@example.com', min_severity: 'normal' });
    const { sent, senders } = recording();
    let down = true;
    const flaky: Senders = { ...senders, email: async (d) => (down ? Promise.reject(new Error('SES throttled')) : senders.email(d)) };
    const message = sqs(change('ALARM', 'OK', '2026-12-02T13:00:00.000Z'));
    expect((await notifyOperationsBatch({ db, senders: flaky }, message)).batchItemFailures).toHaveLength(1);
    down = false;
    expect(await notifyOperationsBatch({ db, senders: flaky }, message)).toEqual({ batchItemFailures: [] });
    expect(await notifyOperationsBatch({ db, senders: flaky }, message)).toEqual({ batchItemFailures: [] });
    expect(sent).toHaveLength(1);
  });

  test('a message that is no alarm state change is failed to the DLQ, naming the field', async () => {
    const { senders } = recording();
    const bad = sqs(change('ALARM', 'OK', '2026-12-02T14:00:00.000Z'));
    bad.Records[0]!.body = JSON.stringify({ source: 'aws.cloudwatch', 'detail-type': ALARM_STATE_CHANGE, detail: { alarmName: '', state: { value: 'ON' } } });
    expect((await notifyOperationsBatch({ db, senders }, bad)).batchItemFailures).toEqual([{ itemIdentifier: bad.Records[0]!.messageId }]);
  });

  test('only admins subscribe to operational alerts, and not with a warehouse scope', async () => {
    const manager = { ...contextFor(), caller: { kind: 'user' as const, tenantId: contextFor().caller.tenantId, role: 'manager' as const, subject: 'm' } };
    expect(await codeOf(subscribe({ db, ctx: manager }, { scope: { operations: true }, channel: 'email', target: 'm@example.com', min_severity: 'normal' }))).toBe('FORBIDDEN');
    const scopedAdmin = { ...contextFor(), caller: { kind: 'user' as const, tenantId: contextFor().caller.tenantId, role: 'admin' as const, subject: 'a', warehouseIds: ['wh-1'] } };
    expect(await codeOf(subscribe({ db, ctx: scopedAdmin }, { scope: { operations: true }, channel: 'email', target: 'a@example.com', min_severity: 'normal' }))).toBe('FORBIDDEN');
  });
});
