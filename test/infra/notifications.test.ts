import { SENDER_EMAIL_ENV, THROTTLE_ENV } from '../../functions/notifications/model';
import { eventConsumers } from '../../functions/wiring';
import { OPERATIONS_TENANT_ENV } from '../../functions/operations/notify-operations';
import { OPERATIONS_TENANT_PARAMETER, SENDER_EMAIL_PARAMETER } from '../../lib/notifications';
import type { IConstruct } from 'constructs';
import { logicalId, resourcesOfType, synthesized, type CfnResource } from './synth';

/**
 * Notifications in AWS: the consumer from the wiring (rule, queue, DLQ and
 * alarm are checked for every consumer in consumers.test.ts), the SES sender
 * identity as a stack parameter passed as env, least-privilege SES and SNS
 * grants on the consumer only, and the operator alarm topic every
 * dead-letter and lag alarm publishes to.
 */
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe('notifications: consumer, SES/SNS grants, alarm topic', () => {
  const { json, stack } = synthesized();
  const notifier = stack.consumers.consumers.notifyAlerts;
  const policies = resourcesOfType(json, 'AWS::IAM::Policy');
  const statementsOf = (role: string): Statement[] =>
    policies.filter(([, p]) => JSON.stringify(p.Properties?.Roles).includes(`"${role}"`)).flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);

  test('the notification consumer listens to AlertOpened and AlertUpdated only', () => {
    const rule = json.Resources[logicalId(notifier.rule)]!.Properties!;
    expect(rule.EventPattern).toEqual({ source: ['stockroom'], 'detail-type': ['AlertOpened', 'AlertUpdated'] });
    expect(eventConsumers.notifyAlerts.queue.maxReceives).toBeGreaterThan(1);
  });

  const operations = stack.consumers.consumers.notifyOperations;
  const senders = [
    ['the alert notifier', notifier.function],
    ['the operational-alert notifier', operations.function],
  ] as const;
  const senderRoleIds = senders.map(([, fn]) => logicalId(fn.role!));

  test.each(senders)('the sender identity is a stack parameter, passed to %s as env with the throttle window', (_name, fn) => {
    expect((json as unknown as { Parameters: Record<string, { Type: string; AllowedPattern?: string }> }).Parameters[SENDER_EMAIL_PARAMETER]).toMatchObject({
      Type: 'String',
      AllowedPattern: expect.any(String),
    });
    const env = (json.Resources[logicalId(fn)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env[SENDER_EMAIL_ENV]).toEqual({ Ref: SENDER_EMAIL_PARAMETER });
    expect(env[THROTTLE_ENV]).toBe('3600');
  });

  test('the operations tenant is a stack parameter (empty by default: only the operator topic hears the alarms), passed to the operational-alert notifier only', () => {
    const parameters = (json as unknown as { Parameters: Record<string, { Type: string; Default?: string; AllowedPattern?: string }> }).Parameters;
    expect(parameters[OPERATIONS_TENANT_PARAMETER]).toMatchObject({ Type: 'String', Default: '', AllowedPattern: expect.any(String) });
    const envOf = (fn: IConstruct) => (json.Resources[logicalId(fn)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(envOf(operations.function)[OPERATIONS_TENANT_ENV]).toEqual({ Ref: OPERATIONS_TENANT_PARAMETER });
    expect(envOf(notifier.function)[OPERATIONS_TENANT_ENV]).toBeUndefined();
  });

  test.each(senders)('ses:SendEmail only on that identity (address or its domain) and only From it, and sns:Publish for SMS, for %s; nobody but the two notifiers gets either', (_name, fn) => {
    const mine = statementsOf(logicalId(fn.role!));
    const ses = mine.filter((s) => list(s.Action).includes('ses:SendEmail'));
    expect(ses).toHaveLength(1);
    expect(list(ses[0]!.Action)).toEqual(['ses:SendEmail']);
    const resources = JSON.stringify(ses[0]!.Resource);
    expect(resources).toContain(':identity/');
    expect(resources).toContain(SENDER_EMAIL_PARAMETER);
    expect(ses[0]!.Condition).toEqual({ StringEquals: { 'ses:FromAddress': { Ref: SENDER_EMAIL_PARAMETER } } });
    const sms = mine.filter((s) => list(s.Action).includes('sns:Publish'));
    expect(sms).toEqual([expect.objectContaining({ Action: 'sns:Publish', Resource: '*', Effect: 'Allow' })]);
    const others = policies.filter(([, p]) => !senderRoleIds.some((id) => JSON.stringify(p.Properties?.Roles).includes(`"${id}"`)));
    const text = JSON.stringify(others.map(([, p]) => p.Properties!.PolicyDocument));
    expect(text).not.toContain('ses:');
    expect(text).not.toContain('sns:Publish');
  });

  test('an encrypted, TLS-only SNS topic receives every alarm', () => {
    const topicId = logicalId(stack.notifications.alarmTopic);
    const topic = json.Resources[topicId]!.Properties!;
    expect(topic.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [logicalId(stack.notifications.alarmTopicKey), 'Arn'] });
    const key = json.Resources[logicalId(stack.notifications.alarmTopicKey)]!.Properties!;
    expect(key.EnableKeyRotation).toBe(true);
    expect(JSON.stringify(key.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    const topicPolicy = resourcesOfType(json, 'AWS::SNS::TopicPolicy').find(([, p]) => JSON.stringify(p.Properties?.Topics).includes(topicId));
    expect(JSON.stringify(topicPolicy?.[1].Properties?.PolicyDocument)).toContain('aws:SecureTransport');
    // Every alarm of the app, the declared ones and the composite (lib/operations.ts), notifies the topic.
    const alarms: CfnResource[] = [...resourcesOfType(json, 'AWS::CloudWatch::Alarm'), ...resourcesOfType(json, 'AWS::CloudWatch::CompositeAlarm')].map(([, a]) => a);
    expect(alarms.length).toBeGreaterThanOrEqual(Object.keys(stack.operations.alarms).length + 1);
    for (const alarm of alarms) expect(alarm.Properties!.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(json.Outputs?.AlarmTopicArn?.Value).toEqual({ Ref: topicId });
  });
});
