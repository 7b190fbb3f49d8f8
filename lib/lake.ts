import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * The lake's layout, shared with the local lake (bin/local/lake.ts writes the
 * same `movements/tenant_id=<t>/dt=YYYY-MM-DD/*.parquet` under `.data/lake/`).
 * Firehose writes under MOVEMENTS_PREFIX; records it cannot convert or
 * partition go under MOVEMENTS_ERROR_PREFIX, outside the table's location, so
 * Athena never reads them.
 */
export const MOVEMENTS_TABLE = 'movements';
export const MOVEMENTS_PREFIX = 'movements/';
export const MOVEMENTS_ERROR_PREFIX = 'errors/movements/';

/**
 * The Glue columns of `movements`, in the order and with the types of the
 * local Parquet files (bin/local/lake.ts MOVEMENT_COLUMNS; test/infra/lake.test.ts
 * pins the two together). Hive types: VARCHAR is `string`, BIGINT `bigint`,
 * DECIMAL(19,4) `decimal(19,4)`, TIMESTAMP `timestamp` (UTC, no zone). Glue
 * has no NOT NULL. The partition columns are in the path, not in the files.
 * The lib/ side cannot import bin/local/lake.ts: it loads DuckDB.
 */
export const MOVEMENT_GLUE_COLUMNS: readonly { name: string; type: string }[] = [
  { name: 'movement_id', type: 'string' },
  { name: 'sku_id', type: 'string' },
  { name: 'warehouse_id', type: 'string' },
  { name: 'type', type: 'string' },
  { name: 'delta_on_hand', type: 'bigint' },
  { name: 'delta_reserved', type: 'bigint' },
  { name: 'delta_available', type: 'bigint' },
  { name: 'delta_incoming', type: 'bigint' },
  { name: 'resulting_on_hand', type: 'bigint' },
  { name: 'resulting_reserved', type: 'bigint' },
  { name: 'resulting_available', type: 'bigint' },
  { name: 'resulting_incoming', type: 'bigint' },
  { name: 'version', type: 'bigint' },
  { name: 'unit_cost', type: 'decimal(19,4)' },
  { name: 'currency', type: 'string' },
  { name: 'reason', type: 'string' },
  { name: 'reference', type: 'string' },
  { name: 'note', type: 'string' },
  { name: 'correlation_id', type: 'string' },
  { name: 'actor', type: 'string' },
  { name: 'created_at', type: 'timestamp' },
];

export const MOVEMENT_PARTITION_KEYS: readonly { name: string; type: string }[] = [
  { name: 'tenant_id', type: 'string' },
  { name: 'dt', type: 'date' },
];

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

/**
 * The ledger as a lake (issue 9): Parquet in S3 partitioned by tenant and day,
 * declared in Glue with partition projection, queried through one Athena
 * workgroup, fed by one Firehose stream.
 *
 * - One customer-managed key (rotating) encrypts the lake bucket, the Athena
 *   results bucket and the Firehose stream.
 * - The lake bucket is not versioned: the lake is a derived copy of the ledger,
 *   whose source of truth is the DynamoDB table (point-in-time recovery); a
 *   lost partition is re-exported from it, and versioning would only double
 *   the bytes of every rewrite (compaction) for no recovery it adds.
 * - `movements` projects `dt` as a date and `tenant_id` as `injected`: Athena
 *   computes partition locations from the query and refuses any query whose
 *   WHERE gives tenant_id no static equality value (CONSTRAINT_VIOLATION), so
 *   a query cannot scan the lake across tenants by omission. Injected
 *   projection accepts `IN (...)` lists too; "exactly one tenant" is the SQL
 *   files' contract (one bound `tenant_id = ?`), not Athena's.
 * - The Firehose stream is DirectPut for now: its producer (the stream
 *   processor or EventBridge Pipes flattening DynamoDB-typed images into the
 *   columns above as JSON, unit_cost as a decimal string, created_at ISO-8601
 *   UTC) comes in a later step. It converts JSON to Parquet with the Glue
 *   table's schema and partitions by `.tenant_id` and `.created_at[0:10]`.
 *   Dynamic partitioning allows 500 active partitions (tenant x day) per
 *   stream by default; beyond that records go to the error prefix
 *   (activePartitionExceeded) until the quota (up to 5000) is raised.
 * - The Firehose role is written here, scoped to the two prefixes it writes,
 *   this one Glue table and the lake key: the L2's own grants would give it the
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
  readonly movementsTable: glue.CfnTable;
  readonly movementsTableName: string;
  readonly workGroup: athena.CfnWorkGroup;
  readonly workGroupName: string;
  readonly deliveryStream: firehose.DeliveryStream;
  readonly deliveryRole: iam.Role;
  readonly deliveryLogs: logs.LogGroup;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const baseName = stack.stackName.toLowerCase().replace(/[^a-z0-9]+/g, '_');

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the ledger lake (S3), its Athena query results and its Firehose stream',
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

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...kmsEncrypted,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        // Firehose writes with multipart uploads; an interrupted one would otherwise be billed forever.
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-delivery-errors', prefix: MOVEMENTS_ERROR_PREFIX, expiration: Duration.days(90) },
      ],
    });

    this.resultsBucket = new s3.Bucket(this, 'QueryResults', {
      ...kmsEncrypted,
      serverAccessLogsPrefix: 'query-results/',
      lifecycleRules: [{ id: 'expire-query-results', expiration: QUERY_RESULTS_RETENTION, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    // ---- Glue: the database and the movements table, with partition projection ----

    this.databaseName = `${baseName}_lake`;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: this.databaseName, description: 'Stockroom ledger lake: Parquet in S3, partitioned by tenant and day' },
    });

    this.movementsTableName = MOVEMENTS_TABLE;
    const location = `s3://${this.bucket.bucketName}/${MOVEMENTS_PREFIX}`;
    this.movementsTable = new glue.CfnTable(this, 'MovementsTable', {
      catalogId: stack.account,
      databaseName: this.database.ref,
      tableInput: {
        name: MOVEMENTS_TABLE,
        description: 'Every ledger row (stock movement), one Parquet row each, under movements/tenant_id=<t>/dt=YYYY-MM-DD/',
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
        partitionKeys: MOVEMENT_PARTITION_KEYS.map((c) => ({ ...c })),
        storageDescriptor: {
          location,
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', parameters: { 'serialization.format': '1' } },
          columns: MOVEMENT_GLUE_COLUMNS.map((c) => ({ ...c })),
          compressed: true,
          storedAsSubDirectories: false,
        },
      },
    });

    // ---- Athena: one workgroup whose settings queries cannot override ----

    this.workGroupName = `${baseName}_reports`;
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

    // ---- Firehose: JSON rows in, Parquet partitioned by tenant and day out ----

    this.deliveryLogs = new logs.LogGroup(this, 'DeliveryLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });

    this.deliveryRole = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'Firehose delivery of ledger rows into the lake: writes under movements/ and errors/movements/ only, reads the movements table schema',
    });
    const objectArns = [MOVEMENTS_PREFIX, MOVEMENTS_ERROR_PREFIX].map((prefix) => this.bucket.arnForObjects(`${prefix}*`));
    this.deliveryRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'LocateLakeBucket', actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [this.bucket.bucketArn] }),
    );
    this.deliveryRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'WriteLakePrefixes', actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], resources: objectArns }),
    );
    this.deliveryRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'UseLakeKeyThroughS3',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      }),
    );
    const glueArn = (resource: string, resourceName?: string) =>
      stack.formatArn({ service: 'glue', resource, ...(resourceName === undefined ? {} : { resourceName }) });
    this.deliveryRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadMovementsSchema',
        actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
        resources: [glueArn('catalog'), glueArn('database', this.databaseName), glueArn('table', `${this.databaseName}/${MOVEMENTS_TABLE}`)],
      }),
    );
    this.deliveryLogs.grantWrite(this.deliveryRole);

    Validations.of(this.deliveryRole).acknowledge(
      ...[MOVEMENTS_PREFIX, MOVEMENTS_ERROR_PREFIX].map((prefix) => ({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfnBucketOf(this.bucket))}.Arn>/${prefix}*]`,
        reason: `Firehose names its objects itself (partition values, timestamps, random suffixes), so object writes are granted on the prefix ${prefix}* of the lake bucket and nowhere else in it.`,
      })),
    );

    // The stream gets the role without policy updates: the statements above are all it may do.
    const role = this.deliveryRole.withoutPolicyUpdates();
    this.deliveryStream = new firehose.DeliveryStream(this, 'MovementsDelivery', {
      // DirectPut until the producer (the stream processor or EventBridge Pipes) is wired in a later step.
      encryption: firehose.StreamEncryption.customerManagedKey(this.key),
      role,
      destination: new firehose.S3Bucket(this.bucket, {
        role,
        encryptionKey: this.key,
        loggingConfig: new firehose.EnableLogging(this.deliveryLogs),
        bufferingSize: LAKE_BUFFER.size,
        bufferingInterval: LAKE_BUFFER.interval,
        dataOutputPrefix: `${MOVEMENTS_PREFIX}tenant_id=!{partitionKeyFromQuery:tenant_id}/dt=!{partitionKeyFromQuery:dt}/`,
        errorOutputPrefix: `${MOVEMENTS_ERROR_PREFIX}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`,
        fileExtension: '.parquet',
        dynamicPartitioning: { enabled: true, retryDuration: Duration.seconds(300) },
        processors: [firehose.MetadataExtractionProcessor.jq16({ tenant_id: '.tenant_id', dt: '.created_at[0:10]' })],
        dataFormatConversion: {
          schemaConfiguration: firehose.SchemaConfiguration.fromCfnTable(this.movementsTable),
          inputFormat: new firehose.OpenXJsonInputFormat(),
          outputFormat: new firehose.ParquetOutputFormat({ compression: firehose.ParquetCompression.SNAPPY }),
        },
      }),
    });
    // Firehose checks its role when the stream is created: the policy must exist first.
    this.deliveryStream.node.addDependency(this.deliveryRole);
  }
}

const cfnBucketOf = (bucket: s3.Bucket): s3.CfnBucket => {
  const element = bucket.node.defaultChild;
  if (!(element instanceof s3.CfnBucket)) throw new Error(`${bucket.node.path} has no CfnBucket`);
  return element;
};
