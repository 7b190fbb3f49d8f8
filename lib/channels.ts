import { NestedStack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { channelConsumers, channelSchedules } from '../functions/wiring';
import { InventoryConsumers } from './consumers';
import type { InventoryLake } from './lake';
import { InventorySchedules } from './schedules';

export type ChannelConsumerName = keyof typeof channelConsumers;
export type ChannelScheduleName = keyof typeof channelSchedules;

/**
 * Sales channels (issue 11) in AWS, in a nested stack of their own: CloudFormation allows 500
 * resources a stack and the API's one function per route fills most of the main one. It holds what
 * functions/wiring.ts declares for channels: the consumers behind their queues (channelConsumers)
 * and the schedules (channelSchedules), built by the same constructs as the main stack's, on the
 * parent's table and bus. The channel routes stay on the one HTTP API of the main stack.
 */
export class ChannelsStack extends NestedStack {
  readonly consumers: InventoryConsumers<ChannelConsumerName>;
  readonly schedules: InventorySchedules<ChannelScheduleName>;

  constructor(scope: Construct, id: string, props: { table: TableV2; bus: events.IEventBus; lake: InventoryLake }) {
    super(scope, id, { description: 'Stockroom sales channels: stock pushes, inbound orders, reconciliation' });
    this.consumers = new InventoryConsumers(this, 'Consumers', { ...props, consumers: channelConsumers });
    this.schedules = new InventorySchedules(this, 'Schedules', { table: props.table, lake: props.lake, schedules: channelSchedules });
  }

  /** Every alarm of the channels that should reach the operators' topic. */
  get alarms(): cloudwatch.Alarm[] {
    return [...Object.values<{ deadLetterAlarm: cloudwatch.Alarm }>(this.consumers.consumers).map((c) => c.deadLetterAlarm), ...Object.values<cloudwatch.Alarm>(this.schedules.alarms)];
  }
}
