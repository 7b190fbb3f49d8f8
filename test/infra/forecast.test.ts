import { demandImportKeys } from '../../functions/forecasting/imports';
import { forecastKeys, FORECAST_PREFIX as RUN_PREFIX } from '../../functions/forecasting/run';
import { LAKE_BUCKET_ENV } from '../../functions/platform/lake-objects';
import { closeKeys } from '../../functions/reports/close';
import { eventConsumers, lakeTables, scheduledFunctions } from '../../functions/wiring';
import { FORECAST_PREFIX, tablePrefix } from '../../lib/lake';
import { logicalId, roleOf, synthesized } from './synth';

/**
 * The AWS side of the forecasting run (issue 10; functions/forecasting/run.ts): the nightly
 * request schedule, the planner and the chunk workers, each with exactly the lake access its
 * code uses, and the chunks kept outside every table and expired.
 */
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const TENANT = 'tenant-a';
const DAY = '2026-11-30';
const RUN = '01JD0000000000000000000000';

/** Each S3 call the forecasting code makes, per function, by the key (or listed prefix) it names. */
const CALLS = {
  requestNightlyForecasts: { list: ['close/', 'demand_imports/'], get: [closeKeys.closed(TENANT)], put: [] as string[] },
  planForecast: {
    list: [demandImportKeys.tenant(TENANT), closeKeys.balancesOf(TENANT)],
    get: [closeKeys.closed(TENANT), closeKeys.rollup(TENANT, DAY), closeKeys.balance(TENANT, DAY), demandImportKeys.object(TENANT, RUN)],
    put: [forecastKeys.chunk(TENANT, RUN, 0)],
  },
  forecastChunk: { list: [] as string[], get: [forecastKeys.chunk(TENANT, RUN, 3)], put: [] as string[] },
};

describe('the forecasting run in AWS', () => {
  const { json, stack } = synthesized();
  const bucketId = logicalId(stack.lake.bucket);
  const bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
  const statementsOf = (roleId: string): Statement[] =>
    Object.values(json.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(`"${roleId}"`))
      .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => s.Effect === 'Allow');
  const prefixesFor = (statements: Statement[], action: string): string[] =>
    statements
      .filter((s) => list(s.Action).includes(action))
      .flatMap((s) => list(s.Resource))
      .flatMap((resource) => {
        const [arn, suffix] = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? [];
        return JSON.stringify(arn) === JSON.stringify(bucketArn) && typeof suffix === 'string' && suffix.endsWith('*') ? [suffix.slice(1, -1)] : [];
      });
  const functions = {
    requestNightlyForecasts: stack.schedules.functions.requestNightlyForecasts,
    planForecast: stack.consumers.consumers.planForecast.function,
    forecastChunk: stack.consumers.consumers.forecastChunk.function,
  };

  test('the wiring declares the nightly request (hourly, table write) and the two consumers with their lake kinds', () => {
    expect(scheduledFunctions.requestNightlyForecasts).toMatchObject({ everySeconds: 3600, table: 'write', lake: 'forecast-schedule' });
    expect(eventConsumers.planForecast).toMatchObject({ lake: 'forecast-plan', pattern: { 'detail-type': ['ForecastRunRequested'] }, queue: { batchSize: 1 } });
    expect(eventConsumers.forecastChunk).toMatchObject({ lake: 'forecast-chunk', pattern: { 'detail-type': ['ForecastChunkReady'] }, queue: { batchSize: 1 } });
  });

  test.each(Object.keys(CALLS) as (keyof typeof CALLS)[])('%s finds the bucket in LAKE_BUCKET and is granted every key its code lists, reads and writes, and no more', (name) => {
    const fn = functions[name];
    const variables = (json.Resources[logicalId(fn)]?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[LAKE_BUCKET_ENV]).toEqual({ Ref: bucketId });
    const statements = statementsOf(logicalId(roleOf(fn)));
    const listable = (statements.find((s) => list(s.Action).includes('s3:ListBucket'))?.Condition?.StringLike?.['s3:prefix'] ?? []) as string[];
    const granted = (patterns: string[], key: string) => patterns.some((pattern) => pattern.endsWith('*') && key.startsWith(pattern.slice(0, -1)));
    for (const prefix of CALLS[name].list) expect({ list: prefix, granted: granted(listable, prefix) }).toEqual({ list: prefix, granted: true });
    // A get of a missing key must be NoSuchKey (absent), not AccessDenied: every key read is also listable.
    for (const key of CALLS[name].get) expect({ listable: key, granted: granted(listable, key) }).toEqual({ listable: key, granted: true });
    const gets = prefixesFor(statements, 's3:GetObject');
    const puts = prefixesFor(statements, 's3:PutObject');
    for (const key of CALLS[name].get) expect({ get: key, granted: granted(gets.map((p) => `${p}*`), key) }).toEqual({ get: key, granted: true });
    for (const key of CALLS[name].put) expect({ put: key, granted: granted(puts.map((p) => `${p}*`), key) }).toEqual({ put: key, granted: true });
    // No more than that: each granted prefix is one some call uses.
    for (const prefix of gets) expect(CALLS[name].get.some((key) => key.startsWith(prefix))).toBe(true);
    expect(puts).toEqual(CALLS[name].put.length ? [FORECAST_PREFIX] : []);
    expect(prefixesFor(statements, 's3:DeleteObject')).toEqual([]);
    // The lake key through S3 only; a function that only reads may only decrypt.
    const onKey = statements.filter((s) => list(s.Action).some((a) => a.startsWith('kms:')) && JSON.stringify(s.Resource).includes(logicalId(stack.lake.key)));
    expect(onKey.flatMap((s) => list(s.Action)).sort()).toEqual(CALLS[name].put.length ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt']);
    for (const s of onKey) expect(s.Condition).toEqual({ StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } });
  });

  test('chunks live under forecast/, outside every lake table, and the bucket expires them after 7 days', () => {
    expect(RUN_PREFIX).toBe(FORECAST_PREFIX);
    expect(forecastKeys.chunk(TENANT, RUN, 12).startsWith(`${FORECAST_PREFIX}tenant_id=${TENANT}/run_id=${RUN}/`)).toBe(true);
    for (const { table } of lakeTables) expect(FORECAST_PREFIX.startsWith(tablePrefix(table))).toBe(false);
    const bucket = json.Resources[bucketId]?.Properties as { LifecycleConfiguration: { Rules: Record<string, unknown>[] } };
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual({ Id: 'expire-forecast-chunks', Status: 'Enabled', Prefix: FORECAST_PREFIX, ExpirationInDays: 7 });
  });

  test('the planner may run for up to 15 minutes (a sixth of its queue\'s visibility timeout) on 3008 MB (it holds a tenant\'s series at once), and a chunk worker for 150 s', () => {
    expect(json.Resources[logicalId(functions.planForecast)]?.Properties?.Timeout).toBe(900);
    expect(json.Resources[logicalId(functions.planForecast)]?.Properties?.MemorySize).toBe(3008);
    expect(json.Resources[logicalId(functions.forecastChunk)]?.Properties?.Timeout).toBe(150);
  });
});
