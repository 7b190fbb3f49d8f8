import { eventConsumers } from '../../functions/wiring';
import { onDefaultBus } from '../../lib/consumers';
import { logicalId, synthesized } from './synth';

/**
 * Event consumers from functions/wiring.ts eventConsumers: a rule on the
 * custom bus (the default bus for `bus: 'default'`, test/infra/operations.test.ts) with the declared pattern -> an encrypted, TLS-only queue with
 * a redrive to its dead-letter queue -> the function with partial batch
 * responses; an alarm on the first dead-lettered message.
 */
describe('event consumers: bus rule -> SQS -> function, DLQ and alarm', () => {
  const { json, stack } = synthesized();
  const busId = logicalId(stack.events.bus);

  test('every declared consumer is built, and nothing else', () => {
    expect(Object.keys(stack.consumers.consumers).sort()).toEqual(Object.keys(eventConsumers).sort());
  });

  describe.each(Object.entries(eventConsumers))('%s', (name, declared) => {
    const built = stack.consumers.consumers[name as keyof typeof eventConsumers];
    const queueId = logicalId(built.queue);
    const dlqId = logicalId(built.deadLetterQueue);
    const fnId = logicalId(built.function);

    test('the rule on its bus matches the declared pattern and targets the queue', () => {
      const rule = json.Resources[logicalId(built.rule)]!.Properties!;
      expect(rule.EventBusName).toEqual(onDefaultBus(declared) ? 'default' : { Ref: busId });
      expect(rule.EventPattern).toEqual({ source: [...declared.pattern.source], 'detail-type': [...declared.pattern['detail-type']] });
      expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })]);
    });

    test('the queue is encrypted, has the declared visibility timeout and redrives to its DLQ after maxReceives', () => {
      const queue = json.Resources[queueId]!.Properties!;
      expect(queue.SqsManagedSseEnabled).toBe(true);
      expect(queue.VisibilityTimeout).toBe(declared.queue.visibilityTimeoutSeconds);
      expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: declared.queue.maxReceives });
      expect(json.Resources[dlqId]!.Properties!.SqsManagedSseEnabled).toBe(true);
      const policies = Object.values(json.Resources).filter((r) => r.Type === 'AWS::SQS::QueuePolicy');
      for (const id of [queueId, dlqId]) {
        const policy = policies.find((p) => JSON.stringify(p.Properties?.Queues).includes(`"${id}"`));
        expect(JSON.stringify(policy?.Properties?.PolicyDocument)).toContain('aws:SecureTransport');
      }
    });

    test('the function reads the queue in declared batches with partial batch responses, within the visibility timeout', () => {
      const mapping = Object.values(json.Resources).find(
        (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties?.EventSourceArn).includes(queueId),
      );
      expect(mapping?.Properties).toMatchObject({
        FunctionName: { Ref: fnId },
        BatchSize: declared.queue.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(json.Resources[fnId]!.Properties!.Timeout).toBeLessThanOrEqual(declared.queue.visibilityTimeoutSeconds / 6);
    });

    test('an alarm fires on the first dead-lettered message', () => {
      const alarm = json.Resources[logicalId(stack.operations.alarm(`deadLetters-${name}`))]!.Properties!;
      expect(alarm).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      expect(alarm.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }]);
    });
  });
});
