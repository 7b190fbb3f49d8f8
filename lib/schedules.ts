import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { DEMAND_IMPORTS_PREFIX, LAKE_BUCKET_ENV } from '../functions/platform/lake-objects';
import { entriesOf, lakeFeeds, lakeRollups, scheduledFunctions, type ChannelSchedule, type ScheduledFunction } from '../functions/wiring';
import { useChannelSecrets } from './api';
import { stockroomFunction } from './functions';
import { cfnBucketOf, CLOSE_PREFIX, grantLakePrefixes, lakeKeyThroughS3, tablePrefix, type InventoryLake } from './lake';
import { mapRecord } from './records';

export type ScheduleName = keyof typeof scheduledFunctions;

const closesLake = (scheduled: ScheduledFunction): boolean => scheduled.lake === 'close';

/** The schedules that close the lake (`lake: 'close'`): with Firehose, the only writers of the lake bucket (test/infra/iam.test.ts holds them to that). */
export const LAKE_CLOSE_SCHEDULES: readonly ScheduleName[] = entriesOf(scheduledFunctions).flatMap(([name, scheduled]) => (closesLake(scheduled) ? [name] : []));

/** Every schedule with lake access (`lake` declared): the closes, and the nightly forecast requests, which only read close/. */
export const LAKE_SCHEDULES: readonly ScheduleName[] = entriesOf(scheduledFunctions).flatMap(([name, scheduled]) => ('lake' in scheduled ? [name] : []));

/**
 * How a lake close runs:
 * - one at a time without reserved concurrency: its timeout (900 s) is far shorter than its
 *   period (1 h) and a failed run is not retried (retryAttempts 0; the next tick is the retry),
 *   so two runs never overlap. Reserving concurrency would say it twice and would keep the stack
 *   from deploying in a new account whose concurrency limit is 10 (Lambda keeps 10 unreserved);
 * - on one full vCPU (1769 MB): it decodes a day's Parquet and runs the valuation engine in
 *   JavaScript, single-threaded, so more memory than that buys no speed (a 10M-row first close
 *   takes ~2 minutes and ~600 MB on this machine: npm run bench -- reports).
 */
export const LAKE_CLOSE_FUNCTION = { memorySize: 1769 } as const;

/**
 * What functions/reports/close.ts does in the lake bucket, and nothing more (no Athena, no Glue,
 * no table): it lists `movements/` (with a delimiter: the tenants) and each tenant's
 * `movements/tenant_id=<t>/`, reads those files and its own objects under close/, writes each
 * closed day's level_days object and its own objects, and deletes retired checkpoints
 * (DeleteObjects takes s3:DeleteObject per key). The bucket is SSE-KMS with the lake key: reads
 * decrypt, writes generate a data key, both only through S3.
 *
 * Listing is also allowed under close/, though the close lists nothing there: S3 answers a
 * GetObject of a missing key with NoSuchKey only to a caller that may list it, AccessDenied
 * otherwise; the close reads its manifest and closed.json before they first exist (a tenant's
 * first close) and takes NoSuchKey, and only that, for "none yet".
 */
const grantLakeClose = (fn: NodejsFunction, lake: InventoryLake): void => {
  const stack = Stack.of(fn);
  const movements = tablePrefix(lakeFeeds.movements.table);
  // Every rollup table (level_days, level_balances): the close writes one object per tenant and day in each.
  const rollups = entriesOf(lakeRollups).map(([, rollup]) => tablePrefix(rollup.table));
  // It resumes from the balances it wrote for the day of its last checkpoint (functions/reports/close.ts readBalances).
  const balances = tablePrefix(lakeRollups.levelBalances.table);
  const objects = (prefix: string): string => lake.bucket.arnForObjects(`${prefix}*`);
  fn.addEnvironment(LAKE_BUCKET_ENV, lake.bucket.bucketName);
  const statements = [
    new iam.PolicyStatement({
      sid: 'ListWhatTheCloseReads',
      actions: ['s3:ListBucket'],
      resources: [lake.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${movements}*`, `${CLOSE_PREFIX}*`, `${balances}*`] } },
    }),
    new iam.PolicyStatement({ sid: 'ReadMovementsBalancesAndClose', actions: ['s3:GetObject'], resources: [objects(movements), objects(CLOSE_PREFIX), objects(balances)] }),
    new iam.PolicyStatement({ sid: 'WriteRollupsAndClose', actions: ['s3:PutObject'], resources: [...rollups.map(objects), objects(CLOSE_PREFIX)] }),
    new iam.PolicyStatement({ sid: 'DeleteRetiredCheckpoints', actions: ['s3:DeleteObject'], resources: [objects(CLOSE_PREFIX)] }),
    lakeKeyThroughS3(lake, stack),
  ];
  for (const statement of statements) fn.addToRolePolicy(statement);
  const bucketId = stack.getLogicalId(cfnBucketOf(lake.bucket));
  const reasons: Record<string, string> = {
    [movements]: `The close reads every movement file of a tenant-day, whose names Firehose chooses, so GetObject is granted on ${movements}* (the movements table) and no other table.`,
    ...Object.fromEntries(
      rollups.map((prefix) => [prefix, `The close writes one object of this rollup per tenant and day (${prefix}tenant_id=<t>/dt=<d>/...parquet); PutObject is granted on the rollup tables' prefixes only.`]),
    ),
    // After the rollups' entry for it: the balances are also read back.
    [balances]: `The close writes one level_balances object per tenant and day, and reads the one of the day it resumes from, so PutObject and GetObject are granted on ${balances}*.`,
    [CLOSE_PREFIX]: `The close keeps its own per-tenant objects (manifest, closed.json, valuation checkpoints per method and day) under ${CLOSE_PREFIX}, which it reads, writes and prunes; nothing else lives there.`,
  };
  Validations.of(fn).acknowledge(
    ...Object.entries(reasons).map(([prefix, reason]) => ({ id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`, reason })),
  );
};

/** EventBridge rates are whole minutes (at least one); say so at synthesis rather than round silently. */
export const scheduleRate = (everySeconds: number): Duration => {
  if (!Number.isInteger(everySeconds) || everySeconds < 60 || everySeconds % 60 !== 0)
    throw new Error(`an EventBridge schedule runs every whole number of minutes; everySeconds ${everySeconds} is not one`);
  return Duration.seconds(everySeconds);
};

/**
 * One Lambda and one scheduled EventBridge rule per entry of
 * functions/wiring.ts `scheduledFunctions`, the same declaration the local
 * scheduler (bin/local/scheduler.ts) runs. Each function gets the table
 * access its entry declares. A failed run is not retried (the next tick is
 * the retry: these jobs are idempotent sweeps); the declared
 * `scheduleFailures` alarm (lib/operations.ts) fires when one keeps failing.
 */
export class InventorySchedules<Name extends string = ScheduleName> extends Construct {
  readonly functions: Record<Name, NodejsFunction>;
  readonly rules: Record<Name, events.Rule>;

  /** `schedules`: which record of the wiring to build (the main stack's scheduledFunctions, or a nested stack's, e.g. channelSchedules). */
  constructor(scope: Construct, id: string, props: { table: TableV2; lake: InventoryLake; schedules: Record<Name, ChannelSchedule> }) {
    super(scope, id);
    const built = mapRecord(props.schedules, (name, scheduled: ChannelSchedule) => {
      const rate = scheduleRate(scheduled.everySeconds);
      const fn = stockroomFunction(this, name, {
        entry: scheduled.entry,
        description: `Every ${scheduled.everySeconds} s: ${scheduled.summary}`,
        table: props.table,
        access: scheduled.table,
        // Shorter than the period, so a run is over (or killed) before the next one starts.
        timeout: Duration.seconds(Math.min(scheduled.everySeconds - 5, 900)),
        retryAttempts: 0,
        ...(closesLake(scheduled) ? LAKE_CLOSE_FUNCTION : {}),
      });
      if (closesLake(scheduled)) grantLakeClose(fn, props.lake);
      if (scheduled.channelSecrets) useChannelSecrets(fn, scheduled.channelSecrets);
      if ('lake' in scheduled && scheduled.lake === 'forecast-schedule')
        grantLakePrefixes(fn, props.lake, { read: [CLOSE_PREFIX], list: [DEMAND_IMPORTS_PREFIX] }, {
          [CLOSE_PREFIX]: `It lists the tenants under ${CLOSE_PREFIX} and reads each one's closed.json (how far its lake is closed); read only.`,
        });
      const rule = new events.Rule(this, `${name}Schedule`, {
        description: `${name}: ${scheduled.summary}`.slice(0, 512),
        schedule: events.Schedule.rate(rate),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: rate })],
      });
      return { fn, rule };
    });
    this.functions = mapRecord(built, (_name, b) => b.fn);
    this.rules = mapRecord(built, (_name, b) => b.rule);
  }
}
