import { Duration } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { eventConsumers, lakeRollups, type ChannelConsumer, type EventConsumer } from '../functions/wiring';
import { useChannelSecrets } from './api';
import { DEMAND_IMPORTS_PREFIX } from '../functions/platform/lake-objects';
import { CLOSE_PREFIX, FORECAST_PREFIX, grantLakePrefixes, tablePrefix, type InventoryLake } from './lake';
import { stockroomFunction } from './functions';
import { QueueWithDeadLetters } from './queues';
import { mapRecord } from './records';

export type ConsumerName = keyof typeof eventConsumers;

/**
 * Is the consumer's rule on the account's default event bus (`bus: 'default'` in its wiring entry)?
 * That is where AWS services put their own events: CloudWatch's `CloudWatch Alarm State Change`
 * reaches no custom bus. Read with `in`, so an entry without the field is on the custom bus.
 */
export const onDefaultBus = (consumer: EventConsumer): boolean => 'bus' in consumer && consumer.bus === 'default';

/** The consumers that read or write the lake bucket (`lake` declared), with their kind (test/infra/iam.test.ts holds the grants to these). */
export const LAKE_CONSUMERS: readonly ConsumerName[] = (Object.keys(eventConsumers) as ConsumerName[]).filter((name) => 'lake' in eventConsumers[name]);

export interface EventConsumerResources {
  rule: events.Rule;
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
  function: NodejsFunction;
}

/**
 * A consumer's lake access (functions/wiring.ts EventConsumer.lake), through S3 only:
 * - 'forecast-plan' (functions/forecasting/run.ts planRun) reads the close's closed.json, each
 *   closed day's rollups (level_days, level_balances) and the imported history (demand_imports/),
 *   and writes the run's chunks under forecast/;
 * - 'forecast-chunk' (runChunk) reads one chunk.
 */
const grantConsumerLake = (fn: NodejsFunction, consumer: EventConsumer, lake: InventoryLake): void => {
  if (consumer.lake === 'forecast-plan') {
    const days = [lakeRollups.levelDays.table, lakeRollups.levelBalances.table].map(tablePrefix);
    grantLakePrefixes(fn, lake, { read: [CLOSE_PREFIX, ...days, DEMAND_IMPORTS_PREFIX], write: [FORECAST_PREFIX] }, {
      [CLOSE_PREFIX]: `The planner reads each tenant's closed.json under ${CLOSE_PREFIX} (how far the lake is closed); nothing there is written.`,
      [DEMAND_IMPORTS_PREFIX]: `The planner lists and reads the tenant's imported demand history (${DEMAND_IMPORTS_PREFIX}tenant_id=<t>/<import_id>.parquet, one object per import); read only.`,
      ...Object.fromEntries(days.map((prefix) => [prefix, `The planner reads one object of this rollup per closed day of the tenant's history (${prefix}tenant_id=<t>/dt=<d>/...), read only.`])),
      [FORECAST_PREFIX]: `The planner writes a run's chunks (${FORECAST_PREFIX}tenant_id=<t>/run_id=<r>/chunk-<n>.json.gz), whose names it chooses per run.`,
    });
  } else if (consumer.lake === 'forecast-chunk') {
    grantLakePrefixes(fn, lake, { read: [FORECAST_PREFIX] }, {
      [FORECAST_PREFIX]: `A worker reads the one chunk its message names, under ${FORECAST_PREFIX}tenant_id=<t>/run_id=<r>/; read only.`,
    });
  }
};

/**
 * Per entry of functions/wiring.ts `eventConsumers` (the declaration
 * bin/local/queues.ts runs locally): a rule on the custom bus (the
 * account's default bus for an entry with `bus: 'default'`) with the
 * entry's pattern -> an encrypted SQS queue (redrive to a dead-letter queue
 * after `maxReceives`) -> the consumer Lambda, batches with partial batch
 * responses. Their alarms (dead letters, queue age, errors, throttles) are
 * the declared ones (functions/operations/alarms.ts), built by lib/operations.ts.
 */
export class InventoryConsumers<Name extends string = ConsumerName> extends Construct {
  readonly consumers: Record<Name, EventConsumerResources>;

  /** `consumers`: which record of the wiring to build (the main stack's eventConsumers, or a nested stack's, e.g. channelConsumers). */
  constructor(scope: Construct, id: string, props: { table: TableV2; bus: events.IEventBus; lake: InventoryLake; consumers: Record<Name, ChannelConsumer> }) {
    super(scope, id);
    let defaultBus: events.IEventBus | undefined;
    const busOf = (consumer: EventConsumer): events.IEventBus =>
      onDefaultBus(consumer) ? (defaultBus ??= events.EventBus.fromEventBusName(this, 'DefaultBus', 'default')) : props.bus;
    this.consumers = mapRecord(props.consumers, (name, consumer): EventConsumerResources => {
      const { queue, deadLetterQueue } = new QueueWithDeadLetters(this, name, {
        visibilityTimeout: Duration.seconds(consumer.queue.visibilityTimeoutSeconds),
        maxReceiveCount: consumer.queue.maxReceives,
      });
      const fn = stockroomFunction(this, name, {
        entry: consumer.entry,
        description: `Event consumer: ${consumer.summary}`,
        table: props.table,
        access: consumer.table,
        // A sixth of the visibility timeout, as AWS advises for SQS event sources.
        timeout: Duration.seconds(Math.floor(consumer.queue.visibilityTimeoutSeconds / 6)),
        ...('memorySize' in consumer ? { memorySize: consumer.memorySize } : {}),
      });
      grantConsumerLake(fn, consumer, props.lake);
      if (consumer.channelSecrets) useChannelSecrets(fn, consumer.channelSecrets);
      fn.addEventSource(new SqsEventSource(queue, { batchSize: consumer.queue.batchSize, reportBatchItemFailures: true }));
      const rule = new events.Rule(this, `${name}Rule`, {
        eventBus: busOf(consumer),
        description: `${name}: ${consumer.summary}`.slice(0, 512),
        eventPattern: { source: [...consumer.pattern.source], detailType: [...consumer.pattern['detail-type']] },
        targets: [new targets.SqsQueue(queue)],
      });
      return { rule, queue, deadLetterQueue, function: fn };
    });
  }
}
