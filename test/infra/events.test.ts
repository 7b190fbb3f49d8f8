import { localSchedules } from '../../bin/local/scheduler';
import { Template } from 'aws-cdk-lib/assertions';
import { channelSchedules, EVENT_BUS_ENV, scheduledFunctions, streamProcessor } from '../../functions/wiring';
import { EVENT_MARKER_LEADING_KEYS, STOCK_LEVEL_LEADING_KEYS, keys } from '../../functions/platform/keys';
import { logicalId, resourcesOfType, synthesized, type CfnResource, type CfnTemplate } from './synth';

/**
 * Domain events and schedules in AWS, from the same declarations the local
 * runtime uses (functions/wiring.ts streamProcessor, scheduledFunctions):
 * the table stream feeds the stream processor with partial batch responses,
 * retries and an SQS dead-letter queue; the processor may publish to the
 * bus and touch its own markers, nothing more; each scheduled function has
 * its rule.
 */
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const statementsOfRole = (json: CfnTemplate, roleId: string): Statement[] =>
  Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(`"${roleId}"`))
    .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => s.Effect === 'Allow');

const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });

describe('domain events: stream -> processor -> bus', () => {
  const { json, stack, template } = synthesized();
  const busId = logicalId(stack.events.bus);
  const queueId = logicalId(stack.events.deadLetterQueue);
  const processorId = logicalId(stack.events.processor);
  const tableId = logicalId(stack.data.table);
  const keyId = logicalId(stack.data.key);
  const processor = json.Resources[processorId]!;

  test('one custom event bus, its name an output and the processor\'s EVENT_BUS_NAME', () => {
    expect(resourcesOfType(json, 'AWS::Events::EventBus')).toHaveLength(1);
    expect(json.Outputs?.EventBusName?.Value).toEqual(ref(busId));
    expect((processor.Properties?.Environment as { Variables: Record<string, unknown> }).Variables[EVENT_BUS_ENV]).toEqual(ref(busId));
  });

  test('the table stream feeds the stream processor: TRIM_HORIZON, wiring batch size and retries, partial batch responses, bisect, one invocation per shard, SQS on failure', () => {
    // The domain table's stream (the audit trail's feeds its exporter: test/infra/audit.test.ts).
    const mappings = resourcesOfType(json, 'AWS::Lambda::EventSourceMapping').filter(([, r]) => JSON.stringify(r.Properties?.EventSourceArn).includes('StreamArn') && !JSON.stringify(r.Properties?.EventSourceArn).includes(`"${logicalId(stack.audit.table)}"`));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toEqual({
      EventSourceArn: getAtt(tableId, 'StreamArn'),
      FunctionName: ref(processorId),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: streamProcessor.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: streamProcessor.maxRetries,
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: getAtt(queueId, 'Arn') } },
    });
  });

  test('the processor is built from the wiring entry, with a timeout under 15 minutes', () => {
    expect(stack.events.processor.node.path).toContain('StreamProcessor');
    expect(processor.Properties?.Timeout).toBeLessThanOrEqual(900);
    expect(streamProcessor.entry).toBe('functions/events/handlers/stream-processor.ts');
  });

  test('the dead-letter queue is encrypted, refuses plain HTTP, keeps messages 14 days, and an alarm fires on its first message', () => {
    const queue = json.Resources[queueId]!;
    expect(queue.Properties?.SqsManagedSseEnabled ?? queue.Properties?.KmsMasterKeyId).toBeTruthy();
    expect(queue.Properties?.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(queueId)],
      PolicyDocument: { Statement: [{ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' }, Resource: getAtt(queueId, 'Arn') }] },
    });
    const alarms = resourcesOfType(json, 'AWS::CloudWatch::Alarm').filter(([, a]) => JSON.stringify(a.Properties?.Dimensions ?? []).includes(`"${queueId}"`));
    expect(alarms.map(([, a]) => a.Properties)).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      }),
    ]);
  });

  test('an alarm fires when the processor falls minutes behind the stream (IteratorAge)', () => {
    const alarms = resourcesOfType(json, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties?.MetricName === 'IteratorAge');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]![1].Properties?.Dimensions).toEqual([{ Name: 'FunctionName', Value: ref(processorId) }]);
  });

  describe('least privilege of the stream processor', () => {
    const statements = statementsOfRole(json, logicalId(stack.events.processor.role!));
    const withAction = (prefix: string) => statements.filter((s) => list(s.Action).some((a) => a.startsWith(prefix)));

    test('it may PutEvents on its bus and nowhere else, and no other role may PutEvents at all', () => {
      const events = withAction('events:');
      expect(events.flatMap((s) => list(s.Action))).toEqual(['events:PutEvents']);
      expect(events.map((s) => s.Resource)).toEqual([getAtt(busId, 'Arn')]);
      for (const [id, resource] of resourcesOfType(json, 'AWS::IAM::Policy')) {
        if (JSON.stringify(resource.Properties?.Roles).includes(`"${logicalId(stack.events.processor.role!)}"`)) continue;
        expect({ id, putEvents: JSON.stringify(resource.Properties?.PolicyDocument).includes('events:PutEvents') }).toEqual({ id, putEvents: false });
      }
    });

    test('it reads the stream, touches table items only under its marker keys, and only reads stock levels (no query, scan, update or delete)', () => {
      const dynamo = withAction('dynamodb:');
      const onStream = dynamo.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(getAtt(tableId, 'StreamArn')));
      expect(onStream.flatMap((s) => list(s.Action)).sort()).toEqual(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']);
      const onTable = dynamo.filter((s) => !onStream.includes(s));
      expect(onTable).toEqual([
        {
          Effect: 'Allow',
          Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
          Resource: getAtt(tableId, 'Arn'),
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [EVENT_MARKER_LEADING_KEYS] } },
        },
        {
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: getAtt(tableId, 'Arn'),
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [STOCK_LEVEL_LEADING_KEYS] } },
        },
      ]);
    });

    test('the stock key pattern in IAM matches levels and their sub-levels, and nothing else of a tenant', () => {
      const pattern = new RegExp(`^${STOCK_LEVEL_LEADING_KEYS.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      expect(keys.stockLevel('acme', 'sku-1', 'wh-1').pk).toMatch(pattern);
      expect(keys.stockSubLevel('acme', 'sku-1', 'wh-1', 3).pk).toMatch(pattern);
      for (const pk of ['T#acme#ORDER', 'T#acme#LEDGER#sku-1', 'T#acme#IDEMPOTENCY#k', 'T#acme#SKU', keys.eventMarker('acme', 'x').pk]) expect(pk).not.toMatch(pattern);
    });

    test('the marker key pattern in IAM matches the keys the processor writes, and no business item key', () => {
      const pattern = new RegExp(`^${EVENT_MARKER_LEADING_KEYS.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      expect(keys.eventMarker('acme', 'OrderAllocated:T#acme#ORDER:o-1:v1').pk).toMatch(pattern);
      for (const pk of ['T#acme#ORDER', 'T#acme#STOCK#sku-1', 'T#acme#LEDGER#sku-1', 'T#acme#IDEMPOTENCY#k', 'T#acme#SKU']) expect(pk).not.toMatch(pattern);
    });

    test('KMS only on the table key, SQS only SendMessage-side actions on its dead-letter queue', () => {
      for (const s of withAction('kms:')) expect(s.Resource).toEqual(getAtt(keyId, 'Arn'));
      const sqs = withAction('sqs:');
      expect(sqs.flatMap((s) => list(s.Action)).sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
      for (const s of sqs) expect(s.Resource).toEqual(getAtt(queueId, 'Arn'));
      const services = new Set(statements.flatMap((s) => list(s.Action)).map((a) => a.split(':')[0]));
      expect([...services].sort()).toEqual(['dynamodb', 'events', 'kms', 'sqs', 'xray']);
    });
  });
});

describe('scheduled functions', () => {
  const { json, stack } = synthesized();
  const rules = resourcesOfType(json, 'AWS::Events::Rule').filter(([, r]) => r.Properties?.ScheduleExpression);
  /** EventBridge's rate expression as CDK writes it: in the largest whole unit (minutes, hours or days). */
  const rate = (seconds: number): string => {
    const [amount, unit] = seconds % 86_400 === 0 ? [seconds / 86_400, 'day'] : seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : [seconds / 60, 'minute'];
    return `rate(${amount} ${unit}${amount === 1 ? '' : 's'})`;
  };
  const ruleTargeting = (fnId: string): CfnResource | undefined =>
    rules.find(([, r]) => JSON.stringify(r.Properties?.Targets).includes(`"${fnId}"`))?.[1];

  test('one schedule rule per scheduledFunctions entry (and channelSchedules entry, in the nested stack), at its period, invoking its own function', () => {
    expect(rules).toHaveLength(Object.keys(scheduledFunctions).length + Object.keys(channelSchedules).length);
    for (const [name, scheduled] of Object.entries(scheduledFunctions)) {
      const fnId = logicalId(stack.schedules.functions[name as keyof typeof scheduledFunctions]);
      const rule = ruleTargeting(fnId);
      expect({ name, expression: rule?.Properties?.ScheduleExpression, state: rule?.Properties?.State }).toEqual({ name, expression: rate(scheduled.everySeconds), state: 'ENABLED' });
    }
  });

  test('the local scheduler runs exactly the functions and periods the stacks schedule (the main stack\'s and the channels\' nested stack\'s)', () => {
    const deployed = Object.entries(scheduledFunctions).map(([name]) => {
      const fnId = logicalId(stack.schedules.functions[name as keyof typeof scheduledFunctions]);
      return { name, expression: ruleTargeting(fnId)?.Properties?.ScheduleExpression };
    });
    const nested = Template.fromStack(stack.channels).toJSON() as CfnTemplate;
    const nestedRules = resourcesOfType(nested, 'AWS::Events::Rule').filter(([, r]) => r.Properties?.ScheduleExpression);
    const deployedChannels = Object.keys(channelSchedules).map((name) => {
      const fnId = logicalId(stack.channels.schedules.functions[name as keyof typeof channelSchedules]);
      return { name, expression: nestedRules.find(([, r]) => JSON.stringify(r.Properties?.Targets).includes(`"${fnId}"`))?.[1].Properties?.ScheduleExpression };
    });
    expect(localSchedules().map((s) => ({ name: s.name, expression: rate(s.everySeconds) }))).toEqual([...deployed, ...deployedChannels]);
    expect(localSchedules().map((s) => s.entry)).toEqual([...Object.values(scheduledFunctions), ...Object.values(channelSchedules)].map((s) => s.entry));
  });

  test('only its own rule may invoke a scheduled function (resource policy scoped to the rule ARN)', () => {
    for (const name of Object.keys(scheduledFunctions)) {
      const fnId = logicalId(stack.schedules.functions[name as keyof typeof scheduledFunctions]);
      const ruleId = rules.find(([, r]) => JSON.stringify(r.Properties?.Targets).includes(`"${fnId}"`))![0];
      const permissions = resourcesOfType(json, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties?.FunctionName).includes(`"${fnId}"`));
      expect(permissions.map(([, p]) => p.Properties)).toEqual([
        { Action: 'lambda:InvokeFunction', FunctionName: getAtt(fnId, 'Arn'), Principal: 'events.amazonaws.com', SourceArn: getAtt(ruleId, 'Arn') },
      ]);
    }
  });

  test('the wiring schedules a function of no table access (the lake close), so the none rule below is exercised', () => {
    expect(Object.values(scheduledFunctions).map((s) => s.table)).toContain('none');
  });

  test('each scheduled function gets the table access its entry declares: write, read, or none at all (not even the table key)', () => {
    const tableKeyArn = JSON.stringify(getAtt(logicalId(stack.data.key), 'Arn'));
    for (const [name, scheduled] of Object.entries(scheduledFunctions)) {
      const fn = stack.schedules.functions[name as keyof typeof scheduledFunctions];
      const statements = statementsOfRole(json, logicalId(fn.role!));
      const actions = new Set(statements.flatMap((s) => list(s.Action)));
      if (scheduled.table === 'none') {
        expect({ name, dynamodb: [...actions].filter((a) => a.startsWith('dynamodb:')) }).toEqual({ name, dynamodb: [] });
        expect(JSON.stringify(statements)).not.toContain(tableKeyArn);
      } else expect(actions).toContain('dynamodb:Query');
      if (scheduled.table === 'write') for (const a of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'kms:GenerateDataKey*']) expect(actions).toContain(a);
      else for (const a of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) expect(actions).not.toContain(a);
      expect([...actions].filter((a) => a.startsWith('events:') || a.startsWith('sqs:'))).toEqual([]);
    }
  });

  test('every failing schedule has an alarm on its function errors', () => {
    for (const name of Object.keys(scheduledFunctions)) {
      const fnId = logicalId(stack.schedules.functions[name as keyof typeof scheduledFunctions]);
      const alarm = resourcesOfType(json, 'AWS::CloudWatch::Alarm').find(([, a]) => a.Properties?.MetricName === 'Errors' && JSON.stringify(a.Properties?.Dimensions ?? []).includes(`"${fnId}"`));
      expect(alarm?.[1].Properties).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 0 });
    }
  });

  test('a schedule that fails every run does alarm: each of the 3 evaluated periods is at least its period (5 minutes for a minutely sweep, an hour for the hourly close)', () => {
    for (const [name, scheduled] of Object.entries(scheduledFunctions)) {
      const fnId = logicalId(stack.schedules.functions[name as keyof typeof scheduledFunctions]);
      const alarm = resourcesOfType(json, 'AWS::CloudWatch::Alarm').find(([, a]) => a.Properties?.MetricName === 'Errors' && JSON.stringify(a.Properties?.Dimensions ?? []).includes(`"${fnId}"`));
      const props = alarm?.[1].Properties ?? {};
      expect({ name, period: props.Period, evaluationPeriods: props.EvaluationPeriods }).toEqual({ name, period: Math.max(300, scheduled.everySeconds), evaluationPeriods: 3 });
      expect(props.Period as number).toBeGreaterThanOrEqual(scheduled.everySeconds);
    }
  });
});
