import { Match } from 'aws-cdk-lib/assertions';
import { MOVEMENT_COLUMNS, PARTITION_COLUMNS } from '../../bin/local/lake';
import { glueType, LEVEL_BALANCE_COLUMNS, LEVEL_DAY_COLUMNS, ORDER_LINE_COLUMNS } from '../../functions/events/lake-columns';
import { ATHENA_WORKGROUP_ENV, LAKE_DATABASE_ENV, LAKE_NAMES } from '../../functions/platform/lake';
import { entriesOf, lakeFeeds, lakeRollups, lakeTables } from '../../functions/wiring';
import { LAKE_QUERY_ROUTES } from '../../lib/inventory-stack';
import { BYTES_SCANNED_CUTOFF_PER_QUERY, LAKE_PARTITION_KEYS } from '../../lib/lake';
import { TEST_LAKE_NAMES } from '../support/api';
import { logicalId, resourcesOfType, synthesized, type CfnResource } from './synth';

/**
 * The AWS side of the lake (issue 9): the buckets, the Glue table with
 * partition projection, the Athena workgroup and the Firehose stream, pinned
 * to the local lake's layout and Parquet schema (bin/local/lake.ts), one
 * table per entry of functions/wiring.ts `lakeFeeds` (each fed by a bus rule)
 * and `lakeRollups` (written by the daily close).
 */
const FEEDS = entriesOf(lakeFeeds);
const TABLES = lakeTables.map((table): [string, (typeof lakeTables)[number]] => [table.table, table]);
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const only = (entries: [string, CfnResource][], what: string): [string, Record<string, unknown>] => {
  if (entries.length !== 1) throw new Error(`expected exactly one ${what}, found ${entries.length}`);
  const [id, resource] = entries[0] as [string, CfnResource];
  return [id, resource.Properties ?? {}];
};

/** The local (DuckDB) column type as Glue/Hive spells it. */
const hiveType = (duckdb: string): string => {
  const type = duckdb.replace(/ NOT NULL$/, '');
  if (type === 'VARCHAR') return 'string';
  if (type === 'BIGINT') return 'bigint';
  if (type === 'TIMESTAMP') return 'timestamp';
  if (type === 'DATE') return 'date';
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(type);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  throw new Error(`no Hive type for ${duckdb}`);
};

describe('the lake in AWS', () => {
  const { template, json, stack } = synthesized();
  const lake = stack.lake;
  const bucketId = logicalId(lake.bucket);
  const resultsId = logicalId(lake.resultsBucket);
  const logsId = logicalId(lake.accessLogsBucket);
  const keyId = logicalId(lake.key);
  const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
  const bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
  const bucketProps = json.Resources[bucketId]?.Properties ?? {};
  const resultsProps = json.Resources[resultsId]?.Properties ?? {};

  describe('buckets', () => {
    test('the lake bucket and the results bucket are encrypted with the lake\'s own rotating customer-managed key (bucket keys on)', () => {
      for (const props of [bucketProps, resultsProps])
        expect(props.BucketEncryption).toEqual({
          ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } }],
        });
      expect(json.Resources[keyId]).toMatchObject({ Type: 'AWS::KMS::Key', DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
      // Not the table's key: the lake has its own.
      expect(keyId).not.toBe(logicalId(stack.data.key));
    });

    test.each([
      ['lake', () => bucketId],
      ['query results', () => resultsId],
      ['access logs', () => logsId],
    ])('the %s bucket blocks all public access, owns its objects, is retained and is not versioned (but for Object Lock)', (_name, id) => {
      const resource = json.Resources[id()];
      expect(resource?.DeletionPolicy).toBe('Retain');
      expect(resource?.Properties?.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(resource?.Properties?.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      // The lake bucket alone is versioned, because S3 Object Lock (the audit trail's export) requires it; no bucket locks objects by default.
      if (id() === bucketId) {
        expect(resource?.Properties?.VersioningConfiguration).toEqual({ Status: 'Enabled' });
        expect(resource?.Properties?.ObjectLockEnabled).toBe(true);
        expect(resource?.Properties?.ObjectLockConfiguration).toBeUndefined();
      } else {
        expect(resource?.Properties?.VersioningConfiguration).toBeUndefined();
      }
    });

    test.each([
      ['lake', () => bucketId],
      ['query results', () => resultsId],
      ['access logs', () => logsId],
    ])('the %s bucket policy denies every request without TLS, or below TLS 1.2', (_name, id) => {
      const target = { 'Fn::GetAtt': [id(), 'Arn'] };
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id() },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Resource: Match.arrayWith([target]) }),
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
          ]),
        },
      });
    });

    test('both KMS buckets log their requests to the access-log bucket (SSE-S3, as S3 log delivery requires), under their own prefixes', () => {
      expect(bucketProps.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'lake/' });
      expect(resultsProps.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'query-results/' });
      expect(json.Resources[logsId]?.Properties?.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    });

    test('query results expire after 7 days; the lake aborts stale multipart uploads and expires each table\'s delivery errors, but never expires a table', () => {
      expect(resultsProps.LifecycleConfiguration).toEqual({
        Rules: [{ Id: 'expire-query-results', Status: 'Enabled', ExpirationInDays: 7, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
      });
      const rules = (bucketProps.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
      expect(rules).toEqual([
        // Versions replaced by a rewrite (the close's) go after a day: the bucket is versioned only for the audit export's Object Lock.
        { Id: 'expire-replaced-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
        { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
        { Id: 'expire-forecast-chunks', Status: 'Enabled', Prefix: 'forecast/', ExpirationInDays: 7 },
        { Id: 'expire-delivery-errors', Status: 'Enabled', Prefix: 'errors/movements/', ExpirationInDays: 90 },
        { Id: 'expire-orders-delivery-errors', Status: 'Enabled', Prefix: 'errors/orders/', ExpirationInDays: 90 },
      ]);
      // Only delivery errors and forecasting runs' scratch chunks expire; no table's prefix does.
      for (const rule of rules) if (rule.ExpirationInDays !== undefined) expect(rule.Prefix).toMatch(/^(errors\/|forecast\/$)/);
    });
  });

  describe('Glue', () => {
    const [databaseId, database] = only(resourcesOfType(json, 'AWS::Glue::Database'), 'Glue database');
    type TableInput = {
      Name: string;
      TableType: string;
      Parameters: Record<string, unknown>;
      PartitionKeys: { Name: string; Type: string }[];
      StorageDescriptor: { Columns: { Name: string; Type: string }[]; Location: unknown; InputFormat: string; OutputFormat: string; SerdeInfo: { SerializationLibrary: string } };
    };
    const tables = resourcesOfType(json, 'AWS::Glue::Table');
    /** The Glue table built for each lake table: a feed's dataset's, or a rollup's. */
    const glueTables = new Map([...Object.values(lake.datasets), ...Object.values(lake.rollups)].map((built) => [built.tableName, built.table]));
    const inputOf = (table: string): TableInput => {
      const built = glueTables.get(table);
      if (!built) throw new Error(`no Glue table built for ${table}`);
      return json.Resources[logicalId(built)]?.Properties?.TableInput as TableInput;
    };

    test('one database, and in it one table per lake table of the wiring (the feeds movements and orders, the rollups level_days and level_balances), each in the database', () => {
      expect((database.DatabaseInput as { Name: string }).Name).toBe(lake.databaseName);
      expect(tables.map(([, t]) => (t.Properties?.TableInput as TableInput).Name).sort()).toEqual(TABLES.map(([table]) => table).sort());
      expect(FEEDS.map(([, feed]) => feed.table).sort()).toEqual(['movements', 'orders']);
      expect(Object.values(lakeRollups).map((rollup) => rollup.table)).toEqual(['level_days', 'level_balances']);
      expect(TABLES.map(([table]) => table).sort()).toEqual(['level_balances', 'level_days', 'movements', 'orders']);
      for (const [, t] of tables) expect(t.Properties?.DatabaseName).toEqual({ Ref: databaseId });
    });

    test('level_days (the close\'s rollup) has exactly the LEVEL_DAY_COLUMNS, in order, in Glue\'s types, and no partition column among them', () => {
      const input = inputOf('level_days');
      expect(lake.rollups.levelDays.tableName).toBe('level_days');
      expect(input.StorageDescriptor.Columns).toEqual(LEVEL_DAY_COLUMNS.map(([name, type]) => ({ Name: name, Type: glueType(type) })));
      expect(input.StorageDescriptor.Columns.map((c) => c.Name)).toEqual(['sku_id', 'warehouse_id', 'type', 'units_in', 'units_out', 'net', 'movements', 'last_sale_at', 'units_returned']);
      expect(input.StorageDescriptor.Columns).toContainEqual({ Name: 'units_in', Type: 'bigint' });
      expect(input.StorageDescriptor.Columns).toContainEqual({ Name: 'last_sale_at', Type: 'timestamp' });
      for (const key of LAKE_PARTITION_KEYS) expect(input.StorageDescriptor.Columns.map((c) => c.Name)).not.toContain(key.name);
    });

    test('level_balances (the close\'s daily snapshot) has exactly the LEVEL_BALANCE_COLUMNS, in order, in Glue\'s types', () => {
      expect(lake.rollups.levelBalances.tableName).toBe('level_balances');
      expect(inputOf('level_balances').StorageDescriptor.Columns).toEqual(LEVEL_BALANCE_COLUMNS.map(([name, type]) => ({ Name: name, Type: glueType(type) })));
    });

    test('nothing but the close writes the rollups: no Firehose stream delivers under level_days/ or level_balances/, no rule or dead-letter queue is built for them', () => {
      const destinations = resourcesOfType(json, 'AWS::KinesisFirehose::DeliveryStream').map(([, stream]) => stream.Properties?.ExtendedS3DestinationConfiguration as { Prefix: string });
      expect(destinations.length).toBe(FEEDS.length);
      for (const destination of destinations) expect(destination.Prefix.startsWith('level_days/') || destination.Prefix.startsWith('level_balances/')).toBe(false);
      expect(Object.keys(lake.rollups.levelDays).sort()).toEqual(['table', 'tableName']);
      expect(lake.node.findAll().map((c) => c.node.id).filter((id) => id.startsWith('LevelDays'))).toEqual(['LevelDaysTable']);
    });

    test('the movements columns are exactly the local Parquet files\' (bin/local/lake.ts), same order, same types; money is exact decimal', () => {
      const input = json.Resources[logicalId(lake.datasets.movements.table)]?.Properties?.TableInput as TableInput;
      expect(input.StorageDescriptor.Columns).toEqual(MOVEMENT_COLUMNS.map(([name, type]) => ({ Name: name, Type: hiveType(type) })));
      expect(input.StorageDescriptor.Columns).toContainEqual({ Name: 'unit_cost', Type: 'decimal(19,4)' });
      expect(input.StorageDescriptor.Columns).toContainEqual({ Name: 'created_at', Type: 'timestamp' });
    });

    test('the orders columns are the order line columns, same order, same types', () => {
      const input = json.Resources[logicalId(lake.datasets.orders.table)]?.Properties?.TableInput as TableInput;
      expect(input.StorageDescriptor.Columns).toEqual(ORDER_LINE_COLUMNS.map(([name, type]) => ({ Name: name, Type: hiveType(type) })));
      expect(input.StorageDescriptor.Columns.slice(0, 3)).toEqual([
        { Name: 'record_id', Type: 'string' },
        { Name: 'order_id', Type: 'string' },
        { Name: 'line_index', Type: 'bigint' },
      ]);
    });

    describe.each(TABLES)('%s', (_table, spec) => {
      const input = inputOf(spec.table);

      test('is named as the wiring\'s table, and its columns are the wiring\'s column list', () => {
        expect(input.Name).toBe(spec.table);
        expect(input.TableType).toBe('EXTERNAL_TABLE');
        expect(input.StorageDescriptor.Columns).toEqual(spec.columns.map(([column, type]) => ({ Name: column, Type: hiveType(type) })));
      });

      test('the partition keys are tenant_id (string) then dt (date), as the local paths carry them, and not among the file columns', () => {
        const local = PARTITION_COLUMNS.map(([column, type]) => ({ Name: column, Type: hiveType(type) }));
        expect(input.PartitionKeys).toEqual([
          { Name: 'tenant_id', Type: 'string' },
          { Name: 'dt', Type: 'date' },
        ]);
        expect(input.PartitionKeys).toEqual(local);
        expect(LAKE_PARTITION_KEYS.map(({ name: n, type }) => ({ Name: n, Type: type }))).toEqual(local);
        for (const key of input.PartitionKeys) expect(input.StorageDescriptor.Columns.map((c) => c.Name)).not.toContain(key.Name);
      });

      test('is Parquet: Parquet SerDe and input/output formats, located under s3://<lake bucket>/<table>/', () => {
        expect(input.Parameters.classification).toBe('parquet');
        expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
        expect(input.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
        expect(input.StorageDescriptor.OutputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat');
        expect(input.StorageDescriptor.Location).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: bucketId }, `/${spec.table}/`]] });
      });

      test('partition projection is on: tenant_id is injected (a query must give it a static value), dt a daily date from 2020-01-01 to NOW', () => {
        const projection = Object.fromEntries(Object.entries(input.Parameters).filter(([key]) => key.startsWith('projection.')));
        expect(projection).toEqual({
          'projection.enabled': 'true',
          'projection.tenant_id.type': 'injected',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': '2020-01-01,NOW',
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
        });
        for (const key of input.PartitionKeys) expect(projection[`projection.${key.Name}.type`]).toBeDefined();
        expect(Object.keys(input.Parameters)).not.toContain('projection.tenant_id.values');
      });

      test('the location template is <table>/tenant_id=${tenant_id}/dt=${dt}/ in the lake bucket, the layout the local lake writes', () => {
        expect(input.Parameters['storage.location.template']).toEqual({
          'Fn::Join': ['', ['s3://', { Ref: bucketId }, `/${spec.table}/tenant_id=\${tenant_id}/dt=\${dt}/`]],
        });
      });
    });
  });

  describe('Athena', () => {
    const [, workGroup] = only(resourcesOfType(json, 'AWS::Athena::WorkGroup'), 'Athena workgroup');
    const config = workGroup.WorkGroupConfiguration as Record<string, unknown>;

    test('the workgroup enforces its configuration, publishes CloudWatch metrics and runs engine version 3', () => {
      expect(workGroup.Name).toBe(lake.workGroupName);
      expect(workGroup.State).toBe('ENABLED');
      expect(config.EnforceWorkGroupConfiguration).toBe(true);
      expect(config.PublishCloudWatchMetricsEnabled).toBe(true);
      expect(config.EngineVersion).toEqual({ SelectedEngineVersion: 'Athena engine version 3' });
    });

    test('the workgroup and database are the names the report functions get, and the names the local Athena and the test API use', () => {
      expect(workGroup.Name).toBe(LAKE_NAMES.workgroup);
      expect((only(resourcesOfType(json, 'AWS::Glue::Database'), 'Glue database')[1].DatabaseInput as { Name: string }).Name).toBe(LAKE_NAMES.database);
      expect(TEST_LAKE_NAMES).toEqual(LAKE_NAMES);
      expect(LAKE_QUERY_ROUTES.length).toBeGreaterThan(0);
      for (const route of LAKE_QUERY_ROUTES) {
        const variables = (json.Resources[logicalId(stack.api.functions[route])]?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
        expect(variables[ATHENA_WORKGROUP_ENV]).toBe(LAKE_NAMES.workgroup);
        expect(variables[LAKE_DATABASE_ENV]).toBe(LAKE_NAMES.database);
      }
    });

    test('a query may scan at most 10 GiB', () => {
      expect(config.BytesScannedCutoffPerQuery).toBe(10 * 1024 ** 3);
      expect(BYTES_SCANNED_CUTOFF_PER_QUERY).toBe(10737418240);
    });

    test('results go to the results bucket (not the lake), SSE-KMS with the lake key, in a bucket this account owns', () => {
      expect(config.ResultConfiguration).toEqual({
        OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: resultsId }, '/']] },
        ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
        EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: keyArn },
      });
    });
  });

  describe('Firehose', () => {
    test('one delivery stream per lake feed, and no other', () => {
      expect(resourcesOfType(json, 'AWS::KinesisFirehose::DeliveryStream').map(([id]) => id).sort()).toEqual(FEEDS.map(([name]) => logicalId(lake.datasets[name].deliveryStream)).sort());
    });

    describe.each(FEEDS)('%s', (name, feed) => {
      const dataset = lake.datasets[name];
      const streamId = logicalId(dataset.deliveryStream);
      const stream = json.Resources[streamId]?.Properties ?? {};
      const destination = stream.ExtendedS3DestinationConfiguration as Record<string, unknown>;
      const roleId = logicalId(dataset.deliveryRole);
      const table = feed.table;

      test('is DirectPut (the bus rule puts to it), encrypted at rest with the lake key, delivering into the lake bucket with the lake key', () => {
        expect(stream.DeliveryStreamType).toBe('DirectPut');
        expect(stream.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: keyArn });
        expect(destination.BucketARN).toEqual(bucketArn);
        expect(destination.EncryptionConfiguration).toEqual({ KMSEncryptionConfig: { AWSKMSKeyARN: keyArn } });
        expect(destination.RoleARN).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
      });

      test('converts JSON to Parquet (Snappy) with the schema of its own Glue table, latest version', () => {
        expect(destination.DataFormatConversionConfiguration).toEqual({
          Enabled: true,
          InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
          OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
          SchemaConfiguration: {
            CatalogId: { Ref: 'AWS::AccountId' },
            DatabaseName: { Ref: logicalId(lake.database) },
            TableName: { Ref: logicalId(dataset.table) },
            Region: stack.region,
            RoleARN: { 'Fn::GetAtt': [roleId, 'Arn'] },
            VersionId: 'LATEST',
          },
        });
        expect(destination.FileExtension).toBe('.parquet');
        // Conversion compresses inside the Parquet file; a destination compression would be refused.
        expect(destination.CompressionFormat).toBeUndefined();
      });

      test('partitions dynamically by tenant_id and the day of the feed\'s partition time (JQ), into the Glue location template\'s layout', () => {
        expect(destination.DynamicPartitioningConfiguration).toEqual({ Enabled: true, RetryOptions: { DurationInSeconds: 300 } });
        expect(destination.ProcessingConfiguration).toEqual({
          Enabled: true,
          Processors: [
            {
              Type: 'MetadataExtraction',
              Parameters: [
                { ParameterName: 'MetadataExtractionQuery', ParameterValue: `{"tenant_id":.tenant_id,"dt":.${feed.partitionTime}[0:10]}` },
                { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
              ],
            },
          ],
        });
        expect(destination.Prefix).toBe(`${table}/tenant_id=!{partitionKeyFromQuery:tenant_id}/dt=!{partitionKeyFromQuery:dt}/`);
        const template = `${table}/tenant_id=\${tenant_id}/dt=\${dt}/`;
        expect(String(destination.Prefix).replace(/!\{partitionKeyFromQuery:(\w+)\}/g, '${$1}')).toBe(template);
      });

      test('failed records go to an error prefix outside every table location, by error type and day', () => {
        expect(destination.ErrorOutputPrefix).toBe(`errors/${table}/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`);
        for (const [, other] of FEEDS) expect(String(destination.ErrorOutputPrefix).startsWith(`${other.table}/`)).toBe(false);
      });

      test('buffers 64 MiB (the minimum with format conversion and dynamic partitioning) or 900 s, and logs delivery errors', () => {
        expect(destination.BufferingHints).toEqual({ SizeInMBs: 64, IntervalInSeconds: 900 });
        expect(destination.CloudWatchLoggingOptions).toMatchObject({ Enabled: true, LogGroupName: { Ref: logicalId(dataset.deliveryLogs) } });
      });

      describe('its role', () => {
        const policies = resourcesOfType(json, 'AWS::IAM::Policy').filter(([, r]) => JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]));
        const statements = policies.flatMap(([, r]) => (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
        const actions = statements.flatMap((s) => list(s.Action));
        const bySid = (sid: string): Statement => {
          const found = statements.find((s) => s.Sid === sid);
          if (!found) throw new Error(`no statement ${sid}`);
          return found;
        };

        test('only Firehose in this account may assume it, it has no managed or inline policy, and the stream waits for its policy', () => {
          expect(json.Resources[roleId]?.Properties).toMatchObject({
            AssumeRolePolicyDocument: {
              Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'firehose.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
            },
          });
          expect(json.Resources[roleId]?.Properties?.ManagedPolicyArns).toBeUndefined();
          expect(json.Resources[roleId]?.Properties?.Policies).toBeUndefined();
          expect(policies).toHaveLength(1);
          expect(json.Resources[streamId]).toMatchObject({ DependsOn: expect.arrayContaining([policies[0]?.[0] ?? 'missing']) });
        });

        test('object actions reach only its table\'s prefix and error prefix of the lake bucket; bucket-level actions only that bucket', () => {
          expect(bySid('WriteLakePrefixes')).toMatchObject({ Effect: 'Allow', Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'] });
          expect(list(bySid('WriteLakePrefixes').Resource)).toEqual(
            expect.arrayContaining([
              { 'Fn::Join': ['', [bucketArn, `/${table}/*`]] },
              { 'Fn::Join': ['', [bucketArn, `/errors/${table}/*`]] },
            ]),
          );
          expect(list(bySid('WriteLakePrefixes').Resource)).toHaveLength(2);
          expect(bySid('LocateLakeBucket')).toMatchObject({ Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: bucketArn });
          const s3Statements = statements.filter((s) => list(s.Action).some((a) => a.startsWith('s3:')));
          expect(s3Statements.map((s) => s.Sid).sort()).toEqual(['LocateLakeBucket', 'WriteLakePrefixes']);
          expect(JSON.stringify(s3Statements)).not.toContain(resultsId);
          for (const action of actions) expect(action).not.toMatch(/^s3:(Delete|PutBucket|PutObjectAcl|\*)/);
        });

        test('reads the schema of its own table only (no glue:GetSchemaVersion on "*"), and uses the lake key only through S3', () => {
          expect(bySid('ReadTableSchema').Action).toEqual(['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions']);
          const glueResources = JSON.stringify(bySid('ReadTableSchema').Resource);
          expect(glueResources).toContain(`:table/${lake.databaseName}/${table}"`);
          for (const [, other] of FEEDS) if (other.table !== table) expect(glueResources).not.toContain(`/${other.table}"`);
          expect(glueResources).toContain(`:database/${lake.databaseName}"`);
          expect(glueResources).not.toContain('*');
          expect(list(bySid('UseLakeKeyThroughS3').Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
          expect(bySid('UseLakeKeyThroughS3')).toMatchObject({
            Resource: keyArn,
            Condition: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
          });
          for (const statement of statements) expect(list(statement.Resource)).not.toContain('*');
          expect(actions).not.toContain('glue:GetSchemaVersion');
          expect(actions.filter((a) => a.startsWith('kms:')).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
        });

        test('writes its error logs to its own delivery log group only', () => {
          const logStatements = statements.filter((s) => list(s.Action).some((a) => a.startsWith('logs:')));
          expect(logStatements).toEqual([expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logicalId(dataset.deliveryLogs), 'Arn'] } })]);
        });
      });
    });
  });

  describe('EventBridge feeds: a rule per lake feed, the event detail to its stream', () => {
    const busId = logicalId(stack.events.bus);

    test('one rule per lake feed on the lake side, each on the custom bus', () => {
      for (const [name] of FEEDS) expect(json.Resources[logicalId(lake.datasets[name].rule)]?.Properties?.EventBusName).toEqual({ Ref: busId });
    });

    describe.each(FEEDS)('%s', (name, feed) => {
      const dataset = lake.datasets[name];
      const rule = json.Resources[logicalId(dataset.rule)]?.Properties ?? {};
      const ruleTargets = rule.Targets as Record<string, unknown>[];
      const dlqId = logicalId(dataset.deadLetterQueue);
      const ruleRoleId = logicalId(dataset.ruleRole);

      test('matches exactly the wiring\'s pattern (source, detail-type)', () => {
        expect(rule.EventPattern).toEqual({ source: [...feed.pattern.source], 'detail-type': [...feed.pattern['detail-type']] });
        expect(rule.State ?? 'ENABLED').toBe('ENABLED');
      });

      test('has one target: its own Firehose stream, given the event\'s detail alone (InputPath $.detail), put with its own role', () => {
        expect(ruleTargets).toHaveLength(1);
        expect(ruleTargets[0]).toMatchObject({
          Arn: { 'Fn::GetAtt': [logicalId(dataset.deliveryStream), 'Arn'] },
          InputPath: '$.detail',
          RoleArn: { 'Fn::GetAtt': [ruleRoleId, 'Arn'] },
        });
        expect(ruleTargets[0]).not.toHaveProperty('Input');
        expect(ruleTargets[0]).not.toHaveProperty('InputTransformer');
      });

      test('retries for up to a day, then dead-letters into its own queue, which is encrypted with the lake key, TLS-only, kept 14 days and alarmed', () => {
        expect(ruleTargets[0]).toMatchObject({
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
        });
        expect(json.Resources[dlqId]?.Properties).toMatchObject({ KmsMasterKeyId: keyArn, MessageRetentionPeriod: 14 * 24 * 3600 });
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: dlqId }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
              Match.objectLike({ Effect: 'Allow', Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(dataset.rule), 'Arn'] } } } }),
            ]),
          },
        });
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
        // EventBridge may use the lake key to encrypt what it dead-letters, only for rules on the bus of this account.
        const keyPolicy = json.Resources[keyId]?.Properties?.KeyPolicy as { Statement: (Statement & { Principal?: unknown })[] };
        const forEvents = keyPolicy.Statement.filter((st) => JSON.stringify(st.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }));
        expect(forEvents).toHaveLength(1);
        expect(forEvents[0]).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
        expect(JSON.stringify(forEvents[0]?.Condition)).toContain(`":rule/",{"Ref":"${busId}"},"/*"`);
      });

      test('its role may be assumed by EventBridge of this account only, and may only put records to this one stream', () => {
        expect(json.Resources[ruleRoleId]?.Properties).toMatchObject({
          AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'events.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }] },
        });
        const policies = resourcesOfType(json, 'AWS::IAM::Policy').filter(([, r]) => JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: ruleRoleId }]));
        const statements = policies.flatMap(([, r]) => (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
        expect(statements).toEqual([
          { Sid: 'PutLakeRows', Effect: 'Allow', Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'], Resource: { 'Fn::GetAtt': [logicalId(dataset.deliveryStream), 'Arn'] } },
        ]);
        expect(json.Resources[ruleRoleId]?.Properties?.ManagedPolicyArns).toBeUndefined();
      });
    });
  });
});
