import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { glueColumns, LAKE_PARTITION_COLUMNS } from '../functions/events/lake-columns';
import { lakeResourceNames } from '../functions/platform/lake';
import { LAKE_BUCKET_ENV } from '../functions/platform/lake-objects';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { entriesOf, lakeFeeds, lakeRollups, type LakeFeedName, type LakeFeedSpec, type LakeTable } from '../functions/wiring';
import { mapRecord } from './records';

/**
 * The lake's layout, shared with the local lake (bin/local/lake.ts writes the
 * same `<table>/tenant_id=<t>/dt=YYYY-MM-DD/*.parquet` under `.data/lake/`): one
 * table per entry of functions/wiring.ts `lakeFeeds` and `lakeRollups` (together
 * `lakeTables`), its columns the entry's (functions/events/lake-columns.ts, in
 * Glue's spelling through `glueColumns`). Firehose writes a feed's table under
 * `<table>/`, the daily close a rollup's; records Firehose cannot convert or
 * partition go under `errors/<table>/`, outside the table's location, so Athena
 * never reads them.
 */
export const tablePrefix = (table: string): string => `${table}/`;
export const errorPrefix = (table: LakeTable): string => `errors/${table}/`;

/**
 * The daily close's own objects (functions/reports/close.ts `closeKeys`): per tenant its manifest of
 * closed days' files, `closed.json` (what reports read first) and the valuation checkpoints, under
 * `close/tenant_id=<t>/`. Outside every table's location, so Athena never reads them;
 * test/infra/lake.test.ts holds closeKeys to it.
 */
export const CLOSE_PREFIX = 'close/';

/**
 * A forecasting run's chunks of series (functions/forecasting/run.ts `forecastKeys`): written by
 * its planner, read by its workers, useless once the run is done, so expired after a week.
 * Outside every table's location; test/infra/lake.test.ts holds forecastKeys to it.
 */
export const FORECAST_PREFIX = 'forecast/';
export const FORECAST_CHUNK_RETENTION = Duration.days(7);

/** The names of the rollup tables (functions/wiring.ts `lakeRollups`): written by the daily close, fed by no event. */
export type LakeRollupName = keyof typeof lakeRollups;

/** The partition keys of every lake table (in the path, not in the files). */
export const LAKE_PARTITION_KEYS: readonly { name: string; type: string }[] = glueColumns(LAKE_PARTITION_COLUMNS);

/**
 * EventBridge's delivery of a lake row to Firehose: retried with backoff for up
 * to 24 hours (EventBridge's maximum age, and its default of 185 attempts), then
 * dead-lettered. Firehose refuses a PutRecord only when throttled or unavailable,
 * which a day of retries outlasts; a row that still fails is in the feed's
 * dead-letter queue (14 days) with the error, for a redrive.
 */
export const LAKE_RULE_RETRY = { attempts: 185, maxEventAge: Duration.hours(24) } as const;

/**
 * Firehose buffering. Record format conversion and dynamic partitioning both
 * require a buffer of at least 64 MiB (and dynamic partitioning an interval of
 * at least 60 s). A tenant-day partition rarely fills 64 MiB, so the interval
 * decides: 900 s (the maximum) writes at most ~96 files per active tenant and
 * day instead of 288 at 300 s, which keeps Athena's per-file overhead down
 * while nothing compacts in AWS yet. The price is freshness: with Firehose's
 * multi-stage buffering a movement reaches the lake within about 1.5 x 900 s
 * (~23 minutes); every report states `data_as_of`.
 */
export const LAKE_BUFFER = { size: Size.mebibytes(64), interval: Duration.seconds(900) } as const;

/**
 * Athena's bytes-scanned cutoff per query: 10 GiB. A tenant's report reads
 * only its own partitions of the window (injected tenant, projected days) as
 * columnar Parquet: the benchmark's 10 million rows (every tenant, two years)
 * are a few hundred MB, so a real report scans megabytes. 10 GiB is over an
 * order of magnitude above the whole benchmark lake, yet caps a runaway query
 * at about five cents (USD 5 per TB scanned).
 */
export const BYTES_SCANNED_CUTOFF_PER_QUERY = 10 * 1024 ** 3;

/** Athena query results (the report rows, CSV) are kept this long: long enough to fetch a 202'd query's result, short enough not to become a second copy of the lake. */
export const QUERY_RESULTS_RETENTION = Duration.days(7);

/** What one lake table is made of in AWS: its Glue table, its Firehose stream and role, and the bus rule feeding it. */
export interface LakeDataset {
  readonly tableName: LakeTable;
  readonly table: glue.CfnTable;
  readonly deliveryStream: firehose.DeliveryStream;
  readonly deliveryRole: iam.Role;
  /** Where the stream logs delivery errors. */
  readonly deliveryLogs: logs.LogGroup;
  /** The rule on the bus with the feed's pattern, delivering each event's detail to the stream. */
  readonly rule: events.Rule;
  /** The role EventBridge assumes to put records: firehose:PutRecord(Batch) on this stream only. */
  readonly ruleRole: iam.Role;
  /** Events the rule could not deliver after every retry (encrypted with the lake key, TLS only). */
  readonly deadLetterQueue: sqs.Queue;
}

/** A rollup table in AWS: its Glue table only (the daily close writes its objects, so no stream, rule or dead letters). */
export interface LakeRollupTable {
  readonly tableName: string;
  readonly table: glue.CfnTable;
}

/** What a Glue table of the lake is declared from: a feed's or a rollup's entry of the wiring. */
type LakeTableSpec = Pick<LakeFeedSpec, 'table' | 'summary' | 'columns'>;

export interface InventoryLakeProps {
  /** The custom bus the domain events are on (lib/events.ts): each feed's rule is on it. */
  bus: events.IEventBus;
}

/**
 * The ledger as a lake (issue 9): Parquet in S3 partitioned by tenant and day,
 * one table per entry of functions/wiring.ts `lakeFeeds` (movements, orders)
 * and `lakeRollups` (level_days), declared in Glue with partition projection,
 * queried through one Athena workgroup; each feed fed by a rule on the bus ->
 * its own Firehose stream, each rollup written by the daily close.
 *
 * - One customer-managed key (rotating) encrypts the lake bucket, the Athena
 *   results bucket, the Firehose streams and the rules' dead-letter queues.
 * - The lake bucket is versioned only because S3 Object Lock requires it (the
 *   audit trail's export locks its objects under audit/, issue 12): the lake is a
 *   derived copy of the ledger, whose source of truth is the DynamoDB table
 *   (point-in-time recovery), so a replaced version is expired after a day rather
 *   than kept (a locked audit object's versions stay until their retention ends).
 * - Each table projects `dt` as a date and `tenant_id` as `injected`: Athena
 *   computes partition locations from the query and refuses any query whose
 *   WHERE gives tenant_id no static equality value (CONSTRAINT_VIOLATION), so
 *   a query cannot scan the lake across tenants by omission. Injected
 *   projection accepts `IN (...)` lists too; "exactly one tenant" is the SQL
 *   files' contract (one bound `tenant_id = ?`), not Athena's.
 * - The producer: the stream processor publishes each row as an event whose
 *   `detail` is the flat row (MovementRecorded, OrderLineRecorded); a rule with
 *   the feed's pattern sends the detail alone (InputPath `$.detail`) to the
 *   feed's DirectPut stream, retrying for a day (LAKE_RULE_RETRY), then into a
 *   dead-letter queue (alarmed by lib/operations.ts). The stream converts JSON to Parquet with
 *   the Glue table's schema (fields that are not columns, the event's own
 *   `event_id` and the like, are dropped) and partitions by `.tenant_id` and
 *   the day of the feed's `partitionTime`. Dynamic partitioning allows 500
 *   active partitions (tenant x day) per stream by default; beyond that records
 *   go to the error prefix (activePartitionExceeded) until the quota (up to
 *   5000) is raised.
 * - Each Firehose role is written here, scoped to the two prefixes of its table,
 *   that one Glue table and the lake key: the L2's own grants would give it the
 *   whole bucket read-write and glue:GetSchemaVersion on "*", so the stream is
 *   given the role without policy updates.
 */
export class InventoryLake extends Construct {
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly resultsBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly workGroup: athena.CfnWorkGroup;
  readonly workGroupName: string;
  readonly datasets: Record<LakeFeedName, LakeDataset>;
  readonly rollups: Record<LakeRollupName, LakeRollupTable>;

  constructor(scope: Construct, id: string, props: InventoryLakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const names = lakeResourceNames(stack.stackName);

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the ledger lake (S3), its Athena query results, its Firehose streams and its feeds\' dead-letter queues',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const secured = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: RemovalPolicy.RETAIN,
    } as const;

    // S3 server access logs may only go to a bucket with SSE-S3 default encryption, not SSE-KMS.
    // cdk-nag's S1 does not ask a log destination bucket to log itself.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...secured,
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    const kmsEncrypted = { ...secured, encryption: s3.BucketEncryption.KMS, encryptionKey: this.key, bucketKeyEnabled: true, serverAccessLogsBucket: this.accessLogsBucket } as const;
    const feeds = entriesOf(lakeFeeds);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...kmsEncrypted,
      serverAccessLogsPrefix: 'lake/',
      // The audit trail's export (lib/audit.ts) locks each of its objects under audit/ (GOVERNANCE mode,
      // retention per object, no bucket default: the lake's other objects are not locked). Object Lock
      // needs versioning; the versions the close's rewrites leave behind go after a day.
      objectLockEnabled: true,
      versioned: true,
      lifecycleRules: [
        { id: 'expire-replaced-versions', noncurrentVersionExpiration: Duration.days(1) },
        // Firehose writes with multipart uploads; an interrupted one would otherwise be billed forever.
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-forecast-chunks', prefix: FORECAST_PREFIX, expiration: FORECAST_CHUNK_RETENTION },
        ...feeds.map(([name, feed]) => ({ id: name === 'movements' ? 'expire-delivery-errors' : `expire-${feed.table}-delivery-errors`, prefix: errorPrefix(feed.table), expiration: Duration.days(90) })),
      ],
    });

    this.resultsBucket = new s3.Bucket(this, 'QueryResults', {
      ...kmsEncrypted,
      serverAccessLogsPrefix: 'query-results/',
      lifecycleRules: [{ id: 'expire-query-results', expiration: QUERY_RESULTS_RETENTION, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    // ---- Glue: the database ----

    this.databaseName = names.database;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: this.databaseName, description: 'Stockroom ledger lake: Parquet in S3, partitioned by tenant and day' },
    });

    // ---- Athena: one workgroup whose settings queries cannot override ----

    this.workGroupName = names.workgroup;
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Stockroom reports over the ledger lake',
      state: 'ENABLED',
      // Deleting the stack deletes the workgroup with its saved queries and history.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF_PER_QUERY,
        requesterPaysEnabled: false,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/`,
          expectedBucketOwner: stack.account,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.key.keyArn },
        },
      },
    });

    this.datasets = mapRecord(lakeFeeds, (name, feed) => this.dataset(name, feed, props.bus));
    this.rollups = mapRecord(lakeRollups, (_name, rollup) => ({ tableName: rollup.table, table: this.glueTable(rollup) }));

    // EventBridge encrypts what it dead-letters with the queue's key: the key policy lets it, for rules on
    // this bus in this account (naming each rule's ARN would make a cycle: rule -> stream -> bucket -> key).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'LakeFeedDeadLetters',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${props.bus.eventBusName}/*` }) },
        },
      }),
    );
  }

  /** The Glue table of a lake table, as Athena and Firehose name it. */
  glueTableArn(table: string): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${table}` });
  }

  /**
   * The Glue table of one lake table, feed or rollup alike: the entry's columns, Parquet, in the
   * database, partitioned by the injected tenant and the projected day under `<table>/`.
   */
  private glueTable(spec: LakeTableSpec): glue.CfnTable {
    const stack = Stack.of(this);
    const prefix = tablePrefix(spec.table);
    const location = `s3://${this.bucket.bucketName}/${prefix}`;
    return new glue.CfnTable(this, `${constructIdOf(spec.table)}Table`, {
      catalogId: stack.account,
      databaseName: this.database.ref,
      tableInput: {
        name: spec.table,
        description: `${spec.summary.slice(0, 200)}; Parquet under ${prefix}tenant_id=<t>/dt=YYYY-MM-DD/`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'parquet',
          'parquet.compression': 'SNAPPY',
          'projection.enabled': 'true',
          'projection.tenant_id.type': 'injected',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': '2020-01-01,NOW',
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `${location}tenant_id=\${tenant_id}/dt=\${dt}/`,
        },
        partitionKeys: LAKE_PARTITION_KEYS.map((c) => ({ ...c })),
        storageDescriptor: {
          location,
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', parameters: { 'serialization.format': '1' } },
          columns: glueColumns(spec.columns),
          compressed: true,
          storedAsSubDirectories: false,
        },
      },
    });
  }

  /** One lake feed: its Glue table, Firehose stream and role, and the bus rule with its dead letters. */
  private dataset(name: LakeFeedName, feed: (typeof lakeFeeds)[LakeFeedName], bus: events.IEventBus): LakeDataset {
    const stack = Stack.of(this);
    const id = constructIdOf(feed.table);
    const prefix = tablePrefix(feed.table);
    const errors = errorPrefix(feed.table);

    const table = this.glueTable(feed);

    // ---- Firehose: JSON rows in, Parquet partitioned by tenant and day out ----

    const deliveryLogs = new logs.LogGroup(this, `${id}DeliveryLogs`, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    const deliveryRole = new iam.Role(this, `${id}DeliveryRole`, {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: `Firehose delivery of ${feed.table} rows into the lake: writes under ${prefix} and ${errors} only, reads the ${feed.table} table schema`,
    });
    const objectArns = [prefix, errors].map((p) => this.bucket.arnForObjects(`${p}*`));
    deliveryRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'LocateLakeBucket', actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [this.bucket.bucketArn] }),
    );
    deliveryRole.addToPolicy(new iam.PolicyStatement({ sid: 'WriteLakePrefixes', actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], resources: objectArns }));
    deliveryRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'UseLakeKeyThroughS3',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      }),
    );
    const glueArn = (resource: string, resourceName?: string) =>
      stack.formatArn({ service: 'glue', resource, ...(resourceName === undefined ? {} : { resourceName }) });
    deliveryRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTableSchema',
        actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
        resources: [glueArn('catalog'), glueArn('database', this.databaseName), this.glueTableArn(feed.table)],
      }),
    );
    deliveryLogs.grantWrite(deliveryRole);

    Validations.of(deliveryRole).acknowledge(
      ...[prefix, errors].map((p) => ({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfnBucketOf(this.bucket))}.Arn>/${p}*]`,
        reason: `Firehose names its objects itself (partition values, timestamps, random suffixes), so object writes are granted on the prefix ${p}* of the lake bucket and nowhere else in it.`,
      })),
    );

    // The stream gets the role without policy updates: the statements above are all it may do.
    const role = deliveryRole.withoutPolicyUpdates();
    const deliveryStream = new firehose.DeliveryStream(this, `${id}Delivery`, {
      encryption: firehose.StreamEncryption.customerManagedKey(this.key),
      role,
      destination: new firehose.S3Bucket(this.bucket, {
        role,
        encryptionKey: this.key,
        loggingConfig: new firehose.EnableLogging(deliveryLogs),
        bufferingSize: LAKE_BUFFER.size,
        bufferingInterval: LAKE_BUFFER.interval,
        dataOutputPrefix: `${prefix}tenant_id=!{partitionKeyFromQuery:tenant_id}/dt=!{partitionKeyFromQuery:dt}/`,
        errorOutputPrefix: `${errors}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`,
        fileExtension: '.parquet',
        dynamicPartitioning: { enabled: true, retryDuration: Duration.seconds(300) },
        processors: [firehose.MetadataExtractionProcessor.jq16({ tenant_id: '.tenant_id', dt: `.${feed.partitionTime}[0:10]` })],
        dataFormatConversion: {
          schemaConfiguration: firehose.SchemaConfiguration.fromCfnTable(table),
          inputFormat: new firehose.OpenXJsonInputFormat(),
          outputFormat: new firehose.ParquetOutputFormat({ compression: firehose.ParquetCompression.SNAPPY }),
        },
      }),
    });
    // Firehose checks its role when the stream is created: the policy must exist first.
    deliveryStream.node.addDependency(deliveryRole);

    // ---- EventBridge: the feed's rule on the bus -> the stream, with retries and dead letters ----

    const deadLetterQueue = new sqs.Queue(this, `${id}FeedDeadLetters`, {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself the dead-letter destination of the ${feed.table} lake feed's rule (events EventBridge could not put to Firehose after a day of retries); a dead-letter queue of a dead-letter queue would only hide them further. The alarm on its depth is the follow-up.`,
    });

    const ruleRole = new iam.Role(this, `${id}FeedRole`, {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: `EventBridge delivery of ${feed.table} rows: firehose:PutRecord and PutRecordBatch on the ${feed.table} stream only`,
    });
    ruleRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'PutLakeRows', actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resources: [deliveryStream.deliveryStreamArn] }),
    );

    const rule = new events.Rule(this, `${id}FeedRule`, {
      eventBus: bus,
      description: `${name} lake feed: ${feed.summary}`.slice(0, 512),
      eventPattern: { source: [...feed.pattern.source], detailType: [...feed.pattern['detail-type']] },
    });
    rule.addTarget(new LakeFeedTarget(deliveryStream, ruleRole, deadLetterQueue));
    return { tableName: feed.table, table, deliveryStream, deliveryRole, deliveryLogs, rule, ruleRole, deadLetterQueue };
  }
}

/**
 * The rule's target: the feed's Firehose stream, given the event's `detail`
 * alone (InputPath `$.detail`, the flat row), put by `role`, retried per
 * LAKE_RULE_RETRY, then sent to `deadLetterQueue` (whose policy lets this rule
 * send). targets.FirehoseDeliveryStream takes neither a role nor dead letters.
 */
class LakeFeedTarget implements events.IRuleTarget {
  constructor(
    private readonly stream: firehose.IDeliveryStream,
    private readonly role: iam.IRole,
    private readonly deadLetterQueue: sqs.IQueue,
  ) {}

  bind(rule: events.IRule): events.RuleTargetConfig {
    targets.addToDeadLetterQueueResourcePolicy(rule, this.deadLetterQueue);
    return {
      ...targets.bindBaseTargetConfig({ deadLetterQueue: this.deadLetterQueue, retryAttempts: LAKE_RULE_RETRY.attempts, maxEventAge: LAKE_RULE_RETRY.maxEventAge }),
      arn: this.stream.deliveryStreamArn,
      role: this.role,
      input: events.RuleTargetInput.fromEventPath('$.detail'),
    };
  }
}

/** A table's name as a construct id: `movements` -> `Movements`, `level_days` -> `LevelDays`. */
const constructIdOf = (table: string): string =>
  table
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');

/** A bucket's CloudFormation resource (cdk-nag names a bucket's ARN by its logical id). */
/**
 * The lake key, for S3 only (kms:ViaService): Decrypt to read lake objects, GenerateDataKey to
 * write SSE-KMS ones. What every function that reads or writes the lake bucket holds, and no more.
 */
export const lakeKeyThroughS3 = (lake: InventoryLake, stack: Stack, actions: readonly string[] = ['kms:Decrypt', 'kms:GenerateDataKey']): iam.PolicyStatement =>
  new iam.PolicyStatement({
    sid: 'UseLakeKeyThroughS3',
    actions: [...actions],
    resources: [lake.key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
  });

/**
 * Access to some prefixes of the lake bucket through S3's API only (no Athena, no Glue): listing
 * (limited to the prefixes read, which also makes a missing key NoSuchKey rather than AccessDenied,
 * and those in `list`),
 * GetObject on `read`, PutObject on `write`, and the lake key through S3. `reasons` says, per
 * prefix, why a wildcard under it is needed (cdk-nag's IAM5).
 */
export const grantLakePrefixes = (
  fn: NodejsFunction,
  lake: InventoryLake,
  access: { read: readonly string[]; write?: readonly string[]; /** listed only, never read */ list?: readonly string[] },
  reasons: Record<string, string>,
): void => {
  const stack = Stack.of(fn);
  const objects = (prefix: string): string => lake.bucket.arnForObjects(`${prefix}*`);
  fn.addEnvironment(LAKE_BUCKET_ENV, lake.bucket.bucketName);
  fn.addToRolePolicy(
    new iam.PolicyStatement({ sid: 'ListWhatItReads', actions: ['s3:ListBucket'], resources: [lake.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [...access.read, ...(access.list ?? [])].map((p) => `${p}*`) } } }),
  );
  fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadLakePrefixes', actions: ['s3:GetObject'], resources: access.read.map(objects) }));
  if (access.write?.length) fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'WriteLakePrefixes', actions: ['s3:PutObject'], resources: access.write.map(objects) }));
  // The lake key through S3 only: Decrypt to read; GenerateDataKey only for a function that writes.
  fn.addToRolePolicy(access.write?.length ? lakeKeyThroughS3(lake, stack) : lakeKeyThroughS3(lake, stack, ['kms:Decrypt']));
  const bucketId = stack.getLogicalId(cfnBucketOf(lake.bucket));
  Validations.of(fn).acknowledge(...Object.entries(reasons).map(([prefix, reason]) => ({ id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`, reason })));
};

export const cfnBucketOf = (bucket: s3.Bucket): s3.CfnBucket => {
  const element = bucket.node.defaultChild;
  if (!(element instanceof s3.CfnBucket)) throw new Error(`${bucket.node.path} has no CfnBucket`);
  return element;
};
