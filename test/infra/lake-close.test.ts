import { LAKE_BUCKET_ENV } from '../../functions/platform/lake-objects';
import { closeKeys } from '../../functions/reports/close';
import { lakeTables, scheduledFunctions } from '../../functions/wiring';
import { LAKE_QUERY_ROUTES } from '../../lib/inventory-stack';
import { CLOSE_PREFIX, tablePrefix } from '../../lib/lake';
import { LAKE_CLOSE_FUNCTION, LAKE_CLOSE_SCHEDULES } from '../../lib/schedules';
import { logicalId, roleOf, resourcesOfType, synthesized, type CfnTemplate } from './synth';
import { POWERTOOLS_ENVIRONMENT } from '../../functions/platform/metrics';

/**
 * The AWS side of the daily lake close (issue 9; functions/reports/close.ts): the scheduled
 * function that rolls closed days up into level_days and keeps the valuation checkpoints, and
 * the report functions' reads of what it writes. (The level_days Glue table is in lake.test.ts.)
 */
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const roleStatements = (json: CfnTemplate, roleId: string): Statement[] =>
  Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(`"${roleId}"`))
    .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => s.Effect === 'Allow');

const TENANT = 'tenant-a';
const DAY = '2024-03-31';
/** Each S3 call functions/reports/close.ts makes, by the key (or listed prefix) it names. */
const CLOSE_CALLS = {
  list: [closeKeys.tenants, closeKeys.movements(TENANT)],
  get: [`${closeKeys.movements(TENANT)}dt=${DAY}/part-0001.parquet`, closeKeys.manifest(TENANT), closeKeys.closed(TENANT), closeKeys.checkpoint(TENANT, 'fifo', DAY), closeKeys.balance(TENANT, DAY)],
  put: [closeKeys.rollup(TENANT, DAY), closeKeys.balance(TENANT, DAY), closeKeys.manifest(TENANT), closeKeys.closed(TENANT), closeKeys.checkpoint(TENANT, 'weighted_average', DAY)],
  delete: [closeKeys.checkpoint(TENANT, 'fifo', DAY)],
  /** Gets of keys that do not exist before a tenant's first close: S3 says NoSuchKey (not AccessDenied) only if the caller may list them. */
  missing: [closeKeys.manifest(TENANT), closeKeys.closed(TENANT), closeKeys.balance(TENANT, DAY)],
};

describe('the daily lake close in AWS', () => {
  const { json, stack } = synthesized();
  const lake = stack.lake;
  const bucketId = logicalId(lake.bucket);
  const bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
  const objectsUnder = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}*`]] });
  const keyArn = { 'Fn::GetAtt': [logicalId(lake.key), 'Arn'] };
  const viaS3 = { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } };

  /** The lake-bucket key prefixes a set of statements grants `action` on (object ARNs `<bucket>/<prefix>*`). */
  const prefixesFor = (statements: Statement[], action: string): string[] =>
    statements
      .filter((s) => list(s.Action).includes(action))
      .flatMap((s) => list(s.Resource))
      .flatMap((resource) => {
        const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
        const [arn, suffix] = join?.[1] ?? [];
        return JSON.stringify(arn) === JSON.stringify(bucketArn) && typeof suffix === 'string' && suffix.endsWith('*') ? [suffix.slice(1, -1)] : [];
      });

  test('the wiring declares one lake close, the hourly closeLake schedule, with no table access', () => {
    expect(LAKE_CLOSE_SCHEDULES).toEqual(['closeLake']);
    expect(scheduledFunctions.closeLake).toMatchObject({ everySeconds: 3600, table: 'none', lake: 'close' });
  });

  describe.each([...LAKE_CLOSE_SCHEDULES])('%s', (name) => {
    const fn = stack.schedules.functions[name];
    const props = json.Resources[logicalId(fn)]?.Properties ?? {};
    const statements = roleStatements(json, logicalId(roleOf(fn)));
    const lakeStatements = statements.filter((s) => !list(s.Action).every((a) => a.startsWith('xray:')));

    test('runs one at a time because a run ends (900 s) long before the next tick (1 h) and a failed run is not retried, on one full vCPU (1769 MB), with no reserved concurrency (a new account could not deploy it)', () => {
      expect(props.ReservedConcurrentExecutions).toBeUndefined();
      expect(props.MemorySize).toBe(1769);
      expect(props.Timeout).toBe(900);
      expect(scheduledFunctions.closeLake.everySeconds).toBeGreaterThan(props.Timeout as number);
      const invokeConfig = resourcesOfType(json, 'AWS::Lambda::EventInvokeConfig').find(([, c]) => JSON.stringify(c.Properties?.FunctionName).includes(logicalId(fn)));
      expect(invokeConfig?.[1].Properties?.MaximumRetryAttempts).toBe(0);
      expect(LAKE_CLOSE_FUNCTION).toEqual({ memorySize: 1769 });
    });

    test('finds the lake bucket in LAKE_BUCKET, the variable functions/platform/lake-objects.ts reads, and is given no Athena or Glue names', () => {
      const variables = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(LAKE_BUCKET_ENV).toBe('LAKE_BUCKET');
      expect(variables[LAKE_BUCKET_ENV]).toEqual({ Ref: bucketId });
      // Besides every function's Powertools settings (lib/functions.ts), only the bucket and the table.
      expect(Object.keys(variables).sort()).toEqual(['LAKE_BUCKET', 'NODE_OPTIONS', 'TABLE_NAME', ...Object.keys(POWERTOOLS_ENVIRONMENT)].sort());
    });

    test('its policy is exactly: list and read movements/, level_balances/ and close/, write level_days/, level_balances/ and close/, delete under close/, the lake key through S3 only', () => {
      expect(lakeStatements).toEqual([
        { Sid: 'ListWhatTheCloseReads', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['movements/*', 'close/*', 'level_balances/*'] } } },
        { Sid: 'ReadMovementsBalancesAndClose', Effect: 'Allow', Action: 's3:GetObject', Resource: [objectsUnder('close/'), objectsUnder('level_balances/'), objectsUnder('movements/')] },
        { Sid: 'WriteRollupsAndClose', Effect: 'Allow', Action: 's3:PutObject', Resource: [objectsUnder('close/'), objectsUnder('level_balances/'), objectsUnder('level_days/')] },
        { Sid: 'DeleteRetiredCheckpoints', Effect: 'Allow', Action: 's3:DeleteObject', Resource: objectsUnder('close/') },
        { Sid: 'UseLakeKeyThroughS3', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn, Condition: viaS3 },
      ]);
    });

    test('it holds no Athena, Glue, DynamoDB, Firehose or table-key action, and nothing on the query results bucket', () => {
      const services = new Set(statements.flatMap((s) => list(s.Action)).map((a) => a.split(':')[0]));
      expect([...services].sort()).toEqual(['kms', 's3', 'xray']);
      const text = JSON.stringify(statements);
      expect(text).not.toContain(logicalId(stack.data.key));
      expect(text).not.toContain(logicalId(stack.data.table));
      expect(text).not.toContain(logicalId(lake.resultsBucket));
    });

    test('every key the close lists, reads, writes or deletes (functions/reports/close.ts closeKeys) is granted for that action, a first close\'s missing manifest and closed.json are listable (so S3 says NoSuchKey), and no other table is reachable', () => {
      const listable = (lakeStatements.find((s) => list(s.Action).includes('s3:ListBucket'))?.Condition?.StringLike?.['s3:prefix'] ?? []) as string[];
      const granted = (patterns: string[], key: string) => patterns.some((pattern) => pattern.endsWith('*') && key.startsWith(pattern.slice(0, -1)));
      for (const prefix of CLOSE_CALLS.list) expect({ list: prefix, granted: granted(listable, prefix) }).toEqual({ list: prefix, granted: true });
      for (const key of CLOSE_CALLS.missing) expect({ listableForNoSuchKey: key, granted: granted(listable, key) }).toEqual({ listableForNoSuchKey: key, granted: true });
      const byAction = { get: 's3:GetObject', put: 's3:PutObject', delete: 's3:DeleteObject' } as const;
      for (const call of ['get', 'put', 'delete'] as const) {
        const prefixes = prefixesFor(lakeStatements, byAction[call]).map((p) => `${p}*`);
        for (const key of CLOSE_CALLS[call]) expect({ [call]: key, granted: granted(prefixes, key) }).toEqual({ [call]: key, granted: true });
      }
      // Reads movements, writes the rollups: the other tables (orders) and the delivery errors are out of reach, and it never writes movements.
      const reachable = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].flatMap((action) => prefixesFor(lakeStatements, action));
      for (const { table } of lakeTables) if (!['movements', 'level_days', 'level_balances'].includes(table)) expect(reachable).not.toContain(tablePrefix(table));
      expect(reachable.filter((p) => p.startsWith('errors/'))).toEqual([]);
      expect(prefixesFor(lakeStatements, 's3:PutObject')).not.toContain('movements/');
      expect(prefixesFor(lakeStatements, 's3:DeleteObject')).toEqual(['close/']);
    });
  });

  test('the close keeps its own objects under close/, outside every lake table\'s location (Athena never reads them)', () => {
    expect(CLOSE_PREFIX).toBe('close/');
    for (const key of [closeKeys.manifest(TENANT), closeKeys.closed(TENANT), closeKeys.checkpoint(TENANT, 'fifo', DAY)]) expect(key.startsWith(CLOSE_PREFIX)).toBe(true);
    for (const { table } of lakeTables) expect(tablePrefix(table)).not.toBe(CLOSE_PREFIX);
    expect(closeKeys.rollup(TENANT, DAY).startsWith(`${tablePrefix('level_days')}tenant_id=${TENANT}/dt=${DAY}/`)).toBe(true);
    expect(closeKeys.balance(TENANT, DAY).startsWith(`${tablePrefix('level_balances')}tenant_id=${TENANT}/dt=${DAY}/`)).toBe(true);
  });

  describe('the report functions read what the close writes', () => {
    test.each([...LAKE_QUERY_ROUTES])('%s finds the lake bucket in LAKE_BUCKET and may GetObject under close/ (closed.json, checkpoints), and do nothing else there', (name) => {
      const fn = stack.api.functions[name];
      const variables = (json.Resources[logicalId(fn)]?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables[LAKE_BUCKET_ENV]).toEqual({ Ref: bucketId });
      const statements = roleStatements(json, logicalId(roleOf(fn)));
      expect(statements.find((s) => s.Sid === 'ReadLakeClose')).toEqual({ Sid: 'ReadLakeClose', Effect: 'Allow', Action: 's3:GetObject', Resource: objectsUnder('close/') });
      const onClose = statements.filter((s) => JSON.stringify(s.Resource).includes('/close/'));
      expect(onClose.flatMap((s) => list(s.Action))).toEqual(['s3:GetObject']);
    });

    test.each([...LAKE_QUERY_ROUTES])('%s: its S3 grants are the lake queries\' (every lake table read, level_days included; results read-write) plus close/ read, and no write in the lake bucket', (name) => {
      const statements = roleStatements(json, logicalId(roleOf(stack.api.functions[name])));
      const s3 = statements.filter((s) => list(s.Action).some((a) => a.startsWith('s3:')));
      expect(s3.map((s) => s.Sid).sort()).toEqual(['ListLake', 'QueryResults', 'ReadLakeClose', 'ReadLakeTableFiles']);
      expect(prefixesFor(s3, 's3:GetObject').sort()).toEqual([CLOSE_PREFIX, ...lakeTables.map(({ table }) => tablePrefix(table))].sort());
      for (const action of ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload']) expect(prefixesFor(s3, action)).toEqual([]);
      expect(JSON.stringify(statements.find((s) => s.Sid === 'QueryResults')?.Resource)).toContain(logicalId(lake.resultsBucket));
    });

    test.each([...LAKE_QUERY_ROUTES])('%s may read the Glue table of every lake table, the rollups\' (level_days) as well as the feeds\'', (name) => {
      const statements = roleStatements(json, logicalId(roleOf(stack.api.functions[name])));
      const glue = JSON.stringify(statements.find((s) => s.Sid === 'ReadLakeTables')?.Resource);
      for (const { table } of lakeTables) expect(glue).toContain(`:table/${lake.databaseName}/${table}"`);
      expect(lakeTables.map(({ table }) => table)).toContain('level_days');
    });
  });
});
