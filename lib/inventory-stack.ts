import { CfnOutput, Lazy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { ATHENA_WORKGROUP_ENV, LAKE_DATABASE_ENV } from '../functions/platform/lake';
import { DEMAND_IMPORTS_PREFIX, LAKE_BUCKET_ENV } from '../functions/platform/lake-objects';
import { entriesOf, eventConsumers, httpRoutes, lakeTables, scheduledFunctions, type RouteName } from '../functions/wiring';
import type { Construct } from 'constructs';
import { InventoryApi } from './api';
import { ChannelsStack, isChannelRoute } from './channels';
import { InventoryAudit } from './audit';
import { isWebhookRoute } from '../functions/platform/routes';
import { InventoryConsumers } from './consumers';
import { InventoryData } from './data';
import { InventoryEvents } from './events';
import { InventoryIdentity } from './identity';
import { cfnBucketOf, CLOSE_PREFIX, InventoryLake, lakeKeyThroughS3, tablePrefix } from './lake';
import { InventoryNotifications } from './notifications';
import { InventorySchedules } from './schedules';
import { RoutesStack } from './route-stack';
import { OperationsStack, type OperationsResources } from './operations';
import { FALLBACK_FUNCTION, HEALTH_FUNCTION, lakeFeedDeadLetters, STREAM_PROCESSOR } from '../functions/operations/alarm-resources';
import { DashboardStack } from './web';

export interface InventoryStackProps extends StackProps {
  /** API-wide throttling (requests per second and burst); see InventoryApiProps. */
  throttle?: { rateLimit: number; burstLimit: number };
  /** The dashboard's Cognito hosted UI domain prefix (unique in the region); default: from this stack's construct address. */
  dashboardDomainPrefix?: string;
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
  readonly channels: ChannelsStack;
  /** The routes of customer orders and purchase orders, in a nested stack of their own for the main stack's resource budget. */
  readonly orderRoutes: RoutesStack;
  readonly audit: InventoryAudit;
  readonly dashboard: DashboardStack;
  /** The declared alarms, the composite alarm and the CloudWatch dashboard, in a nested stack of their own. */
  readonly operations: OperationsStack;

  constructor(scope: Construct, id: string, props: InventoryStackProps = {}) {
    super(scope, id, props);
    this.data = new InventoryData(this, 'Data');
    this.identity = new InventoryIdentity(this, 'Identity');
    this.events = new InventoryEvents(this, 'Events', { table: this.data.table, tableKey: this.data.key });
    this.lake = new InventoryLake(this, 'Lake', { bus: this.events.bus });
    this.channels = new ChannelsStack(this, 'Channels', { table: this.data.table, bus: this.events.bus, lake: this.lake });
    this.orderRoutes = new RoutesStack(this, 'OrderRoutes', {
      description: 'Stockroom order routes: customer orders (allocation, holds, shipment) and purchase orders (suppliers, receiving)',
      contexts: ['orders', 'purchasing'],
    });
    this.api = new InventoryApi(this, 'Api', {
      table: this.data.table,
      // Cognito ID tokens: `iss` is the pool, `aud` the app client id.
      jwtIssuer: this.identity.issuer,
      // The dashboard's client is made after the API (it needs the API's domain), so its id is read lazily.
      jwtAudience: [this.identity.client.userPoolClientId, Lazy.string({ produce: () => this.dashboard.client.userPoolClientId })],
      userPool: this.identity.userPool,
      ...(props.throttle ? { throttle: props.throttle } : {}),
      // The channel context's routes live in its nested stack, with its consumers and schedules; the order and purchasing routes in theirs.
      routeScope: (_name, route) => (isChannelRoute(route) ? this.channels : this.orderRoutes.holds(route) ? this.orderRoutes.routes : undefined),
    });
    this.dashboard = new DashboardStack(this, 'Dashboard', {
      httpApi: this.api.httpApi,
      userPool: this.identity.userPool,
      clientAttributes: this.identity.clientAttributes,
      domainPrefix: props.dashboardDomainPrefix ?? `stockroom-${this.node.addr.slice(0, 12)}`,
    });
    this.schedules = new InventorySchedules(this, 'Schedules', { table: this.data.table, lake: this.lake, schedules: scheduledFunctions });
    this.consumers = new InventoryConsumers(this, 'Consumers', { table: this.data.table, bus: this.events.bus, lake: this.lake, consumers: eventConsumers });
    this.audit = new InventoryAudit(this, 'Audit', { table: this.data.table, lake: this.lake });
    // Every token route may record (its changes, its sensitive reads, its refusals); the webhook is verified by signature and acts as the system.
    for (const [name, route] of entriesOf(httpRoutes)) if (!isWebhookRoute(route)) this.audit.grantWrite(this.api.functions[name]);
    for (const name of AUDIT_READ_ROUTES) this.audit.grantRead(this.api.functions[name]);
    // The change's transaction carries its record, and is sent as the caller's tenant (token vending).
    for (const access of this.api.tenantAccess) if (access.roles.write) this.audit.grantTenantRecords(access.roles.write);
    for (const name of LAKE_QUERY_ROUTES) grantReportQueries(this.api.functions[name], this.lake);
    for (const name of LAKE_IMPORT_ROUTES) grantDemandImports(this.api.functions[name], this.lake);
    this.notifications = new InventoryNotifications(this, 'Notifications', { notifier: this.consumers.consumers.notifyAlerts.function, operationsNotifier: this.consumers.consumers.notifyOperations.function });
    this.operations = new OperationsStack(this, 'Operations', { prefix: this.stackName, alarmTopic: this.notifications.alarmTopic, ...this.operationsResources() });

    new CfnOutput(this, 'DashboardUrl', { value: `${this.dashboard.origin}/`, description: 'The admin dashboard (sign-in through the Cognito hosted UI)' });
    new CfnOutput(this, 'ApiUrl', { value: this.api.stage.url, description: 'Base URL of the HTTP API (routes start with /api)' });
    new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.identity.client.userPoolClientId });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName, description: 'Custom EventBridge bus of the domain events' });
    new CfnOutput(this, 'StreamDeadLetterQueueUrl', { value: this.events.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.notifications.alarmTopic.topicArn, description: 'SNS topic of the operator alarms (functions/operations/alarms.ts): subscribe on-call to it' });
  }

  /** What the declared alarms watch, by the names the wiring gives them (functions/operations/alarm-resources.ts). */
  private operationsResources(): OperationsResources {
    const consumers = [...Object.entries(this.consumers.consumers), ...Object.entries(this.channels.consumers.consumers)];
    const syncQueues = Object.entries(this.channels.syncQueues);
    return {
      functions: {
        ...this.api.functions,
        [FALLBACK_FUNCTION]: this.api.fallback,
        [HEALTH_FUNCTION]: this.api.health,
        ...Object.fromEntries([...consumers, ...syncQueues].map(([name, c]) => [name, c.function])),
        ...this.schedules.functions,
        ...this.channels.schedules.functions,
        [STREAM_PROCESSOR]: this.events.processor,
      },
      deadLetterQueues: {
        ...Object.fromEntries([...consumers, ...syncQueues].map(([name, c]) => [name, c.deadLetterQueue])),
        [STREAM_PROCESSOR]: this.events.deadLetterQueue,
        ...Object.fromEntries(Object.entries(this.lake.datasets).map(([name, d]) => [lakeFeedDeadLetters(name), d.deadLetterQueue])),
      },
      consumerQueues: Object.fromEntries([...consumers, ...syncQueues].map(([name, c]) => [name, c.queue])),
      table: this.data.table,
    };
  }
}

/** The routes that read the audit trail (its own domain): the only functions granted Query on it. */
export const AUDIT_READ_ROUTES: readonly RouteName[] = ['listAudit'];

/** The routes that query the lake through Athena: the only functions with lake grants (test/infra/iam.test.ts holds them to exactly these). */
export const LAKE_QUERY_ROUTES: readonly RouteName[] = entriesOf(httpRoutes).flatMap(([name, route]) => ('lake' in route && route.lake === 'query' ? [name] : []));

/** The routes that write demand-history imports into the lake bucket (`lake: 'import'`): with the query routes, the only routes with lake grants. */
export const LAKE_IMPORT_ROUTES: readonly RouteName[] = entriesOf(httpRoutes).flatMap(([name, route]) => ('lake' in route && route.lake === 'import' ? [name] : []));

/**
 * What the demand-history import (functions/forecasting/imports.ts) needs in the lake, and nothing
 * more: PutObject under DEMAND_IMPORTS_PREFIX (one new object per import, named by its ULID), with
 * the bucket in LAKE_BUCKET, and the lake key through S3 for GenerateDataKey only (the bucket is
 * SSE-KMS; a single PutObject needs no Decrypt). It reads nothing of the lake: no list, no get,
 * no Athena or Glue (the catalogue check is the table's).
 */
const grantDemandImports = (fn: NodejsFunction, lake: InventoryLake): void => {
  const stack = Stack.of(fn);
  fn.addEnvironment(LAKE_BUCKET_ENV, lake.bucket.bucketName);
  fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'WriteDemandImports', actions: ['s3:PutObject'], resources: [lake.bucket.arnForObjects(`${DEMAND_IMPORTS_PREFIX}*`)] }));
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'EncryptWithLakeKeyThroughS3',
      actions: ['kms:GenerateDataKey'],
      resources: [lake.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
    }),
  );
  Validations.of(fn).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfnBucketOf(lake.bucket))}.Arn>/${DEMAND_IMPORTS_PREFIX}*]`,
    reason: `The import writes one new object per accepted import at ${DEMAND_IMPORTS_PREFIX}tenant_id=<t>/<import_id>.parquet, the tenant and id known only per request; PutObject only, under that prefix only.`,
  });
};

/**
 * What a report function needs to query the lake through Athena, and nothing more:
 * - queries in the one workgroup (start, poll, read results);
 * - the Glue database and every lake table, the feeds' and the rollups' (Athena
 *   resolves the table and, with projection, asks for no partitions, but
 *   GetPartitions is what it calls otherwise);
 * - listing the lake bucket and reading the tables' prefixes (Athena reads the
 *   Parquet files with the caller's credentials);
 * - reading the daily close's objects under close/ through S3 itself
 *   (functions/reports/reports.ts: closed.json, then a valuation checkpoint), with
 *   the bucket in LAKE_BUCKET; reading only: the close alone writes them. Listing
 *   the bucket is also what makes S3 answer NoSuchKey, not AccessDenied, for a
 *   closed.json not written yet;
 * - the results bucket: Athena writes a query's results and reads them back with
 *   the caller's credentials, so the function may put, get and abort uploads there;
 * - the lake key through S3 only: kms:Decrypt to read lake files and results,
 *   kms:GenerateDataKey because the workgroup writes results SSE-KMS with the lake
 *   key under the caller's credentials. Nothing else uses the key for it.
 */
const grantReportQueries = (fn: NodejsFunction, lake: InventoryLake): void => {
  const stack = Stack.of(fn);
  fn.addEnvironment(ATHENA_WORKGROUP_ENV, lake.workGroupName);
  fn.addEnvironment(LAKE_DATABASE_ENV, lake.databaseName);
  fn.addEnvironment(LAKE_BUCKET_ENV, lake.bucket.bucketName);
  const tables = lakeTables.map(({ table }) => table);
  const glueArn = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, ...(resourceName === undefined ? {} : { resourceName }) });
  const statements = [
    new iam.PolicyStatement({
      sid: 'RunReportQueries',
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
      resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: lake.workGroupName })],
    }),
    new iam.PolicyStatement({
      sid: 'ReadLakeTables',
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
      resources: [glueArn('catalog'), glueArn('database', lake.databaseName), ...tables.map((table) => lake.glueTableArn(table))],
    }),
    new iam.PolicyStatement({ sid: 'ListLake', actions: ['s3:GetBucketLocation', 's3:ListBucket'], resources: [lake.bucket.bucketArn, lake.resultsBucket.bucketArn] }),
    new iam.PolicyStatement({ sid: 'ReadLakeTableFiles', actions: ['s3:GetObject'], resources: tables.map((table) => lake.bucket.arnForObjects(`${tablePrefix(table)}*`)) }),
    new iam.PolicyStatement({ sid: 'ReadLakeClose', actions: ['s3:GetObject'], resources: [lake.bucket.arnForObjects(`${CLOSE_PREFIX}*`)] }),
    new iam.PolicyStatement({ sid: 'QueryResults', actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resources: [lake.resultsBucket.arnForObjects('*')] }),
    lakeKeyThroughS3(lake, stack),
  ];
  for (const statement of statements) fn.addToRolePolicy(statement);
  const logicalIdOf = (bucket: InventoryLake['bucket']): string => stack.getLogicalId(cfnBucketOf(bucket));
  Validations.of(fn).acknowledge(
    ...tables.map((table) => ({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(lake.bucket)}.Arn>/${tablePrefix(table)}*]`,
      reason: `A report reads the Parquet objects of the ${table} table, whose names its writer (Firehose, or the daily close) chooses per tenant and day; the prefix is the table, nothing else in the bucket.`,
    })),
    {
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(lake.bucket)}.Arn>/${CLOSE_PREFIX}*]`,
      reason: `A report reads the daily close's closed.json and valuation checkpoints, at keys per tenant, method and day under ${CLOSE_PREFIX} (read only; the close writes them).`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(lake.resultsBucket)}.Arn>/*]`,
      reason: "Athena writes and reads a query's results under the caller's credentials, in objects it names by query id: the results bucket holds nothing else.",
    },
  );
};
