import { METRIC_NAMES, METRICS_NAMESPACE, METRICS_SERVICE } from '../platform/metrics';

/**
 * The one declaration of the system's alarms (issue 14): pure data. lib/operations.ts builds each
 * as a CloudWatch alarm (with the operator topic as its action), the composite "system unhealthy"
 * alarm over those marked `composite`, and the dashboard; bin/local/alarms.ts evaluates the same
 * declarations against the local runtime's EMF lines and its stand-ins' samples, and publishes the
 * same `CloudWatch Alarm State Change` events on the local bus.
 *
 * An alarm is either one alarm (`over` absent), or declared once for a kind of resource and
 * expanded over every resource of that kind the wiring declares (functions/operations/alarm-resources.ts):
 * every function, every dead-letter queue, every consumer queue, ... In its metric's dimensions,
 * EACH stands for the resource's own name (a function's or queue's name as AWS knows it, a route
 * class, an index name), TABLE for the table's name.
 */

/** Statistics both CloudWatch and the local evaluator compute the same way. */
export type Statistic = 'Sum' | 'Average' | 'Maximum' | 'p99' | 'p50';
export type Comparison = 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
/** CloudWatch's treatment of a period without a datapoint. */
export type MissingData = 'notBreaching' | 'breaching' | 'ignore' | 'missing';
/** critical: someone should look now (part of the composite, usually); warning: look today. */
export type Severity = 'critical' | 'warning';

/** The kinds of resource an alarm may be declared once for (alarm-resources.ts lists each kind's resources from the wiring). */
export type AlarmScope =
  /** read, write, report (functions/platform/metrics.ts ROUTE_CLASSES). */
  | 'routeClasses'
  /** Every function the wiring declares (routes, the fallback route, consumers, sync workers, schedules, the stream processor). */
  | 'functions'
  /** The same, but the scheduled functions, which have an alarm of their own (scheduleFailures). */
  | 'unscheduledFunctions'
  /** Every scheduled function (its period known: see `periodSeconds: 'schedule'`). */
  | 'schedules'
  /** Every dead-letter queue: each consumer's and sync queue's, the stream processor's, each lake feed's. */
  | 'deadLetterQueues'
  /** Every queue a consumer or sync worker reads. */
  | 'consumerQueues'
  /** The table's stream processor. */
  | 'streamProcessor'
  /** The table itself (resource `table`: the EACH dimension is left out) and each of its global secondary indexes. */
  | 'tableAndIndexes';

/** A dimension value filled in per resource when an alarm is expanded. */
export const EACH = '{each}';
/** A dimension value filled in with the table's name. */
export const TABLE = '{table}';

export interface MetricSpec {
  namespace: string;
  name: string;
  /** Exactly the metric's dimensions (CloudWatch matches the whole set); values may be EACH or TABLE. */
  dimensions: Readonly<Record<string, string>>;
  statistic: Statistic;
}

/**
 * A percentage of two metrics of the same statistic (Sum), e.g. 5xx of requests: 100 * numerator /
 * denominator, a period without numerator counting 0, and 0 below `minimumDenominator` (one failed
 * request of two is no outage). CloudWatch: `IF(d >= min, 100 * FILL(n, 0) / d, 0)`.
 */
export interface RatioSpec {
  ratio: { numerator: MetricSpec; denominator: MetricSpec; minimumDenominator: number };
}

export interface AlarmSpec {
  /** One line: what is wrong (the alert's title). */
  summary: string;
  /** What it means and what to do (the alarm's description). */
  description: string;
  severity: Severity;
  over?: AlarmScope;
  metric: MetricSpec | RatioSpec;
  /** The period of each datapoint; 'schedule': a scheduled function's period, at least 300 s (so each period holds a run). */
  periodSeconds: number | 'schedule';
  evaluationPeriods: number;
  /** Breaching datapoints among the last `evaluationPeriods` that put the alarm in ALARM. */
  datapointsToAlarm: number;
  comparison: Comparison;
  threshold: number;
  treatMissingData: MissingData;
  /** Part of the composite "system unhealthy" alarm. */
  composite: boolean;
}

const ours = (name: string, dimensions: Record<string, string>, statistic: Statistic): MetricSpec => ({
  namespace: METRICS_NAMESPACE,
  name,
  dimensions: { service: METRICS_SERVICE, ...dimensions },
  statistic,
});

/**
 * A report waits this long for its lake query before answering 202 (functions/platform/lake.ts
 * DEFAULT_DEADLINE_MS, held equal by test/unit/operations-alarms.test.ts; not imported, so whoever reads
 * this declaration does not load the Athena client), so its latency is this by design when the lake is slow.
 */
export const REPORT_DEADLINE_MS = 5_000;

/** The evaluation most alarms use: a breach in 3 of the last 5 one-minute periods (a blip is not an outage). */
const THREE_OF_FIVE_MINUTES = { periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3 } as const;

export const alarms = {
  apiServerErrors: {
    summary: 'API 5xx rate above 5%',
    description:
      'More than 5% of the API requests of this route class answered 5xx in 3 of the last 5 minutes (with at least 10 requests a minute). Look at the ServerErrors per route on the dashboard and at the functions\' logs; a 503 UNAVAILABLE means DynamoDB was throttled or unreachable.',
    severity: 'critical',
    over: 'routeClasses',
    metric: {
      ratio: {
        numerator: ours(METRIC_NAMES.serverErrors, { route_class: EACH }, 'Sum'),
        denominator: ours(METRIC_NAMES.requests, { route_class: EACH }, 'Sum'),
        minimumDenominator: 10,
      },
    },
    ...THREE_OF_FIVE_MINUTES,
    comparison: 'GreaterThanThreshold',
    threshold: 5,
    treatMissingData: 'notBreaching',
    composite: true,
  },
  readLatency: {
    summary: 'API reads slower than 200 ms (p99)',
    description: 'The 99th percentile of read requests took over 200 ms (the product\'s promise) in 3 of the last 5 minutes. Look at Latency per route on the dashboard, DynamoDB throttles and Lambda durations.',
    severity: 'critical',
    metric: ours(METRIC_NAMES.latency, { route_class: 'read' }, 'p99'),
    ...THREE_OF_FIVE_MINUTES,
    comparison: 'GreaterThanThreshold',
    threshold: 200,
    treatMissingData: 'notBreaching',
    composite: true,
  },
  writeLatency: {
    summary: 'API writes slower than 200 ms (p99)',
    description: 'The 99th percentile of write requests took over 200 ms (the product\'s promise) in 3 of the last 5 minutes. Look at Latency per route, WriteRetries and ConditionalCheckFailures (contention) and DynamoDB throttles.',
    severity: 'critical',
    metric: ours(METRIC_NAMES.latency, { route_class: 'write' }, 'p99'),
    ...THREE_OF_FIVE_MINUTES,
    comparison: 'GreaterThanThreshold',
    threshold: 200,
    treatMissingData: 'notBreaching',
    composite: true,
  },
  // Reports are lake queries (Athena): they are not held to 200 ms. A report waits up to its deadline
  // (5 s) for the query and then answers 202 with the query to poll, so its p99 is about the deadline
  // whenever the lake is slow. Above the deadline plus a second, even the 202 path is slow.
  reportLatency: {
    summary: `API reports slower than ${(REPORT_DEADLINE_MS + 1000) / 1000} s (p99)`,
    description: `The 99th percentile of report requests took over ${(REPORT_DEADLINE_MS + 1000) / 1000} s in 3 of the last 5 minutes: reports answer 202 after ${REPORT_DEADLINE_MS / 1000} s, so the lake query's start or polling itself is slow. Look at Athena and the report functions' logs.`,
    severity: 'warning',
    metric: ours(METRIC_NAMES.latency, { route_class: 'report' }, 'p99'),
    ...THREE_OF_FIVE_MINUTES,
    comparison: 'GreaterThanThreshold',
    threshold: REPORT_DEADLINE_MS + 1000,
    treatMissingData: 'notBreaching',
    composite: false,
  },
  lambdaErrors: {
    summary: 'A function failed',
    description: 'The function threw or timed out (Lambda Errors) in the last 5 minutes: an HTTP route answers its own errors, so this is a crash or a timeout; a consumer\'s failed batch is retried. Read the function\'s log.',
    severity: 'warning',
    over: 'unscheduledFunctions',
    metric: { namespace: 'AWS/Lambda', name: 'Errors', dimensions: { FunctionName: EACH }, statistic: 'Sum' },
    periodSeconds: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparison: 'GreaterThanThreshold',
    threshold: 0,
    treatMissingData: 'notBreaching',
    composite: false,
  },
  scheduleFailures: {
    summary: 'A scheduled job keeps failing',
    description: 'The scheduled function failed in 3 consecutive periods (each at least its schedule\'s, so each holds a run): its sweep is not happening. Read the function\'s log.',
    severity: 'warning',
    over: 'schedules',
    metric: { namespace: 'AWS/Lambda', name: 'Errors', dimensions: { FunctionName: EACH }, statistic: 'Sum' },
    periodSeconds: 'schedule',
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    comparison: 'GreaterThanThreshold',
    threshold: 0,
    treatMissingData: 'notBreaching',
    composite: false,
  },
  lambdaThrottles: {
    summary: 'A function was throttled',
    description: 'Lambda refused invocations of the function (concurrency exhausted) in the last 5 minutes: requests got 429/500, or events waited. Look at the account\'s concurrent executions on the dashboard.',
    severity: 'warning',
    over: 'functions',
    metric: { namespace: 'AWS/Lambda', name: 'Throttles', dimensions: { FunctionName: EACH }, statistic: 'Sum' },
    periodSeconds: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparison: 'GreaterThanThreshold',
    threshold: 0,
    treatMissingData: 'notBreaching',
    composite: false,
  },
  readThrottles: {
    summary: 'DynamoDB throttles reads',
    description: 'DynamoDB throttled reads of the table (or index) in 3 of the last 5 minutes: after the SDK\'s retries those requests answer 503. On-demand throttles a hot partition or a sudden surge; look at consumed capacity on the dashboard.',
    severity: 'critical',
    over: 'tableAndIndexes',
    metric: { namespace: 'AWS/DynamoDB', name: 'ReadThrottleEvents', dimensions: { TableName: TABLE, GlobalSecondaryIndexName: EACH }, statistic: 'Sum' },
    ...THREE_OF_FIVE_MINUTES,
    comparison: 'GreaterThanThreshold',
    threshold: 0,
    treatMissingData: 'notBreaching',
    composite: true,
  },
  writeThrottles: {
    summary: 'DynamoDB throttles writes',
    description: 'DynamoDB throttled writes of the table (or index) in 3 of the last 5 minutes: after the SDK\'s retries those requests answer 503. A hot item (one stock level) or a surge; look at consumed capacity and WriteRetries on the dashboard.',
    severity: 'critical',
    over: 'tableAndIndexes',
    metric: { namespace: 'AWS/DynamoDB', name: 'WriteThrottleEvents', dimensions: { TableName: TABLE, GlobalSecondaryIndexName: EACH }, statistic: 'Sum' },
    ...THREE_OF_FIVE_MINUTES,
    comparison: 'GreaterThanThreshold',
    threshold: 0,
    treatMissingData: 'notBreaching',
    composite: true,
  },
  deadLetters: {
    summary: 'Messages in a dead-letter queue',
    description: 'A message failed every delivery and was dead-lettered: its work (an event consumed, a push, a stream batch, a lake row) did not happen. Inspect the messages and redrive them once the cause is fixed.',
    severity: 'critical',
    over: 'deadLetterQueues',
    metric: { namespace: 'AWS/SQS', name: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: EACH }, statistic: 'Maximum' },
    periodSeconds: 60,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparison: 'GreaterThanThreshold',
    threshold: 0,
    treatMissingData: 'notBreaching',
    composite: true,
  },
  queueAge: {
    summary: 'A consumer queue is falling behind',
    description: 'The oldest message of a consumer\'s queue waited over 30 minutes, 15 minutes running: its consumer is failing, throttled or too slow (alerts, notifications and pushes are late). Look at the consumer\'s errors and duration.',
    severity: 'critical',
    over: 'consumerQueues',
    metric: { namespace: 'AWS/SQS', name: 'ApproximateAgeOfOldestMessage', dimensions: { QueueName: EACH }, statistic: 'Maximum' },
    periodSeconds: 300,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    comparison: 'GreaterThanThreshold',
    threshold: 30 * 60,
    treatMissingData: 'notBreaching',
    composite: true,
  },
  streamIteratorAge: {
    summary: 'The stream processor is behind',
    description: 'The stream processor was more than 5 minutes behind the table for 5 minutes: domain events (alerts, pushes, the lake) are late, and stream records expire after 24 h. Look at its errors, duration and the stream dead-letter queue.',
    severity: 'critical',
    over: 'streamProcessor',
    metric: { namespace: 'AWS/Lambda', name: 'IteratorAge', dimensions: { FunctionName: EACH }, statistic: 'Maximum' },
    periodSeconds: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 5,
    comparison: 'GreaterThanThreshold',
    threshold: 5 * 60 * 1000,
    treatMissingData: 'notBreaching',
    composite: true,
  },
  notificationFailures: {
    summary: 'Notifications keep failing',
    description: 'Email, SMS or webhook deliveries failed in 3 consecutive 5-minute periods: subscribers are not being told about alerts. Look at NotificationFailures per channel (SES, SNS, a subscriber\'s endpoint) and the notifier\'s log.',
    severity: 'warning',
    metric: ours(METRIC_NAMES.notificationFailures, {}, 'Sum'),
    periodSeconds: 300,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    comparison: 'GreaterThanThreshold',
    threshold: 0,
    treatMissingData: 'notBreaching',
    composite: false,
  },
} as const satisfies Record<string, AlarmSpec>;

export type AlarmKey = keyof typeof alarms;

/** The composite alarm: in ALARM while any alarm marked `composite` is. */
export const systemUnhealthy = {
  key: 'systemUnhealthy',
  summary: 'Stockroom is unhealthy',
  description: 'At least one critical alarm is in ALARM (5xx rate, latency, DynamoDB throttling, a dead-lettered message, a lagging queue or stream). The alarm\'s reason names which; the dashboard shows where.',
  severity: 'critical',
} as const satisfies { key: string; summary: string; description: string; severity: Severity };

export const isRatio = (metric: MetricSpec | RatioSpec): metric is RatioSpec => 'ratio' in metric;

/** The period of an alarm of this spec on this resource: 'schedule' is the schedule's period, at least 300 s. */
export const periodOf = (spec: Pick<AlarmSpec, 'periodSeconds'>, everySeconds?: number): number =>
  spec.periodSeconds === 'schedule' ? Math.max(300, everySeconds ?? 300) : spec.periodSeconds;

/**
 * An alarm's name: `<prefix>-<key>` or `<prefix>-<key>-<resource>` (prefix: the stack's name in AWS,
 * the same locally), so the alarm a state change names is found again in this declaration (parseAlarmName).
 */
export const alarmName = (prefix: string, key: string, resource?: string): string => (resource === undefined ? `${prefix}-${key}` : `${prefix}-${key}-${resource}`);

/** The declaration an alarm's name refers to (its key, and the resource it was expanded for), or undefined for an alarm not declared here. */
export const parseAlarmName = (name: string): { key: AlarmKey | typeof systemUnhealthy.key; resource?: string; prefix: string } | undefined => {
  const parts = name.split('-');
  for (let i = parts.length - 1; i >= 1; i -= 1) {
    const key = parts[i];
    if (key === undefined) continue;
    const prefix = parts.slice(0, i).join('-');
    const rest = parts.slice(i + 1).join('-');
    if (key === systemUnhealthy.key && rest === '') return { key, prefix };
    if (Object.prototype.hasOwnProperty.call(alarms, key)) {
      const spec: AlarmSpec = alarms[key as AlarmKey];
      if ((spec.over === undefined) === (rest === '')) return { key: key as AlarmKey, prefix, ...(rest === '' ? {} : { resource: rest }) };
    }
  }
  return undefined;
};
