import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { eventConsumers } from '../functions/wiring';
import { stockroomFunction } from './functions';
import { QueueWithDeadLetters } from './queues';
import { mapRecord } from './records';

export type ConsumerName = keyof typeof eventConsumers;

export interface EventConsumerResources {
  rule: events.Rule;
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
  function: NodejsFunction;
  deadLetterAlarm: cloudwatch.Alarm;
}

/**
 * Per entry of functions/wiring.ts `eventConsumers` (the declaration
 * bin/local/queues.ts runs locally): a rule on the custom bus with the
 * entry's pattern -> an encrypted SQS queue (redrive to a dead-letter queue
 * after `maxReceives`) -> the consumer Lambda, batches with partial batch
 * responses; an alarm on the first dead-lettered message.
 */
export class InventoryConsumers extends Construct {
  readonly consumers: Record<ConsumerName, EventConsumerResources>;

  constructor(scope: Construct, id: string, props: { table: TableV2; bus: events.IEventBus }) {
    super(scope, id);
    this.consumers = mapRecord(eventConsumers, (name, consumer): EventConsumerResources => {
      const { queue, deadLetterQueue, deadLetterAlarm } = new QueueWithDeadLetters(this, name, {
        visibilityTimeout: Duration.seconds(consumer.queue.visibilityTimeoutSeconds),
        maxReceiveCount: consumer.queue.maxReceives,
        alarmDescription: `${name}: events failed ${consumer.queue.maxReceives} deliveries and were dead-lettered. Inspect the messages (EventBridge events) and redrive them.`,
      });
      const fn = stockroomFunction(this, name, {
        entry: consumer.entry,
        description: `Event consumer: ${consumer.summary}`,
        table: props.table,
        access: consumer.table,
        // A sixth of the visibility timeout, as AWS advises for SQS event sources.
        timeout: Duration.seconds(Math.floor(consumer.queue.visibilityTimeoutSeconds / 6)),
      });
      fn.addEventSource(new SqsEventSource(queue, { batchSize: consumer.queue.batchSize, reportBatchItemFailures: true }));
      const rule = new events.Rule(this, `${name}Rule`, {
        eventBus: props.bus,
        description: `${name}: ${consumer.summary}`.slice(0, 512),
        eventPattern: { source: [...consumer.pattern.source], detailType: [...consumer.pattern['detail-type']] },
        targets: [new targets.SqsQueue(queue)],
      });
      return { rule, queue, deadLetterQueue, function: fn, deadLetterAlarm };
    });
  }
}
