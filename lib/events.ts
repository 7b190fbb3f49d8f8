import { Duration, Validations } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_MARKER_LEADING_KEYS, STOCK_LEVEL_LEADING_KEYS } from '../functions/platform/keys';
import { EVENT_BUS_ENV, streamProcessor } from '../functions/wiring';
import { stockroomFunction } from './functions';
import { QueueWithDeadLetters } from './queues';

export interface InventoryEventsProps {
  table: TableV2;
  /** The table's customer-managed key (the marker writes need it). */
  tableKey: kms.IKey;
}

/**
 * Domain events: the table's stream -> the stream processor Lambda
 * (functions/wiring.ts `streamProcessor`) -> a custom EventBridge bus.
 *
 * The event source mapping reads from TRIM_HORIZON in batches of
 * `batchSize`, reports partial batch failures, bisects a failing batch and
 * retries `maxRetries` times; a batch that still fails is described (shard,
 * sequence numbers) in the SQS dead-letter queue. Its alarms (the first
 * dead-lettered batch, the iterator age) are the declared ones
 * (functions/operations/alarms.ts), built by lib/operations.ts. ParallelizationFactor stays 1: one invocation
 * per shard at a time is what the processor's publish-once markers rely on.
 */
export class InventoryEvents extends Construct {
  readonly bus: events.EventBus;
  readonly deadLetterQueue: sqs.Queue;
  readonly processor: NodejsFunction;

  constructor(scope: Construct, id: string, props: InventoryEventsProps) {
    super(scope, id);
    const { table } = props;

    this.bus = new events.EventBus(this, 'Bus', { description: 'Stockroom domain events (OrderAllocated, OrderReleased, OrderShipped, StockLevelChanged, AlertOpened, AlertUpdated, AlertResolved)' });

    this.deadLetterQueue = QueueWithDeadLetters.deadLettersOnly(this, 'Stream').deadLetterQueue;
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination of the stream processor (it receives descriptions of stream batches that failed every retry); a dead-letter queue of a dead-letter queue would only hide them further. The alarm on its depth is the follow-up.',
    });

    this.processor = stockroomFunction(this, 'StreamProcessor', {
      entry: streamProcessor.entry,
      description: 'Table stream -> typed domain events on the EventBridge bus (partial batch responses, publish-once markers)',
      table,
      access: 'custom',
      // A batch of 100 records is a few table calls and at most ~10 PutEvents calls; a minute is ample.
      timeout: Duration.seconds(60),
      environment: { [EVENT_BUS_ENV]: this.bus.eventBusName },
    });

    this.processor.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: streamProcessor.batchSize,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: streamProcessor.maxRetries,
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.deadLetterQueue),
      }),
    );

    // The markers (functions/platform/keys.ts): its own items only (fine-grained access on the partition key), nothing else of the table.
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [EVENT_MARKER_LEADING_KEYS] } },
      }),
    );
    // A split level's StockLevelChanged carries its sum, read with TransactGetItems (authorized as GetItem per item):
    // stock levels and sub-levels only, read only.
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [STOCK_LEVEL_LEADING_KEYS] } },
      }),
    );
    props.tableKey.grant(this.processor, 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*');
    this.bus.grantPutEventsTo(this.processor);
  }
}
