import { Match } from 'aws-cdk-lib/assertions';
import { MOVEMENT_COLUMNS, PARTITION_COLUMNS } from '../../bin/local/lake';
import { BYTES_SCANNED_CUTOFF_PER_QUERY, MOVEMENT_GLUE_COLUMNS, MOVEMENT_PARTITION_KEYS } from '../../lib/lake';
import { logicalId, resourcesOfType, synthesized, type CfnResource } from './synth';

/**
 * The AWS side of the lake (issue 9): the buckets, the Glue table with
 * partition projection, the Athena workgroup and the Firehose stream, pinned
 * to the local lake's layout and Parquet schema (bin/local/lake.ts).
 */
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
    ])('the %s bucket blocks all public access, owns its objects, is retained and is not versioned', (_name, id) => {
      const resource = json.Resources[id()];
      expect(resource?.DeletionPolicy).toBe('Retain');
      expect(resource?.Properties?.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(resource?.Properties?.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(resource?.Properties?.VersioningConfiguration).toBeUndefined();
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

    test('query results expire after 7 days; the lake aborts stale multipart uploads and expires delivery errors, but never expires movements', () => {
      expect(resultsProps.LifecycleConfiguration).toEqual({
        Rules: [{ Id: 'expire-query-results', Status: 'Enabled', ExpirationInDays: 7, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
      });
      const rules = (bucketProps.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
      expect(rules).toEqual([
        { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
        { Id: 'expire-delivery-errors', Status: 'Enabled', Prefix: 'errors/movements/', ExpirationInDays: 90 },
      ]);
      for (const rule of rules) if (rule.ExpirationInDays !== undefined) expect(rule.Prefix).toBe('errors/movements/');
    });
  });

  describe('Glue', () => {
    const [databaseId, database] = only(resourcesOfType(json, 'AWS::Glue::Database'), 'Glue database');
    const [tableId, table] = only(resourcesOfType(json, 'AWS::Glue::Table'), 'Glue table');
    const input = table.TableInput as {
      Name: string;
      TableType: string;
      Parameters: Record<string, unknown>;
      PartitionKeys: { Name: string; Type: string }[];
      StorageDescriptor: { Columns: { Name: string; Type: string }[]; Location: unknown; InputFormat: string; OutputFormat: string; SerdeInfo: { SerializationLibrary: string } };
    };

    test('one database and one table, `movements`, in it (there is no orders table until the local lake writes one)', () => {
      expect((database.DatabaseInput as { Name: string }).Name).toBe(lake.databaseName);
      expect(table.DatabaseName).toEqual({ Ref: databaseId });
      expect(input.Name).toBe('movements');
      expect(lake.movementsTableName).toBe('movements');
      expect(input.TableType).toBe('EXTERNAL_TABLE');
      expect(tableId).toBe(logicalId(lake.movementsTable));
    });

    test('the columns are exactly the local Parquet files\' columns (bin/local/lake.ts), same order, same types', () => {
      const local = MOVEMENT_COLUMNS.map(([name, type]) => ({ Name: name, Type: hiveType(type) }));
      expect(input.StorageDescriptor.Columns).toEqual(local);
      expect(MOVEMENT_GLUE_COLUMNS.map(({ name, type }) => ({ Name: name, Type: type }))).toEqual(local);
      // The money column is exact decimal, never a float or text.
      expect(input.StorageDescriptor.Columns).toContainEqual({ Name: 'unit_cost', Type: 'decimal(19,4)' });
      expect(input.StorageDescriptor.Columns).toContainEqual({ Name: 'created_at', Type: 'timestamp' });
    });

    test('the partition keys are tenant_id (string) then dt (date), as the local paths carry them, and not among the file columns', () => {
      const local = PARTITION_COLUMNS.map(([name, type]) => ({ Name: name, Type: hiveType(type) }));
      expect(input.PartitionKeys).toEqual([
        { Name: 'tenant_id', Type: 'string' },
        { Name: 'dt', Type: 'date' },
      ]);
      expect(input.PartitionKeys).toEqual(local);
      expect(MOVEMENT_PARTITION_KEYS.map(({ name, type }) => ({ Name: name, Type: type }))).toEqual(local);
      for (const key of input.PartitionKeys) expect(input.StorageDescriptor.Columns.map((c) => c.Name)).not.toContain(key.Name);
    });

    test('is Parquet: Parquet SerDe and input/output formats, located under s3://<lake bucket>/movements/', () => {
      expect(input.Parameters.classification).toBe('parquet');
      expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
      expect(input.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
      expect(input.StorageDescriptor.OutputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat');
      expect(input.StorageDescriptor.Location).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/movements/']] });
    });

    test('partition projection is on: tenant_id is injected (a query must give it a static value), dt a daily date from 2020-01-01 to NOW', () => {
      const projection = Object.fromEntries(Object.entries(input.Parameters).filter(([name]) => name.startsWith('projection.')));
      expect(projection).toEqual({
        'projection.enabled': 'true',
        'projection.tenant_id.type': 'injected',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': '2020-01-01,NOW',
        'projection.dt.interval': '1',
        'projection.dt.interval.unit': 'DAYS',
      });
      // Every partition column has a projection (Athena rejects the table otherwise), and none is enumerable.
      for (const key of input.PartitionKeys) expect(projection[`projection.${key.Name}.type`]).toBeDefined();
      expect(Object.keys(input.Parameters)).not.toContain('projection.tenant_id.values');
    });

    test('the location template is movements/tenant_id=${tenant_id}/dt=${dt}/ in the lake bucket, the layout the local lake writes', () => {
      expect(input.Parameters['storage.location.template']).toEqual({
        'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/movements/tenant_id=${tenant_id}/dt=${dt}/']],
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
    const [streamId, stream] = only(resourcesOfType(json, 'AWS::KinesisFirehose::DeliveryStream'), 'delivery stream');
    const destination = stream.ExtendedS3DestinationConfiguration as Record<string, unknown>;
    const roleId = logicalId(lake.deliveryRole);

    test('is DirectPut (its producer comes later), encrypted at rest with the lake key, delivering into the lake bucket with the lake key', () => {
      expect(stream.DeliveryStreamType).toBe('DirectPut');
      expect(stream.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: keyArn });
      expect(destination.BucketARN).toEqual(bucketArn);
      expect(destination.EncryptionConfiguration).toEqual({ KMSEncryptionConfig: { AWSKMSKeyARN: keyArn } });
      expect(destination.RoleARN).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
      expect(streamId).toBe(logicalId(lake.deliveryStream));
    });

    test('converts JSON to Parquet (Snappy) with the schema of the Glue movements table, latest version', () => {
      expect(destination.DataFormatConversionConfiguration).toEqual({
        Enabled: true,
        InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
        OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
        SchemaConfiguration: {
          CatalogId: { Ref: 'AWS::AccountId' },
          DatabaseName: { Ref: logicalId(lake.database) },
          TableName: { Ref: logicalId(lake.movementsTable) },
          Region: stack.region,
          RoleARN: { 'Fn::GetAtt': [roleId, 'Arn'] },
          VersionId: 'LATEST',
        },
      });
      expect(destination.FileExtension).toBe('.parquet');
      // Conversion compresses inside the Parquet file; a destination compression would be refused.
      expect(destination.CompressionFormat).toBeUndefined();
    });

    test('partitions dynamically by tenant_id and the day of created_at (JQ), into the Glue location template\'s layout', () => {
      expect(destination.DynamicPartitioningConfiguration).toEqual({ Enabled: true, RetryOptions: { DurationInSeconds: 300 } });
      expect(destination.ProcessingConfiguration).toEqual({
        Enabled: true,
        Processors: [
          {
            Type: 'MetadataExtraction',
            Parameters: [
              { ParameterName: 'MetadataExtractionQuery', ParameterValue: '{"tenant_id":.tenant_id,"dt":.created_at[0:10]}' },
              { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
            ],
          },
        ],
      });
      expect(destination.Prefix).toBe('movements/tenant_id=!{partitionKeyFromQuery:tenant_id}/dt=!{partitionKeyFromQuery:dt}/');
      // The same path as the Glue template, partition key for partition key.
      const template = 'movements/tenant_id=${tenant_id}/dt=${dt}/';
      expect(String(destination.Prefix).replace(/!\{partitionKeyFromQuery:(\w+)\}/g, '${$1}')).toBe(template);
    });

    test('failed records go to an error prefix outside the table location, by error type and day', () => {
      expect(destination.ErrorOutputPrefix).toBe('errors/movements/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/');
      expect(String(destination.ErrorOutputPrefix).startsWith('movements/')).toBe(false);
    });

    test('buffers 64 MiB (the minimum with format conversion and dynamic partitioning) or 900 s, and logs delivery errors', () => {
      expect(destination.BufferingHints).toEqual({ SizeInMBs: 64, IntervalInSeconds: 900 });
      expect(destination.CloudWatchLoggingOptions).toMatchObject({ Enabled: true, LogGroupName: { Ref: logicalId(lake.deliveryLogs) } });
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
        template.hasResource('AWS::KinesisFirehose::DeliveryStream', { DependsOn: Match.arrayWith([policies[0]?.[0] ?? 'missing']) });
      });

      test('object actions reach only the movements/ and errors/movements/ prefixes of the lake bucket; bucket-level actions only that bucket', () => {
        const objectActions = ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'];
        expect(bySid('WriteLakePrefixes')).toMatchObject({ Effect: 'Allow', Action: objectActions });
        expect(list(bySid('WriteLakePrefixes').Resource)).toEqual(
          expect.arrayContaining([
            { 'Fn::Join': ['', [bucketArn, '/movements/*']] },
            { 'Fn::Join': ['', [bucketArn, '/errors/movements/*']] },
          ]),
        );
        expect(list(bySid('WriteLakePrefixes').Resource)).toHaveLength(2);
        expect(bySid('LocateLakeBucket')).toMatchObject({ Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: bucketArn });
        // No other S3 statement, none on another bucket, no delete or bucket configuration.
        const s3Statements = statements.filter((s) => list(s.Action).some((a) => a.startsWith('s3:')));
        expect(s3Statements.map((s) => s.Sid).sort()).toEqual(['LocateLakeBucket', 'WriteLakePrefixes']);
        expect(JSON.stringify(s3Statements)).not.toContain(resultsId);
        for (const action of actions) expect(action).not.toMatch(/^s3:(Delete|PutBucket|PutObjectAcl|\*)/);
      });

      test('reads the schema of the movements table only (no glue:GetSchemaVersion on "*"), and uses the lake key only through S3', () => {
        expect(bySid('ReadMovementsSchema').Action).toEqual(['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions']);
        const glueResources = JSON.stringify(bySid('ReadMovementsSchema').Resource);
        expect(glueResources).toContain(`:table/${lake.databaseName}/movements"`);
        expect(glueResources).toContain(`:database/${lake.databaseName}"`);
        expect(glueResources).not.toContain('*');
        expect(bySid('UseLakeKeyThroughS3')).toMatchObject({
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: keyArn,
          Condition: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
        });
        for (const statement of statements) expect(list(statement.Resource)).not.toContain('*');
        expect(actions).not.toContain('glue:GetSchemaVersion');
        expect(actions.filter((a) => a.startsWith('kms:')).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      });

      test('writes its error logs to its own log group only', () => {
        const logStatements = statements.filter((s) => list(s.Action).some((a) => a.startsWith('logs:')));
        expect(logStatements).toEqual([expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logicalId(lake.deliveryLogs), 'Arn'] } })]);
      });
    });
  });
});
