import { createHash } from 'node:crypto';
import {
  alarmInstances,
  instanceAlarmName,
  resolveInstance,
  STREAM_PROCESSOR,
  THE_TABLE,
  type AlarmInstance,
  type ResolvedMetric,
} from '../../functions/operations/alarm-resources';
import { systemUnhealthy, type Comparison, type Statistic } from '../../functions/operations/alarms';
import { errorMessage } from '../../functions/platform/errors';
import { log } from '../../functions/platform/log';
import { onMetricLine, type EmfLine } from '../../functions/platform/metrics';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalBus } from './bus';
import type { LocalConsumers } from './queues';
import type { StreamPoller } from './streams';

/**
 * The local stand-in for CloudWatch alarms (issue 14): every alarm of the one declaration
 * (functions/operations/alarms.ts, expanded over the wiring exactly as the stack expands it),
 * evaluated over
 * - the EMF lines this process publishes (functions/platform/metrics.ts onMetricLine), for the
 *   Stockroom namespace, and
 * - samples the local stand-ins give for the AWS namespaces (samplers): each local queue's
 *   dead-letter depth and oldest message's age, the stream poller's iterator age, the errors of
 *   the consumers' handlers. What has no local stand-in (Lambda throttles, DynamoDB throttles)
 *   has no data, which its alarm treats as it declares (all: not breaching, so OK).
 *
 * Evaluation is CloudWatch's: one datapoint per period (periods aligned on the clock, each the
 * statistic over the samples heard in it), the last `evaluationPeriods` of them, ALARM when
 * `datapointsToAlarm` breach, missing datapoints treated as declared. Each alarm starts in
 * INSUFFICIENT_DATA and is evaluated at the end of each of its periods; the composite after them.
 * Every state change (the first INSUFFICIENT_DATA -> OK included, as CloudWatch sends it) is
 * published once on the local bus as the event CloudWatch puts on the default bus:
 * `aws.cloudwatch` / `CloudWatch Alarm State Change` with the alarm's ARN in `resources`.
 *
 * `--alarm-period-seconds N` (npm start): every declared period becomes N seconds, whatever it was
 * (60 s, 300 s, a schedule's hour), with the same evaluation periods, datapoints and thresholds,
 * so an alarm reacts in N x its periods instead of minutes. Thresholds are not scaled: a queue age
 * or an iterator age is still measured in real seconds.
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
/** One sample of a metric, as a local stand-in reports it. */
export interface MetricSample {
  namespace: string;
  name: string;
  dimensions: Readonly<Record<string, string>>;
  value: number;
}
/** What a stand-in reports each time the evaluator samples (every tick). */
export type Sampler = (now: number) => MetricSample[];

/** The alarms' names start with this, as the stack's do with its name (lib/app.ts STACK_NAME). */
export const LOCAL_ALARM_PREFIX = 'Stockroom';
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';
export const ALARM_SOURCE = 'aws.cloudwatch';

/** Local physical names: a queue is its wiring name, its dead-letter queue that plus this; a function its wiring name. */
export const localDeadLetterQueueName = (name: string): string => `${name}-dead-letters`;

export interface LocalAlarmsOptions {
  bus: LocalBus;
  /** --alarm-period-seconds: every declared period becomes this many seconds (default: the declared periods). */
  periodSeconds?: number;
  samplers?: Sampler[];
  /** The local table's name (the DynamoDB alarms' TableName dimension). */
  tableName?: string;
  prefix?: string;
  /** The alarms to evaluate (default: every declared one). */
  instances?: readonly AlarmInstance[];
  now?: () => number;
  /** How often the samplers are read and ended periods evaluated; default a quarter of the shortest period, at most 1 s. */
  tickMs?: number;
}

interface StateRecord {
  value: AlarmState;
  reason: string;
  reasonData?: string;
  timestamp: string;
}

interface Datapoint {
  at: number;
  value: number | undefined;
}

type Metric = ResolvedMetric<string>;
type Resolved = { metric: Metric } | { ratio: { numerator: Metric; denominator: Metric; minimumDenominator: number } };

interface Evaluated {
  instance: AlarmInstance;
  name: string;
  arn: string;
  periodMs: number;
  resolved: Resolved;
  state: StateRecord;
  /** The end of the last period evaluated. */
  evaluatedTo: number;
}

/** CloudWatch's timestamp format in alarm events: `2019-10-02T17:04:40.985+0000`. */
const cloudwatchTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '+0000');

/** The key of a metric: namespace, name and its exact dimension set (CloudWatch matches the whole set). */
const keyOf = (namespace: string, name: string, dimensions: Readonly<Record<string, string>>): string =>
  JSON.stringify([namespace, name, Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);

/** The statistic of a period's values, as CloudWatch computes it (percentiles: nearest rank). */
export const statistic = (stat: Statistic, values: readonly number[]): number | undefined => {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Maximum':
      return Math.max(...values);
    case 'p99':
    case 'p50': {
      const sorted = [...values].sort((a, b) => a - b);
      const rank = Math.ceil((Number(stat.slice(1)) / 100) * sorted.length);
      return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
    }
  }
};

const breaches = (comparison: Comparison, value: number, threshold: number): boolean =>
  comparison === 'GreaterThanThreshold'
    ? value > threshold
    : comparison === 'GreaterThanOrEqualToThreshold'
      ? value >= threshold
      : comparison === 'LessThanThreshold'
        ? value < threshold
        : value <= threshold;

const COMPARISON_WORDS: Record<Comparison, string> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

const formatNumber = (n: number): string => (Number.isInteger(n) ? n.toFixed(1) : String(Math.round(n * 1000) / 1000));
/** `(02/10/19 16:59:00)`, as CloudWatch's reasons date a datapoint. */
const reasonDate = (ms: number): string => {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
};

/** The evaluator: start() subscribes to the metric lines and ticks; tick(now) is one step (tests drive it with their own clock). */
export class LocalAlarms {
  readonly alarms: Evaluated[];
  readonly composite: { name: string; arn: string; state: StateRecord; members: Evaluated[] };
  /** Every state change published, oldest first (also on the bus). */
  readonly changes: { alarmName: string; from: AlarmState; to: AlarmState; at: string }[] = [];
  private readonly samples = new Map<string, { at: number; value: number }[]>();
  private readonly now: () => number;
  private readonly tickMs: number;
  private readonly keepMs: number;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly options: LocalAlarmsOptions) {
    this.now = options.now ?? Date.now;
    const prefix = options.prefix ?? LOCAL_ALARM_PREFIX;
    const started = this.now();
    const initial: StateRecord = { value: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', timestamp: cloudwatchTime(started) };
    const arnOf = (name: string) => `arn:aws:cloudwatch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alarm:${name}`;
    this.alarms = (options.instances ?? alarmInstances()).map((instance) => {
      const name = instanceAlarmName(prefix, instance);
      const periodMs = (options.periodSeconds ?? instance.periodSeconds) * 1000;
      const resolved = resolveInstance(instance, { each: localEach(instance), table: options.tableName ?? 'stockroom-local' });
      return { instance, name, arn: arnOf(name), periodMs, resolved, state: { ...initial }, evaluatedTo: Math.floor(started / periodMs) * periodMs };
    });
    const compositeName = `${prefix}-${systemUnhealthy.key}`;
    this.composite = { name: compositeName, arn: arnOf(compositeName), state: { ...initial }, members: this.alarms.filter((a) => a.instance.spec.composite) };
    const periods = this.alarms.map((a) => a.periodMs);
    this.tickMs = options.tickMs ?? Math.min(1000, Math.max(10, Math.min(...periods) / 4));
    this.keepMs = Math.max(...this.alarms.map((a) => a.periodMs * (a.instance.spec.evaluationPeriods + 1)));
    for (const alarm of this.alarms) for (const metric of metricsOf(alarm.resolved)) this.samples.set(keyOf(metric.namespace, metric.name, metric.dimensions), []);
  }

  start(): this {
    this.unsubscribe = onMetricLine((line) => this.hear(line));
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
    return this;
  }

  /** Stops listening and ticking; resolves once every state change has been put on the bus. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.pending]);
  }

  /** Resolves once the state changes so far are on the bus. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** The alarm of this name (an instance's alarm, or the composite). */
  state(name: string): AlarmState | undefined {
    if (name === this.composite.name) return this.composite.state.value;
    return this.alarms.find((a) => a.name === name)?.state.value;
  }

  /** One EMF line's values, as datapoints of the metrics an alarm watches. */
  hear(line: EmfLine, at = this.now()): void {
    for (const directive of line._aws.CloudWatchMetrics) {
      for (const set of directive.Dimensions) {
        const dimensions: Record<string, string> = {};
        for (const name of set) dimensions[name] = String(line[name]);
        for (const metric of directive.Metrics) {
          const raw = line[metric.Name];
          const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number');
          for (const value of values) this.record(directive.Namespace, metric.Name, dimensions, value, at);
        }
      }
    }
  }

  /** One sample of a metric (a stand-in's gauge or counter). */
  record(namespace: string, name: string, dimensions: Readonly<Record<string, string>>, value: number, at = this.now()): void {
    this.samples.get(keyOf(namespace, name, dimensions))?.push({ at, value });
  }

  /** Samples the stand-ins, evaluates every alarm whose period ended, then the composite. */
  tick(now = this.now()): void {
    for (const sampler of this.options.samplers ?? []) {
      try {
        for (const s of sampler(now)) this.record(s.namespace, s.name, s.dimensions, s.value, now);
      } catch (error) {
        log.warn('alarm sampler failed', { error: errorMessage(error) });
      }
    }
    for (const alarm of this.alarms) {
      const end = Math.floor(now / alarm.periodMs) * alarm.periodMs;
      if (end <= alarm.evaluatedTo) continue;
      alarm.evaluatedTo = end;
      this.evaluate(alarm, end, now);
    }
    this.evaluateComposite(now);
    for (const [key, list] of this.samples) {
      const from = list.findIndex((s) => s.at >= now - this.keepMs);
      if (from > 0) list.splice(0, from);
      else if (from < 0 && list.length) this.samples.set(key, []);
    }
  }

  private values(metric: Metric, from: number, to: number): number | undefined {
    const list = this.samples.get(keyOf(metric.namespace, metric.name, metric.dimensions)) ?? [];
    return statistic(
      metric.statistic,
      list.filter((s) => s.at >= from && s.at < to).map((s) => s.value),
    );
  }

  private datapoint(alarm: Evaluated, from: number, to: number): number | undefined {
    const { resolved } = alarm;
    if ('metric' in resolved) return this.values(resolved.metric, from, to);
    const { numerator, denominator, minimumDenominator } = resolved.ratio;
    const d = this.values(denominator, from, to);
    if (d === undefined) return undefined;
    if (d < minimumDenominator) return 0;
    return (100 * (this.values(numerator, from, to) ?? 0)) / d;
  }

  private evaluate(alarm: Evaluated, end: number, now: number): void {
    const { spec } = alarm.instance;
    const points: Datapoint[] = [];
    for (let k = 0; k < spec.evaluationPeriods; k += 1) {
      const to = end - k * alarm.periodMs;
      points.push({ at: to - alarm.periodMs, value: this.datapoint(alarm, to - alarm.periodMs, to) });
    }
    const present = points.filter((p): p is { at: number; value: number } => p.value !== undefined);
    const missing = points.length - present.length;
    if (present.length === 0 && spec.treatMissingData === 'ignore') return;
    let next: AlarmState;
    let breaching = present.filter((p) => breaches(spec.comparison, p.value, spec.threshold)).length;
    if (spec.treatMissingData === 'breaching') breaching += missing;
    if (present.length === 0 && spec.treatMissingData === 'missing') next = 'INSUFFICIENT_DATA';
    else next = breaching >= spec.datapointsToAlarm ? 'ALARM' : 'OK';
    if (next === alarm.state.value) return;
    const shown = present.map((p) => `${formatNumber(p.value)} (${reasonDate(p.at)})`).join(', ');
    const words = COMPARISON_WORDS[spec.comparison];
    const reason =
      next === 'INSUFFICIENT_DATA'
        ? `Insufficient Data: ${spec.evaluationPeriods} datapoints were unknown.`
        : `Threshold Crossed: ${breaching} out of the last ${spec.evaluationPeriods} datapoints [${shown}] ${next === 'ALARM' ? `were ${words}` : `were not ${words}`} the threshold (${formatNumber(spec.threshold)}) (minimum ${spec.datapointsToAlarm} datapoint${spec.datapointsToAlarm === 1 ? '' : 's'} for ${alarm.state.value === 'ALARM' ? 'ALARM' : 'OK'} -> ${next} transition).`;
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: cloudwatchTime(now),
      startDate: cloudwatchTime(end - spec.evaluationPeriods * alarm.periodMs),
      period: alarm.periodMs / 1000,
      recentDatapoints: present.map((p) => p.value),
      threshold: spec.threshold,
      evaluatedDatapoints: points.map((p) => ({ timestamp: cloudwatchTime(p.at), ...(p.value === undefined ? {} : { value: p.value }) })),
    });
    this.change(alarm, { value: next, reason, reasonData, timestamp: cloudwatchTime(now) }, { description: this.description(alarm), metrics: this.configurationMetrics(alarm) }, now);
  }

  private evaluateComposite(now: number): void {
    const { composite } = this;
    // Evaluated once its members have been (CloudWatch's composite is INSUFFICIENT_DATA until then).
    if (composite.members.some((m) => m.state.value === 'INSUFFICIENT_DATA') && composite.state.value === 'INSUFFICIENT_DATA') return;
    const firing = composite.members.filter((m) => m.state.value === 'ALARM');
    const next: AlarmState = firing.length > 0 ? 'ALARM' : 'OK';
    if (next === composite.state.value) return;
    const reason =
      next === 'ALARM'
        ? `${firing.map((m) => m.arn).join(', ')} transitioned to ALARM`
        : `No alarm of the rule is in ALARM`;
    const alarmRule = composite.members.map((m) => `ALARM("${m.arn}")`).join(' OR ');
    this.change(composite, { value: next, reason, timestamp: cloudwatchTime(now) }, { alarmRule, description: `${systemUnhealthy.summary}: ${systemUnhealthy.description}` }, now);
  }

  private description(alarm: Evaluated): string {
    const { spec, resource } = alarm.instance;
    return `${spec.summary}${resource === undefined ? '' : ` (${resource})`}: ${spec.description}`.slice(0, 1024);
  }

  /** The alarm's metrics as CloudWatch's event lists them: a metric stat, or the expression and its two metrics. */
  private configurationMetrics(alarm: Evaluated): unknown[] {
    const period = alarm.periodMs / 1000;
    const stat = (metric: Metric) => ({ metric: { namespace: metric.namespace, name: metric.name, dimensions: metric.dimensions }, period, stat: metric.statistic });
    const { resolved } = alarm;
    if ('metric' in resolved) return [{ id: stableId(alarm.name), metricStat: stat(resolved.metric), returnData: true }];
    const { numerator, denominator, minimumDenominator } = resolved.ratio;
    return [
      { id: 'expr_1', expression: `IF(d >= ${minimumDenominator}, 100 * FILL(n, 0) / d, 0)`, label: `${numerator.name} % of ${denominator.name}`, returnData: true },
      { id: 'n', metricStat: stat(numerator), returnData: false },
      { id: 'd', metricStat: stat(denominator), returnData: false },
    ];
  }

  private change(alarm: { name: string; arn: string; state: StateRecord }, next: StateRecord, configuration: Record<string, unknown>, now: number): void {
    const previous = alarm.state;
    alarm.state = next;
    this.changes.push({ alarmName: alarm.name, from: previous.value, to: next.value, at: next.timestamp });
    // The first evaluation of each of ~200 alarms (INSUFFICIENT_DATA to OK) says nothing worth a line in the terminal; every other change does.
    if (!(previous.value === 'INSUFFICIENT_DATA' && next.value === 'OK')) log.info('alarm state changed', { alarm_name: alarm.name, from: previous.value, to: next.value });
    const detail = { alarmName: alarm.name, state: next, previousState: previous, configuration };
    const put = this.options.bus
      .putEvents([{ Source: ALARM_SOURCE, DetailType: ALARM_STATE_CHANGE, Detail: JSON.stringify(detail), EventBusName: this.options.bus.name, Time: new Date(now), Resources: [alarm.arn] }])
      .catch((error: unknown) => log.error('alarm state change not published', { alarm_name: alarm.name, error: errorMessage(error) }))
      .finally(() => this.pending.delete(put));
    this.pending.add(put);
  }
}

/** A metric id like CloudWatch's (a UUID-shaped id), stable per alarm. */
const stableId = (name: string): string => {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

const metricsOf = (resolved: Resolved): Metric[] => ('metric' in resolved ? [resolved.metric] : [resolved.ratio.numerator, resolved.ratio.denominator]);

/** The local physical name filling EACH in: wiring names for functions and queues, `<name>-dead-letters` for a dead-letter queue. */
const localEach = (instance: AlarmInstance): string | undefined => {
  const { scope, resource } = instance;
  if (scope === undefined || resource === undefined) return undefined;
  if (scope === 'deadLetterQueues') return localDeadLetterQueueName(resource);
  if (scope === 'tableAndIndexes') return resource === THE_TABLE ? undefined : resource;
  return resource;
};

/**
 * The samples of the local stand-ins, named as the alarms' metrics are locally: each queue's
 * dead-letter depth and oldest message's age, each consumer's handler errors (since the last
 * sample), and the stream processor's iterator age and dead-lettered batches.
 */
export const localSamplers = (sources: { consumers?: Pick<LocalConsumers, 'queues' | 'syncQueues'>; poller?: Pick<StreamPoller, 'deadLetters' | 'iteratorAgeMs'> }): Sampler[] => {
  const sqs = (name: string, queue: string, value: number): MetricSample => ({ namespace: 'AWS/SQS', name, dimensions: { QueueName: queue }, value });
  const lambda = (name: string, fn: string, value: number): MetricSample => ({ namespace: 'AWS/Lambda', name, dimensions: { FunctionName: fn }, value });
  const samplers: Sampler[] = [];
  const { consumers, poller } = sources;
  if (consumers) {
    const errorsSeen = new Map<string, number>();
    samplers.push((now) => {
      const out: MetricSample[] = [];
      for (const [name, queue] of [...Object.entries(consumers.queues), ...Object.entries(consumers.syncQueues)]) {
        out.push(sqs('ApproximateNumberOfMessagesVisible', localDeadLetterQueueName(name), queue.deadLetters.length));
        out.push(sqs('ApproximateAgeOfOldestMessage', name, queue.oldestAgeSeconds(now)));
      }
      for (const [name, queue] of Object.entries(consumers.queues)) {
        const errors = queue.stats.errors;
        out.push(lambda('Errors', name, errors - (errorsSeen.get(name) ?? 0)));
        errorsSeen.set(name, errors);
      }
      return out;
    });
  }
  if (poller) {
    samplers.push((now) => [
      lambda('IteratorAge', STREAM_PROCESSOR, poller.iteratorAgeMs(now)),
      sqs('ApproximateNumberOfMessagesVisible', localDeadLetterQueueName(STREAM_PROCESSOR), poller.deadLetters.length),
    ]);
  }
  return samplers;
};

/** npm start's evaluator: every declared alarm over this process's metric lines and the stand-ins' samples. */
export const startLocalAlarms = (options: LocalAlarmsOptions): LocalAlarms => new LocalAlarms(options).start();
