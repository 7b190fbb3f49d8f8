import { Duration, NestedStack } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { queueUrlEnv } from '../functions/platform/queues';
import { channelConsumers, channelSchedules, channelSyncQueues, entriesOf, type HttpRoute, type SyncQueueName } from '../functions/wiring';
import { useChannelSecrets } from './api';
import { InventoryConsumers } from './consumers';
import { stockroomFunction } from './functions';
import type { InventoryLake } from './lake';
import { QueueWithDeadLetters } from './queues';
import { mapRecord } from './records';
import { InventorySchedules } from './schedules';

export type ChannelConsumerName = keyof typeof channelConsumers;

/** The routes of the channels context (functions/channels/): built in this nested stack, on the main stack's HTTP API. */
export const isChannelRoute = (route: Pick<HttpRoute, 'entry'>): boolean => route.entry.startsWith('functions/channels/');
export type ChannelScheduleName = keyof typeof channelSchedules;

export interface SyncQueueResources {
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
  function: NodejsFunction;
}

/**
 * Sales channels (issue 11) in AWS, in a nested stack of their own: CloudFormation allows 500
 * resources a stack and the API's one function per route fills most of the main one. It holds what
 * functions/wiring.ts declares for channels:
 * - the sync queues (channelSyncQueues): an SQS FIFO queue each, with a FIFO dead-letter queue and
 *   drained by its worker (batches with partial failures, at most `maxConcurrency` at once);
 * - the consumers behind their queues (channelConsumers) and the schedules (channelSchedules), built
 *   by the same constructs as the main stack's, on the parent's table and bus; a consumer that
 *   `sendsTo` sync queues gets their URLs and SendMessage on them, nothing more.
 * - the channel routes' functions, integrations and routes (lib/api.ts builds them here through its
 *   routeScope), on the one HTTP API and JWT authorizer of the main stack.
 */
export class ChannelsStack extends NestedStack {
  readonly syncQueues: Record<SyncQueueName, SyncQueueResources>;
  readonly consumers: InventoryConsumers<ChannelConsumerName>;
  readonly schedules: InventorySchedules<ChannelScheduleName>;

  constructor(scope: Construct, id: string, props: { table: TableV2; bus: events.IEventBus; lake: InventoryLake }) {
    super(scope, id, { description: 'Stockroom sales channels: stock pushes, inbound orders, reconciliation' });
    this.syncQueues = mapRecord(channelSyncQueues, (name, spec): SyncQueueResources => {
      const { queue, deadLetterQueue } = new QueueWithDeadLetters(this, name, {
        fifo: true,
        visibilityTimeout: Duration.seconds(spec.queue.visibilityTimeoutSeconds),
        maxReceiveCount: spec.queue.maxReceives,
      });
      const fn = stockroomFunction(this, name, {
        entry: spec.entry,
        description: `Sync worker: ${spec.summary}`,
        table: props.table,
        access: spec.table,
        timeout: Duration.seconds(Math.floor(spec.queue.visibilityTimeoutSeconds / 6)),
      });
      useChannelSecrets(fn, spec.channelSecrets);
      fn.addEventSource(new SqsEventSource(queue, { batchSize: spec.queue.batchSize, reportBatchItemFailures: true, maxConcurrency: spec.maxConcurrency }));
      return { queue, deadLetterQueue, function: fn };
    });
    this.consumers = new InventoryConsumers(this, 'Consumers', { ...props, consumers: channelConsumers });
    for (const [name, consumer] of entriesOf(channelConsumers)) {
      for (const target of 'sendsTo' in consumer ? consumer.sendsTo : []) {
        const fn = this.consumers.consumers[name].function;
        fn.addEnvironment(queueUrlEnv(target), this.syncQueues[target].queue.queueUrl);
        this.syncQueues[target].queue.grantSendMessages(fn);
      }
    }
    this.schedules = new InventorySchedules(this, 'Schedules', { table: props.table, lake: props.lake, schedules: channelSchedules });
  }
}
