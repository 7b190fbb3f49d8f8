import { ROUTE_CLASSES } from '../platform/metrics';
import { TABLE as TABLE_DECLARATION } from '../platform/table';
import {
  allEventConsumers,
  allScheduledFunctions,
  channelSyncQueues,
  entriesOf,
  httpRoutes,
  lakeFeeds,
} from '../wiring';
import { alarmName, alarms, EACH, isRatio, periodOf, TABLE, type AlarmKey, type AlarmScope, type AlarmSpec, type MetricSpec } from './alarms';

/**
 * The declared alarms expanded over the resources the wiring declares (functions/wiring.ts): what
 * lib/operations.ts builds one CloudWatch alarm for, and bin/local/alarms.ts evaluates, so both hold
 * exactly the same alarms. A resource is named as the wiring names it (a route, consumer, sync queue
 * or schedule's name); the stack and the local runtime each know what that name is as AWS sees it
 * (a function's or queue's physical name) and fill the EACH dimension in with it.
 */

/** The fallback route's function (functions/wiring.ts fallbackRoute), by the name lib/api.ts gives it. */
export const FALLBACK_FUNCTION = 'routeNotFound';
/** GET /api/health's function (functions/wiring.ts healthRoute), by the name lib/api.ts gives it. */
export const HEALTH_FUNCTION = 'health';
/** The stream processor (functions/wiring.ts streamProcessor): its function, and its dead-letter queue. */
export const STREAM_PROCESSOR = 'streamProcessor';
/** A lake feed's dead-letter queue (the rule's, in front of Firehose), by the feed's name. */
export const lakeFeedDeadLetters = (feed: string): string => `${feed}LakeFeed`;
/** The table itself among the tableAndIndexes resources (its indexes are named by their index names). */
export const THE_TABLE = 'table';

export interface AlarmResource {
  name: string;
  /** A scheduled function's period (the schedules scope). */
  everySeconds?: number;
}

const named = (names: readonly string[]): AlarmResource[] => names.map((name) => ({ name }));

const scheduled = (): AlarmResource[] => entriesOf(allScheduledFunctions).map(([name, s]) => ({ name, everySeconds: s.everySeconds }));

const unscheduledFunctions = (): string[] => [
  ...Object.keys(httpRoutes),
  FALLBACK_FUNCTION,
  HEALTH_FUNCTION,
  ...Object.keys(allEventConsumers),
  ...Object.keys(channelSyncQueues),
  STREAM_PROCESSOR,
];

/** Every resource of each scope, from the wiring. */
export const alarmResources = (): Record<AlarmScope, AlarmResource[]> => ({
  routeClasses: named(ROUTE_CLASSES),
  functions: [...named(unscheduledFunctions()), ...scheduled()],
  unscheduledFunctions: named(unscheduledFunctions()),
  schedules: scheduled(),
  deadLetterQueues: named([...Object.keys(allEventConsumers), ...Object.keys(channelSyncQueues), STREAM_PROCESSOR, ...Object.keys(lakeFeeds).map(lakeFeedDeadLetters)]),
  consumerQueues: named([...Object.keys(allEventConsumers), ...Object.keys(channelSyncQueues)]),
  streamProcessor: named([STREAM_PROCESSOR]),
  tableAndIndexes: named([THE_TABLE, TABLE_DECLARATION.gsi1.name]),
});

/** One alarm to build (or evaluate): a declaration, and the resource it was expanded for. */
export interface AlarmInstance {
  key: AlarmKey;
  spec: AlarmSpec;
  scope?: AlarmScope;
  /** The resource's name in the wiring (absent for an alarm not expanded). */
  resource?: string;
  periodSeconds: number;
  /** `<key>` or `<key>-<resource>`: the construct id, and the alarm name after the prefix (alarmName). */
  id: string;
}

/** Every alarm of the declaration, expanded. */
export const alarmInstances = (): AlarmInstance[] => {
  const resources = alarmResources();
  return entriesOf<AlarmKey, AlarmSpec>(alarms).flatMap(([key, spec]): AlarmInstance[] => {
    if (spec.over === undefined) return [{ key, spec, periodSeconds: periodOf(spec), id: key }];
    const scope = spec.over;
    return resources[scope].map((resource) => ({
      key,
      spec,
      scope,
      resource: resource.name,
      periodSeconds: periodOf(spec, resource.everySeconds),
      id: `${key}-${resource.name}`,
    }));
  });
};

/** The instance's alarm name under this prefix (the stack's name). */
export const instanceAlarmName = (prefix: string, instance: Pick<AlarmInstance, 'key' | 'resource'>): string => alarmName(prefix, instance.key, instance.resource);

/**
 * What fills EACH and TABLE in for one instance: `each` is the resource's name as AWS knows it (a
 * function's or queue's physical name, a route class, an index name), or undefined to leave the
 * dimension out (the table itself has no index dimension).
 */
export interface DimensionValues<V> {
  each: V | undefined;
  table: V;
}

/** A metric of an instance with EACH and TABLE filled in. */
export interface ResolvedMetric<V> {
  namespace: string;
  name: string;
  dimensions: Record<string, string | V>;
  statistic: MetricSpec['statistic'];
}

export const resolveMetric = <V>(metric: MetricSpec, values: DimensionValues<V>): ResolvedMetric<V> => {
  const dimensions: Record<string, string | V> = {};
  for (const [name, value] of Object.entries(metric.dimensions)) {
    if (value === EACH) {
      if (values.each !== undefined) dimensions[name] = values.each;
    } else if (value === TABLE) dimensions[name] = values.table;
    else dimensions[name] = value;
  }
  return { namespace: metric.namespace, name: metric.name, dimensions, statistic: metric.statistic };
};

/** The instance's metrics, resolved: one, or a ratio's numerator and denominator. */
export const resolveInstance = <V>(
  instance: AlarmInstance,
  values: DimensionValues<V>,
): { metric: ResolvedMetric<V> } | { ratio: { numerator: ResolvedMetric<V>; denominator: ResolvedMetric<V>; minimumDenominator: number } } => {
  const metric = instance.spec.metric;
  if (isRatio(metric)) {
    const { numerator, denominator, minimumDenominator } = metric.ratio;
    return { ratio: { numerator: resolveMetric(numerator, values), denominator: resolveMetric(denominator, values), minimumDenominator } };
  }
  return { metric: resolveMetric(metric, values) };
};

/** The members of the composite alarm. */
export const compositeMembers = (instances: readonly AlarmInstance[] = alarmInstances()): AlarmInstance[] => instances.filter((i) => i.spec.composite);
