import { Duration, NestedStack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  alarmInstances,
  instanceAlarmName,
  resolveInstance,
  THE_TABLE,
  type AlarmInstance,
  type DimensionValues,
  type ResolvedMetric,
} from '../functions/operations/alarm-resources';
import { systemUnhealthy, type AlarmScope, type Comparison, type MissingData } from '../functions/operations/alarms';
import { METRIC_NAMES, METRICS_NAMESPACE, METRICS_SERVICE, ROUTE_CLASSES } from '../functions/platform/metrics';
import { TABLE } from '../functions/platform/table';

/** What the declared alarms are about, by the names the wiring gives them (functions/operations/alarm-resources.ts). */
export interface OperationsResources {
  /** Every function of the wiring: routes, the fallback route, consumers, sync workers, schedules, the stream processor. */
  functions: Record<string, lambda.IFunction>;
  /** Every dead-letter queue: consumers', sync queues', the stream processor's, the lake feeds'. */
  deadLetterQueues: Record<string, sqs.IQueue>;
  /** Every queue a consumer or sync worker reads. */
  consumerQueues: Record<string, sqs.IQueue>;
  table: ITableV2;
}

export interface OperationsStackProps extends OperationsResources {
  /** The alarms' names start with this (the main stack's name), so each is unique in the account and found again by its name. */
  prefix: string;
  /** The operator topic every alarm notifies (lib/notifications.ts). */
  alarmTopic: sns.ITopic;
}

/** The dashboard's widget titles, in order (test/infra/operations.test.ts finds each in the dashboard). */
export const DASHBOARD_WIDGETS = [
  'Alarms',
  'API requests by route class',
  'API 4xx by route class',
  'API 5xx by route class',
  'API latency p50 / p99 by route class (ms)',
  'API requests per route',
  'API 4xx per route',
  'API 5xx per route',
  'API latency p99 per route (ms)',
  'API latency p50 per route (ms)',
  'Lambda errors',
  'Lambda throttles',
  'Lambda duration p99 (ms)',
  'Lambda concurrent executions',
  'DynamoDB consumed capacity (table and gsi1)',
  'DynamoDB throttles (table and gsi1)',
  'Conditional-check failures and write retries',
  'Stream iterator age (ms)',
  'Queue depth',
  'Queue age of oldest message (s)',
  'Dead-letter queue depth',
  'Stock and orders',
  'Events and notifications',
  'Sales channel sync',
] as const;
type WidgetTitle = (typeof DASHBOARD_WIDGETS)[number];

const COMPARISONS: Record<Comparison, cloudwatch.ComparisonOperator> = {
  GreaterThanThreshold: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  GreaterThanOrEqualToThreshold: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  LessThanThreshold: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
  LessThanOrEqualToThreshold: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
};

const MISSING: Record<MissingData, cloudwatch.TreatMissingData> = {
  notBreaching: cloudwatch.TreatMissingData.NOT_BREACHING,
  breaching: cloudwatch.TreatMissingData.BREACHING,
  ignore: cloudwatch.TreatMissingData.IGNORE,
  missing: cloudwatch.TreatMissingData.MISSING,
};

/**
 * Operations in AWS (issue 14), in a nested stack of its own (the main stack's resource budget): one
 * CloudWatch alarm per alarm of the declaration (functions/operations/alarms.ts, expanded over the
 * wiring's resources by alarm-resources.ts), each with its threshold and the operator topic as its
 * action; the composite "system unhealthy" alarm over those marked `composite`; and one dashboard.
 * Alarm state changes reach the account's default event bus by themselves (CloudWatch puts them
 * there); the operational-alert consumer's rule is there (lib/consumers.ts, `bus: 'default'`).
 */
export class OperationsStack extends NestedStack {
  /** Every declared alarm, by its instance id (`<key>` or `<key>-<resource>`). */
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  readonly instances: readonly AlarmInstance[];
  readonly composite: cloudwatch.CompositeAlarm;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OperationsStackProps) {
    super(scope, id, { description: 'Stockroom operations: the declared CloudWatch alarms, the system-unhealthy composite alarm and the dashboard' });
    const action = new cloudwatchActions.SnsAction(props.alarmTopic);
    this.instances = alarmInstances();
    for (const instance of this.instances) {
      const alarm = new cloudwatch.Alarm(this, instance.id, {
        alarmName: instanceAlarmName(props.prefix, instance),
        alarmDescription: `${instance.spec.summary}${instance.resource === undefined ? '' : ` (${instance.resource})`}: ${instance.spec.description}`.slice(0, 1024),
        metric: alarmMetric(instance, dimensionValues(instance, props)),
        threshold: instance.spec.threshold,
        comparisonOperator: COMPARISONS[instance.spec.comparison],
        evaluationPeriods: instance.spec.evaluationPeriods,
        datapointsToAlarm: instance.spec.datapointsToAlarm,
        treatMissingData: MISSING[instance.spec.treatMissingData],
      });
      alarm.addAlarmAction(action);
      this.alarms[instance.id] = alarm;
    }
    const members = this.instances.filter((i) => i.spec.composite).map((i) => this.alarm(i.id));
    this.composite = new cloudwatch.CompositeAlarm(this, systemUnhealthy.key, {
      compositeAlarmName: `${props.prefix}-${systemUnhealthy.key}`,
      alarmDescription: `${systemUnhealthy.summary}: ${systemUnhealthy.description}`,
      alarmRule: cloudwatch.AlarmRule.anyOf(...members.map((alarm) => cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM))),
    });
    this.composite.addAlarmAction(action);
    this.dashboard = this.buildDashboard(props, members);
  }

  /** The alarm of an instance id (throws for an id the declaration does not expand to). */
  alarm(id: string): cloudwatch.Alarm {
    const alarm = this.alarms[id];
    if (!alarm) throw new Error(`no declared alarm ${id}`);
    return alarm;
  }

  private buildDashboard(props: OperationsStackProps, critical: cloudwatch.IAlarm[]): cloudwatch.Dashboard {
    const widgets = new Map<WidgetTitle, cloudwatch.IWidget>();
    const graph = (title: WidgetTitle, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}): void => {
      widgets.set(title, new cloudwatch.GraphWidget({ title, left, width: 12, height: 6, ...extra }));
    };
    const minutes = Duration.minutes(1);
    const ours = (name: string, dimensionsMap: Record<string, string>, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service: METRICS_SERVICE, ...dimensionsMap }, statistic, period: minutes, label });
    const perClass = (name: string, statistic = 'Sum') => ROUTE_CLASSES.map((c) => ours(name, { route_class: c }, statistic, c));
    /** Every value of a metric over one dimension, found by a SEARCH expression (one line per route or function, however many there are). */
    const search = (schema: string, metricName: string, term: string, statistic: string, label: string) =>
      new cloudwatch.MathExpression({ expression: `SEARCH('{${schema}} MetricName="${metricName}"${term}', '${statistic}', 60)`, usingMetrics: {}, label, period: minutes });
    const ourRoutes = `${METRICS_NAMESPACE},service,route`;
    // Every function of this app is named after the stack (its nested stacks' functions too).
    const fnTerm = ` "${props.prefix}"`;
    const lambdaSearch = (metricName: string, statistic: string) => search('AWS/Lambda,FunctionName', metricName, fnTerm, statistic, metricName);

    widgets.set('Alarms', new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [this.composite, ...critical], width: 24, height: 6 }));
    graph('API requests by route class', perClass(METRIC_NAMES.requests));
    graph('API 4xx by route class', perClass(METRIC_NAMES.clientErrors));
    graph('API 5xx by route class', perClass(METRIC_NAMES.serverErrors));
    graph('API latency p50 / p99 by route class (ms)', [
      ...ROUTE_CLASSES.map((c) => ours(METRIC_NAMES.latency, { route_class: c }, 'p50', `${c} p50`)),
      ...ROUTE_CLASSES.map((c) => ours(METRIC_NAMES.latency, { route_class: c }, 'p99', `${c} p99`)),
    ], { leftAnnotations: [{ value: 200, label: 'promise (read, write)' }] });
    graph('API requests per route', [search(ourRoutes, METRIC_NAMES.requests, '', 'Sum', 'requests')]);
    graph('API 4xx per route', [search(ourRoutes, METRIC_NAMES.clientErrors, '', 'Sum', '4xx')]);
    graph('API 5xx per route', [search(ourRoutes, METRIC_NAMES.serverErrors, '', 'Sum', '5xx')]);
    graph('API latency p99 per route (ms)', [search(ourRoutes, METRIC_NAMES.latency, '', 'p99', 'p99')]);
    graph('API latency p50 per route (ms)', [search(ourRoutes, METRIC_NAMES.latency, '', 'p50', 'p50')]);
    graph('Lambda errors', [lambdaSearch('Errors', 'Sum')]);
    graph('Lambda throttles', [lambdaSearch('Throttles', 'Sum')]);
    graph('Lambda duration p99 (ms)', [lambdaSearch('Duration', 'p99')]);
    graph('Lambda concurrent executions', [
      lambdaSearch('ConcurrentExecutions', 'Maximum'),
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'ConcurrentExecutions', statistic: 'Maximum', period: minutes, label: 'account' }),
    ]);
    const table = props.table.tableName;
    const dynamo = (metricName: string, index?: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: table, ...(index ? { GlobalSecondaryIndexName: index } : {}) },
        statistic: 'Sum',
        period: minutes,
        label: `${metricName}${index ? ` ${index}` : ''}`,
      });
    const tableAndIndexes = [undefined, TABLE.gsi1.name];
    graph('DynamoDB consumed capacity (table and gsi1)', ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits'].flatMap((m) => tableAndIndexes.map((i) => dynamo(m, i))));
    graph('DynamoDB throttles (table and gsi1)', [
      ...['ReadThrottleEvents', 'WriteThrottleEvents'].flatMap((m) => tableAndIndexes.map((i) => dynamo(m, i))),
      search('AWS/DynamoDB,TableName,Operation', 'ThrottledRequests', '', 'Sum', 'ThrottledRequests'),
    ]);
    graph('Conditional-check failures and write retries', [
      ours(METRIC_NAMES.conditionalCheckFailures, {}, 'Sum', METRIC_NAMES.conditionalCheckFailures),
      ours(METRIC_NAMES.writeRetries, {}, 'Sum', METRIC_NAMES.writeRetries),
    ]);
    graph('Stream iterator age (ms)', [
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'IteratorAge', dimensionsMap: { FunctionName: this.fn(props, 'streamProcessor').functionName }, statistic: 'Maximum', period: minutes, label: 'streamProcessor' }),
    ]);
    const queues = Object.entries(props.consumerQueues);
    graph('Queue depth', queues.map(([name, q]) => q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: minutes, label: name })));
    graph('Queue age of oldest message (s)', queues.map(([name, q]) => q.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: minutes, label: name })));
    graph('Dead-letter queue depth', Object.entries(props.deadLetterQueues).map(([name, q]) => q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: minutes, label: name })));
    const service = (name: string, statistic = 'Sum') => ours(name, {}, statistic, name);
    graph('Stock and orders', [METRIC_NAMES.stockUpdates, METRIC_NAMES.allocations, METRIC_NAMES.insufficientStock, METRIC_NAMES.idempotentReplays].map((m) => service(m)));
    graph('Events and notifications', [
      service(METRIC_NAMES.eventsPublished),
      service(METRIC_NAMES.consumerFailures),
      ...['email', 'sms', 'webhook'].flatMap((channel) => [
        ours(METRIC_NAMES.notificationsSent, { channel }, 'Sum', `${METRIC_NAMES.notificationsSent} ${channel}`),
        ours(METRIC_NAMES.notificationFailures, { channel }, 'Sum', `${METRIC_NAMES.notificationFailures} ${channel}`),
      ]),
    ]);
    graph('Sales channel sync', [service(METRIC_NAMES.syncLag, 'Maximum')], { right: [service(METRIC_NAMES.syncDrift)] });

    const missing = DASHBOARD_WIDGETS.filter((title) => !widgets.has(title));
    if (missing.length) throw new Error(`dashboard widgets not built: ${missing.join(', ')}`);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${props.prefix}-operations`, defaultInterval: Duration.hours(3) });
    const ordered = DASHBOARD_WIDGETS.map((title) => widgets.get(title)).filter((w): w is cloudwatch.IWidget => w !== undefined);
    for (let i = 0; i < ordered.length; i += 2) dashboard.addWidgets(...ordered.slice(i, i + 2));
    return dashboard;
  }

  private fn(props: OperationsResources, name: string): lambda.IFunction {
    const fn = props.functions[name];
    if (!fn) throw new Error(`no function ${name} for the operations stack`);
    return fn;
  }
}

/** The physical name a resource of this scope has in AWS: what fills EACH in. */
const eachOf = (scope: AlarmScope | undefined, resource: string | undefined, props: OperationsResources): string | undefined => {
  if (scope === undefined || resource === undefined) return undefined;
  const pick = <T>(record: Record<string, T>, kind: string): T => {
    const found = record[resource];
    if (!found) throw new Error(`the alarm declaration names ${kind} ${resource}, which the stack does not build`);
    return found;
  };
  switch (scope) {
    case 'routeClasses':
      return resource;
    case 'functions':
    case 'unscheduledFunctions':
    case 'schedules':
    case 'streamProcessor':
      return pick(props.functions, 'function').functionName;
    case 'deadLetterQueues':
      return pick(props.deadLetterQueues, 'dead-letter queue').queueName;
    case 'consumerQueues':
      return pick(props.consumerQueues, 'queue').queueName;
    case 'tableAndIndexes':
      return resource === THE_TABLE ? undefined : resource;
  }
};

const dimensionValues = (instance: AlarmInstance, props: OperationsResources): DimensionValues<string> => ({
  each: eachOf(instance.scope, instance.resource, props),
  table: props.table.tableName,
});

const toMetric = (m: ResolvedMetric<string>, period: Duration): cloudwatch.Metric =>
  new cloudwatch.Metric({ namespace: m.namespace, metricName: m.name, dimensionsMap: m.dimensions, statistic: m.statistic, period });

/** The CloudWatch metric (or metric math, for a ratio) of one instance. */
const alarmMetric = (instance: AlarmInstance, values: DimensionValues<string>): cloudwatch.IMetric => {
  const period = Duration.seconds(instance.periodSeconds);
  const resolved = resolveInstance(instance, values);
  if ('metric' in resolved) return toMetric(resolved.metric, period);
  const { numerator, denominator, minimumDenominator } = resolved.ratio;
  return new cloudwatch.MathExpression({
    expression: `IF(d >= ${minimumDenominator}, 100 * FILL(n, 0) / d, 0)`,
    usingMetrics: { n: toMetric(numerator, period), d: toMetric(denominator, period) },
    period,
    label: `${numerator.name} % of ${denominator.name}`,
  });
};
