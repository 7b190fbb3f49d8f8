import { inWorkScope, workScope } from './work-scope';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * The system's own metrics, as CloudWatch embedded metric format (EMF) log lines written by
 * Powertools Metrics: CloudWatch Logs turns each line into datapoints in AWS, and locally
 * bin/local's evaluator reads the same lines (onMetricLine) and applies the same alarm
 * declarations (functions/operations/alarms.ts) to them.
 *
 * Every metric here is in one namespace with the `service` dimension; the names, units and
 * dimension sets below are what the alarms and the dashboard refer to, so they are declared once.
 */
export const METRICS_NAMESPACE = 'Stockroom';
export const METRICS_SERVICE = 'stockroom';

/**
 * What every function of the stack runs with (lib/functions.ts): Powertools' service name and metrics
 * namespace (the same as the code passes), the log level (log.ts reads LOG_LEVEL), tracing on, and
 * the Tracer never recording a response or an error's body as trace metadata: an answer may hold
 * supplier contacts or a webhook secret, which a trace must not keep.
 */
export const POWERTOOLS_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  LOG_LEVEL: 'INFO',
  POWERTOOLS_TRACE_ENABLED: 'true',
  POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
  POWERTOOLS_TRACER_CAPTURE_ERROR: 'false',
} as const;

/** What a route's latency is promised against: a read, a write, or a report (a lake query, which may answer 202). */
export type RouteClass = 'read' | 'write' | 'report';
export const ROUTE_CLASSES: readonly RouteClass[] = ['read', 'write', 'report'];

export const METRIC_NAMES = {
  /** Dimension sets: [service, route_class] and [service, route]. */
  requests: 'Requests',
  latency: 'Latency',
  clientErrors: 'ClientErrors',
  serverErrors: 'ServerErrors',
  /** Dimension set: [service]. */
  stockUpdates: 'StockUpdates',
  allocations: 'Allocations',
  insufficientStock: 'InsufficientStockRefusals',
  conditionalCheckFailures: 'ConditionalCheckFailures',
  writeRetries: 'WriteRetries',
  idempotentReplays: 'IdempotentReplays',
  eventsPublished: 'EventsPublished',
  /** Dimension set: [service]. */
  consumerFailures: 'ConsumerFailures',
  /** Dimension sets: [service] and [service, channel] (email, sms, webhook). */
  notificationsSent: 'NotificationsSent',
  notificationFailures: 'NotificationFailures',
  /** Dimension sets: [service] and [service, platform] (shopify, amazon). */
  syncLag: 'SyncLagSeconds',
  syncDrift: 'SyncDriftUnits',
} as const;
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

export const METRIC_UNITS: Record<MetricName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Requests: MetricUnit.Count,
  Latency: MetricUnit.Milliseconds,
  ClientErrors: MetricUnit.Count,
  ServerErrors: MetricUnit.Count,
  StockUpdates: MetricUnit.Count,
  Allocations: MetricUnit.Count,
  InsufficientStockRefusals: MetricUnit.Count,
  ConditionalCheckFailures: MetricUnit.Count,
  WriteRetries: MetricUnit.Count,
  IdempotentReplays: MetricUnit.Count,
  EventsPublished: MetricUnit.Count,
  ConsumerFailures: MetricUnit.Count,
  NotificationsSent: MetricUnit.Count,
  NotificationFailures: MetricUnit.Count,
  SyncLagSeconds: MetricUnit.Seconds,
  SyncDriftUnits: MetricUnit.Count,
};

/** The dimensions a metric line carries besides `service`: each inner record is one dimension set. */
export type DimensionSets = readonly Readonly<Record<string, string>>[];

/** One EMF line as Powertools serializes it (what CloudWatch Logs and the local evaluator read). */
export interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [field: string]: unknown;
}

type LineListener = (line: EmfLine) => void;
const listeners = new Set<LineListener>();

/** The local runtime's evaluator hears every metric line this process publishes (in AWS CloudWatch Logs reads them). */
export const onMetricLine = (listener: LineListener): (() => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

/**
 * Where the lines are printed. In Lambda always: printing them is how CloudWatch gets them. Elsewhere
 * only with LOG_LEVEL=debug: locally the evaluator hears every line anyway (onMetricLine), and three
 * lines per request in a developer's terminal would bury the log.
 */
const printing = (): boolean => (process.env.AWS_EXECUTION_ENV ?? '') !== '' || (process.env.LOG_LEVEL ?? '').toLowerCase() === 'debug';

export type Values = Partial<Record<MetricName, number>>;

/** One Powertools Metrics for the process, made on first use (each instance builds its own Console). */
let shared: Metrics | undefined;

/**
 * One line: dimensions, values, serialized and cleared in one synchronous run, so the one shared
 * instance never holds two requests' dimensions at once, however many the local runtime serves
 * concurrently (nothing can run between the first addDimension and the clear).
 */
const emit = (entries: [MetricName, number][], dimensionSets: DimensionSets): void => {
  const metrics = (shared ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }));
  const [first, ...rest] = dimensionSets;
  if (first) for (const [name, value] of Object.entries(first)) metrics.addDimension(name, value);
  for (const set of rest) metrics.addDimensions({ ...set });
  for (const [name, value] of entries) metrics.addMetric(name, METRIC_UNITS[name], value);
  // Serialized here rather than by publishStoredMetrics, so the line reaches the local evaluator even with printing off.
  const line = metrics.serializeMetrics() as unknown as EmfLine;
  metrics.clearMetrics();
  metrics.clearDimensions();
  if (printing()) process.stdout.write(`${JSON.stringify(line)}\n`);
  for (const listener of listeners) listener(line);
};

/**
 * Publishes these values under each dimension set (each plus `service`; `{}` is `service` alone).
 * Powertools leaves the bare [service] set out of a line that has others, so that set gets a line
 * of its own.
 */
export const publishMetrics = (values: Values, dimensionSets: DimensionSets = [{}]): void => {
  const entries = Object.entries(values).filter((entry): entry is [MetricName, number] => entry[1] !== undefined);
  if (entries.length === 0) return;
  const named = dimensionSets.filter((set) => Object.keys(set).length > 0);
  if (named.length < dimensionSets.length) emit(entries, []);
  if (named.length > 0) emit(entries, named);
};

/** Runs `work` with `counted` as the place its counters go (countMetric): a request's, published once with its request line. */
export const withCounters = <T>(counted: Values, work: () => Promise<T>): Promise<T> => inWorkScope({ counters: counted }, work);

/**
 * Counts `n` of a service-wide counter: into the current request's line when there is one, else
 * on a line of its own (a schedule, the stream processor).
 */
export const countMetric = (name: MetricName, n = 1): void => {
  const counted = workScope().counters;
  if (counted) counted[name] = (counted[name] ?? 0) + n;
  else publishMetrics({ [name]: n });
};
