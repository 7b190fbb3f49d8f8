import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { InventoryApi } from './api';
import { InventoryConsumers } from './consumers';
import { InventoryData } from './data';
import { InventoryEvents } from './events';
import { InventoryIdentity } from './identity';
import { InventoryLake } from './lake';
import { InventoryNotifications } from './notifications';
import { InventorySchedules } from './schedules';

export interface InventoryStackProps extends StackProps {
  /** API-wide throttling (requests per second and burst); see InventoryApiProps. */
  throttle?: { rateLimit: number; burstLimit: number };
}

/**
 * The whole inventory system in AWS: table, users, HTTP API and one function
 * per route; the stream processor publishing domain events to the bus; the
 * scheduled functions; the event consumers behind their queues; the
 * notification channels (SES, SNS) and the operator alarm topic; the ledger
 * lake (S3, Glue, Athena, Firehose).
 */
export class InventoryStack extends Stack {
  readonly data: InventoryData;
  readonly identity: InventoryIdentity;
  readonly api: InventoryApi;
  readonly events: InventoryEvents;
  readonly schedules: InventorySchedules;
  readonly consumers: InventoryConsumers;
  readonly notifications: InventoryNotifications;
  readonly lake: InventoryLake;

  constructor(scope: Construct, id: string, props: InventoryStackProps = {}) {
    super(scope, id, props);
    this.data = new InventoryData(this, 'Data');
    this.identity = new InventoryIdentity(this, 'Identity');
    this.api = new InventoryApi(this, 'Api', {
      table: this.data.table,
      // Cognito ID tokens: `iss` is the pool, `aud` the app client id.
      jwtIssuer: this.identity.issuer,
      jwtAudience: [this.identity.client.userPoolClientId],
      ...(props.throttle ? { throttle: props.throttle } : {}),
    });
    this.events = new InventoryEvents(this, 'Events', { table: this.data.table, tableKey: this.data.key });
    this.schedules = new InventorySchedules(this, 'Schedules', { table: this.data.table });
    this.consumers = new InventoryConsumers(this, 'Consumers', { table: this.data.table, bus: this.events.bus });
    this.notifications = new InventoryNotifications(this, 'Notifications', {
      notifier: this.consumers.consumers.notifyAlerts.function,
      alarms: [
        this.events.deadLetterAlarm,
        this.events.iteratorAgeAlarm,
        ...Object.values(this.consumers.consumers).map((c) => c.deadLetterAlarm),
      ],
    });
    this.lake = new InventoryLake(this, 'Lake');

    new CfnOutput(this, 'ApiUrl', { value: this.api.stage.url, description: 'Base URL of the HTTP API (routes start with /api)' });
    new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.identity.client.userPoolClientId });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName, description: 'Custom EventBridge bus of the domain events' });
    new CfnOutput(this, 'StreamDeadLetterQueueUrl', { value: this.events.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.notifications.alarmTopic.topicArn, description: 'SNS topic of the operator alarms (dead-letter queues, stream lag): subscribe on-call to it' });
  }
}
