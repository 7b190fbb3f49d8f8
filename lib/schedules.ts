import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { scheduledFunctions } from '../functions/wiring';
import { stockroomFunction } from './functions';
import { mapRecord } from './records';

export type ScheduleName = keyof typeof scheduledFunctions;

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
 * the retry: these jobs are idempotent sweeps), and an alarm fires when one
 * keeps failing.
 */
export class InventorySchedules extends Construct {
  readonly functions: Record<ScheduleName, NodejsFunction>;
  readonly rules: Record<ScheduleName, events.Rule>;
  readonly alarms: Record<ScheduleName, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: { table: TableV2 }) {
    super(scope, id);
    const built = mapRecord(scheduledFunctions, (name, scheduled) => {
      const rate = scheduleRate(scheduled.everySeconds);
      const fn = stockroomFunction(this, name, {
        entry: scheduled.entry,
        description: `Every ${scheduled.everySeconds} s: ${scheduled.summary}`,
        table: props.table,
        access: scheduled.table,
        // Shorter than the period, so a run is over (or killed) before the next one starts.
        timeout: Duration.seconds(Math.min(scheduled.everySeconds - 5, 900)),
        retryAttempts: 0,
      });
      const rule = new events.Rule(this, `${name}Schedule`, {
        description: `${name}: ${scheduled.summary}`.slice(0, 512),
        schedule: events.Schedule.rate(rate),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: rate })],
      });
      const alarm = new cloudwatch.Alarm(this, `${name}FailingAlarm`, {
        alarmDescription: `${name} failed in 3 consecutive 5-minute periods: ${scheduled.summary}`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      return { fn, rule, alarm };
    });
    this.functions = mapRecord(built, (_name, b) => b.fn);
    this.rules = mapRecord(built, (_name, b) => b.rule);
    this.alarms = mapRecord(built, (_name, b) => b.alarm);
  }
}
