import { App, NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { alarmInstances, compositeMembers, FALLBACK_FUNCTION, HEALTH_FUNCTION, lakeFeedDeadLetters, STREAM_PROCESSOR, THE_TABLE, type AlarmInstance } from '../../functions/operations/alarm-resources';
import { alarms, isRatio, systemUnhealthy } from '../../functions/operations/alarms';
import { allEventConsumers, channelSyncQueues, eventConsumers, lakeFeeds, type EventConsumer } from '../../functions/wiring';
import { REPO_ROOT } from '../../lib/api';
import { STACK_NAME } from '../../lib/app';
import { InventoryConsumers } from '../../lib/consumers';
import { InventoryData } from '../../lib/data';
import { InventoryEvents } from '../../lib/events';
import { InventoryLake } from '../../lib/lake';
import { DASHBOARD_WIDGETS } from '../../lib/operations';
import { logicalId, resourcesOfType, synthesized, type CfnResource } from './synth';

/**
 * Operations in AWS (issue 14, scope 2): every alarm of the one declaration
 * (functions/operations/alarms.ts, expanded over the wiring) is a CloudWatch alarm with its
 * threshold, evaluation and the operator topic as action, and no other alarm exists; the
 * composite "system unhealthy" alarm is over the declared members; the dashboard names its
 * widgets; and the rule of a consumer declared `bus: 'default'` (the operational-alert consumer)
 * is on the account's default bus, where CloudWatch puts alarm state changes, and feeds its queue.
 */
describe('operations: the declared alarms, the composite and the dashboard', () => {
  const { json, stack } = synthesized();
  const topicId = logicalId(stack.notifications.alarmTopic);
  const instances = alarmInstances();
  const alarmOf = (instance: AlarmInstance): Record<string, unknown> => {
    const resource = json.Resources[logicalId(stack.operations.alarm(instance.id))];
    if (!resource) throw new Error(`no alarm resource for ${instance.id}`);
    expect(resource.Type).toBe('AWS::CloudWatch::Alarm');
    return resource.Properties ?? {};
  };

  /** What a dimension naming this construct reads as, merged like synth.ts: the construct's own attribute in the main stack, a nested stack's output otherwise. */
  const reference = (construct: IConstruct, own: unknown): unknown => {
    const home = Stack.of(construct);
    if (home === stack) return own;
    const nested = home as NestedStack;
    return { 'Fn::GetAtt': [logicalId(nested.nestedStackResource!), expect.stringMatching(/^Outputs\./)] };
  };

  test('the declaration expands to one alarm per resource of each kind, each id unique', () => {
    expect(new Set(instances.map((i) => i.id)).size).toBe(instances.length);
    const count = (key: keyof typeof alarms) => instances.filter((i) => i.key === key).length;
    expect(count('deadLetters')).toBe(Object.keys(allEventConsumers).length + Object.keys(channelSyncQueues).length + 1 + Object.keys(lakeFeeds).length);
    expect(count('queueAge')).toBe(Object.keys(allEventConsumers).length + Object.keys(channelSyncQueues).length);
    expect(count('apiServerErrors')).toBe(3);
    expect(count('lambdaThrottles')).toBe(Object.keys(stack.api.functions).length + 2 + Object.keys(allEventConsumers).length + Object.keys(channelSyncQueues).length + 1 + Object.keys(stack.schedules.functions).length + Object.keys(stack.channels.schedules.functions).length);
    expect(count('readThrottles')).toBe(2);
  });

  test('the alarms in the app are exactly the declared ones (none written twice, none outside the declaration)', () => {
    const names = resourcesOfType(json, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties?.AlarmName);
    expect(names.sort()).toEqual(instances.map((i) => `${STACK_NAME}-${i.id}`).sort());
  });

  test.each(instances.map((i) => [i.id, i] as const))('%s: threshold, comparison, evaluation, missing data and the operator topic', (_id, instance) => {
    const alarm = alarmOf(instance);
    const { spec } = instance;
    expect(alarm).toMatchObject({
      AlarmName: `${STACK_NAME}-${instance.id}`,
      Threshold: spec.threshold,
      ComparisonOperator: spec.comparison,
      EvaluationPeriods: spec.evaluationPeriods,
      DatapointsToAlarm: spec.datapointsToAlarm,
      TreatMissingData: spec.treatMissingData,
      AlarmActions: [{ Ref: topicId }],
    });
    expect(String(alarm.AlarmDescription)).toContain(spec.summary);
    if (isRatio(spec.metric)) {
      const { numerator, denominator, minimumDenominator } = spec.metric.ratio;
      const metrics = alarm.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] }; Period: number; Stat: string } }[];
      expect(metrics.find((m) => m.Expression)?.Expression).toBe(`IF(d >= ${minimumDenominator}, 100 * FILL(n, 0) / d, 0)`);
      for (const [id, declared] of [['n', numerator], ['d', denominator]] as const) {
        const stat = metrics.find((m) => m.Id === id)?.MetricStat;
        expect(stat).toMatchObject({ Metric: { MetricName: declared.name, Namespace: declared.namespace }, Period: instance.periodSeconds, Stat: declared.statistic });
        expect(stat?.Metric.Dimensions).toEqual(expect.arrayContaining([{ Name: 'service', Value: 'stockroom' }, { Name: 'route_class', Value: instance.resource }]));
      }
      return;
    }
    expect(alarm).toMatchObject({ MetricName: spec.metric.name, Namespace: spec.metric.namespace, Period: instance.periodSeconds });
    if (spec.metric.statistic.startsWith('p')) expect(alarm.ExtendedStatistic).toBe(spec.metric.statistic);
    else expect(alarm.Statistic).toBe(spec.metric.statistic);
  });

  test('resource alarms watch their own resource: the function, the queue, the table or index the wiring names', () => {
    const dims = (id: string) => alarmOf(instances.find((i) => i.id === id)!).Dimensions;
    const table = { Name: 'TableName', Value: { Ref: logicalId(stack.data.table) } };
    expect(dims(`readThrottles-${THE_TABLE}`)).toEqual([table]);
    expect(dims('writeThrottles-gsi1')).toEqual([{ Name: 'GlobalSecondaryIndexName', Value: 'gsi1' }, table]);
    expect(dims(`streamIteratorAge-${STREAM_PROCESSOR}`)).toEqual([{ Name: 'FunctionName', Value: { Ref: logicalId(stack.events.processor) } }]);
    expect(dims(`deadLetters-${STREAM_PROCESSOR}`)).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.events.deadLetterQueue), 'QueueName'] } }]);
    for (const feed of Object.keys(lakeFeeds) as (keyof typeof lakeFeeds)[]) {
      expect(dims(`deadLetters-${lakeFeedDeadLetters(feed)}`)).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.lake.datasets[feed].deadLetterQueue), 'QueueName'] } }]);
    }
    for (const [name, built] of Object.entries(stack.consumers.consumers)) {
      expect(dims(`queueAge-${name}`)).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(built.queue), 'QueueName'] } }]);
      expect(dims(`lambdaErrors-${name}`)).toEqual([{ Name: 'FunctionName', Value: { Ref: logicalId(built.function) } }]);
    }
    for (const [name, fn] of Object.entries(stack.api.functions)) {
      expect({ name, dims: dims(`lambdaThrottles-${name}`) }).toEqual({ name, dims: [{ Name: 'FunctionName', Value: reference(fn, { Ref: logicalId(fn) }) }] });
    }
    expect(dims(`lambdaErrors-${FALLBACK_FUNCTION}`)).toEqual([{ Name: 'FunctionName', Value: { Ref: logicalId(stack.api.fallback) } }]);
    expect(dims(`lambdaErrors-${HEALTH_FUNCTION}`)).toEqual([{ Name: 'FunctionName', Value: { Ref: logicalId(stack.api.health) } }]);
    for (const [name, built] of Object.entries(stack.channels.syncQueues)) {
      expect(dims(`deadLetters-${name}`)).toEqual([{ Name: 'QueueName', Value: reference(built.deadLetterQueue, undefined) }]);
    }
  });

  test('a failing schedule alarms over 3 periods of at least its schedule (5 minutes for a minutely sweep, an hour for the hourly close), not as a one-off error', () => {
    for (const [name, fn] of Object.entries(stack.schedules.functions)) {
      const failing = instances.find((i) => i.id === `scheduleFailures-${name}`)!;
      expect(alarmOf(failing)).toMatchObject({ MetricName: 'Errors', Threshold: 0, EvaluationPeriods: 3, Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }] });
      expect(instances.find((i) => i.id === `lambdaErrors-${name}`)).toBeUndefined();
    }
  });

  test('the composite "system unhealthy" alarm is in ALARM while any declared member is, and notifies the topic', () => {
    const composites = resourcesOfType(json, 'AWS::CloudWatch::CompositeAlarm');
    expect(composites).toHaveLength(1);
    const props = composites[0]![1].Properties!;
    expect(props.AlarmName).toBe(`${STACK_NAME}-${systemUnhealthy.key}`);
    expect(props.AlarmActions).toEqual([{ Ref: topicId }]);
    const rule = JSON.stringify(props.AlarmRule);
    const members = compositeMembers(instances);
    expect(members.length).toBeGreaterThan(10);
    for (const member of members) expect(rule).toContain(`"${logicalId(stack.operations.alarm(member.id))}","Arn"`);
    expect(rule.match(/ALARM\(/g)).toHaveLength(members.length);
    expect(rule.split(' OR ').length).toBe(members.length);
    // Warnings (a single function error, a slow report) do not make the system unhealthy.
    expect(rule).not.toContain(logicalId(stack.operations.alarm('reportLatency')));
  });

  test('one dashboard names every widget: API, Lambda, DynamoDB, stream, queues, dead letters, business metrics', () => {
    const dashboards: CfnResource[] = resourcesOfType(json, 'AWS::CloudWatch::Dashboard').map(([, d]) => d);
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]!.Properties!.DashboardBody);
    for (const title of DASHBOARD_WIDGETS) expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    for (const metric of ['Requests', 'ClientErrors', 'ServerErrors', 'Latency', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents', 'ThrottledRequests', 'ConditionalCheckFailures', 'IteratorAge', 'ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'StockUpdates', 'Allocations', 'InsufficientStockRefusals', 'IdempotentReplays', 'EventsPublished', 'NotificationsSent', 'NotificationFailures', 'SyncLagSeconds', 'SyncDriftUnits']) {
      expect({ metric, shown: body.includes(metric) }).toEqual({ metric, shown: true });
    }
  });

  test('the main stack stays well under CloudFormation\'s 500 resources with the alarms in their own stack', () => {
    const { mainJson } = synthesized();
    expect(Object.keys(mainJson.Resources).length).toBeLessThan(420);
    expect(resourcesOfType(mainJson, 'AWS::CloudWatch::Alarm')).toEqual([]);
  });
});

describe('alarm state changes reach the operational-alert consumer through the default bus', () => {
  const ALARM_STATE_CHANGE = { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'] } as const;

  /** A consumer declared like the operational-alert one (functions/wiring.ts eventConsumers.notifyOperations), built by the same construct. */
  const built = (() => {
    // cdk.json's feature flags, as the app has them; no bundling.
    const flags = (JSON.parse(readFileSync(resolve(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
    const app = new App({ context: { ...flags, 'aws:cdk:bundling-stacks': [] } });
    const testStack = new Stack(app, 'DefaultBusTest', { env: { region: 'us-east-1' } });
    const data = new InventoryData(testStack, 'Data');
    const events = new InventoryEvents(testStack, 'Events', { table: data.table, tableKey: data.key });
    const lake = new InventoryLake(testStack, 'Lake', { bus: events.bus });
    const opsConsumer = {
      entry: 'functions/notifications/handlers/notify-alerts.ts',
      summary: 'Turn CloudWatch alarm state changes into operational alerts',
      pattern: ALARM_STATE_CHANGE,
      queue: { maxReceives: 5, visibilityTimeoutSeconds: 180, batchSize: 10 },
      table: 'write',
      bus: 'default',
    } satisfies EventConsumer & { bus: 'default' };
    const domainConsumer: EventConsumer = eventConsumers.evaluateAlerts;
    const consumers = new InventoryConsumers(testStack, 'Consumers', { table: data.table, bus: events.bus, lake, consumers: { opsAlerts: opsConsumer, evaluateAlerts: domainConsumer } });
    return { testStack, events, consumers, json: Template.fromStack(testStack).toJSON() as { Resources: Record<string, CfnResource> } };
  })();

  test("a consumer with bus: 'default' has its rule on the account's default bus, with CloudWatch's pattern, targeting its queue; the others stay on the custom bus", () => {
    const { consumers, json } = built;
    const rule = json.Resources[logicalId(consumers.consumers.opsAlerts.rule)]!.Properties!;
    expect(rule.EventBusName).toBe('default');
    expect(rule.EventPattern).toEqual({ source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'] });
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [logicalId(consumers.consumers.opsAlerts.queue), 'Arn'] } })]);
    const domainRule = json.Resources[logicalId(consumers.consumers.evaluateAlerts.rule)]!.Properties!;
    expect(domainRule.EventBusName).toEqual({ Ref: logicalId(built.events.bus) });
  });

  test('EventBridge may send to that queue for that rule only', () => {
    const { consumers, json } = built;
    const queueId = logicalId(consumers.consumers.opsAlerts.queue);
    const policy = Object.values(json.Resources).find((r) => r.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(r.Properties?.Queues) === JSON.stringify([{ Ref: queueId }]));
    const statements = (policy?.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: expect.arrayContaining(['sqs:SendMessage']),
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(consumers.consumers.opsAlerts.rule), 'Arn'] } } },
      }),
    );
  });

  const declared = (eventConsumers as Record<string, EventConsumer>).notifyOperations;
  (declared ? test : test.skip)('the wiring\'s operational-alert consumer (notifyOperations) is that consumer in the stack', () => {
    const { json, stack } = synthesized();
    const ops = (stack.consumers.consumers as Record<string, { rule: IConstruct; queue: IConstruct }>).notifyOperations!;
    const rule = json.Resources[logicalId(ops.rule)]!.Properties!;
    expect(rule.EventBusName).toBe('default');
    expect(rule.EventPattern).toEqual(ALARM_STATE_CHANGE);
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [logicalId(ops.queue), 'Arn'] } })]);
  });
});
