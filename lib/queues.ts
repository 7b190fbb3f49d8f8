import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface DeadLettersProps {
  /** What the alarm means and what the operator should do: the alarm's description. */
  alarmDescription: string;
  /** FIFO queues (the dead-letter queue of a FIFO queue must be FIFO too); deduplication ids come from the sender. */
  fifo?: boolean;
}

export interface QueueWithDeadLettersProps extends DeadLettersProps {
  /** How long a received message stays hidden before it is delivered again. */
  visibilityTimeout: Duration;
  /** Deliveries of a message before it moves to the dead-letter queue. */
  maxReceiveCount: number;
}

/** A dead-letter queue and the alarm on its depth. */
export interface DeadLetters {
  readonly deadLetterQueue: sqs.Queue;
  /** Fires on the first message in the dead-letter queue. */
  readonly deadLetterAlarm: cloudwatch.Alarm;
}

/** Every queue here: SQS-managed encryption, and a queue policy that refuses plain HTTP. */
const secured = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true } satisfies sqs.QueueProps;

const fifoOf = (props: DeadLettersProps): Partial<sqs.QueueProps> => (props.fifo ? { fifo: true, contentBasedDeduplication: false } : {});

/**
 * An SQS queue (`<id>Queue`, messages kept 4 days) that redrives a message
 * to its dead-letter queue (`<id>DeadLetters`, 14 days) after
 * `maxReceiveCount` deliveries, and a CloudWatch alarm
 * (`<id>DeadLettersAlarm`) on the first dead-lettered message. Both queues
 * are encrypted and TLS-only. `QueueWithDeadLetters.deadLettersOnly` builds
 * just the dead-letter queue and its alarm, for a sender that is not a
 * queue (the stream processor's event source mapping sends its failures
 * there directly).
 *
 * Deliberately not a Construct of its own: the resources are added to the
 * caller's scope under the ids above, the construct ids (so the logical
 * ids) they had before this class existed. Another level in the construct
 * tree would rename them, and CloudFormation would replace the queues on
 * the next deploy, dropping every message waiting in them.
 */
export class QueueWithDeadLetters implements DeadLetters {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;

  /** The dead-letter queue `<id>DeadLetters` and its alarm `<id>DeadLettersAlarm`, with no queue in front. */
  static deadLettersOnly(scope: Construct, id: string, props: DeadLettersProps): DeadLetters {
    const deadLetterQueue = new sqs.Queue(scope, `${id}DeadLetters`, { ...secured, ...fifoOf(props), retentionPeriod: Duration.days(14) });
    const deadLetterAlarm = new cloudwatch.Alarm(scope, `${id}DeadLettersAlarm`, {
      alarmDescription: props.alarmDescription,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return { deadLetterQueue, deadLetterAlarm };
  }

  constructor(scope: Construct, id: string, props: QueueWithDeadLettersProps) {
    const { deadLetterQueue, deadLetterAlarm } = QueueWithDeadLetters.deadLettersOnly(scope, id, props);
    this.deadLetterQueue = deadLetterQueue;
    this.deadLetterAlarm = deadLetterAlarm;
    this.queue = new sqs.Queue(scope, `${id}Queue`, {
      ...secured,
      ...fifoOf(props),
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
