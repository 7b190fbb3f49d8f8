import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface DeadLettersProps {
  /** FIFO queues (the dead-letter queue of a FIFO queue must be FIFO too); deduplication ids come from the sender. */
  fifo?: boolean;
}

export interface QueueWithDeadLettersProps extends DeadLettersProps {
  /** How long a received message stays hidden before it is delivered again. */
  visibilityTimeout: Duration;
  /** Deliveries of a message before it moves to the dead-letter queue. */
  maxReceiveCount: number;
}

/** A dead-letter queue (its alarm is the declared `deadLetters` of functions/operations/alarms.ts, built by lib/operations.ts). */
export interface DeadLetters {
  readonly deadLetterQueue: sqs.Queue;
}

/** Every queue here: SQS-managed encryption, and a queue policy that refuses plain HTTP. */
const secured = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true } satisfies sqs.QueueProps;

const fifoOf = (props: DeadLettersProps): Partial<sqs.QueueProps> => (props.fifo ? { fifo: true, contentBasedDeduplication: false } : {});

/**
 * An SQS queue (`<id>Queue`, messages kept 4 days) that redrives a message
 * to its dead-letter queue (`<id>DeadLetters`, 14 days) after
 * `maxReceiveCount` deliveries (alarmed on its first message by
 * lib/operations.ts, from the declaration of alarms). Both queues
 * are encrypted and TLS-only. `QueueWithDeadLetters.deadLettersOnly` builds
 * just the dead-letter queue, for a sender that is not a
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

  /** The dead-letter queue `<id>DeadLetters`, with no queue in front. */
  static deadLettersOnly(scope: Construct, id: string, props: DeadLettersProps = {}): DeadLetters {
    const deadLetterQueue = new sqs.Queue(scope, `${id}DeadLetters`, { ...secured, ...fifoOf(props), retentionPeriod: Duration.days(14) });
    return { deadLetterQueue };
  }

  constructor(scope: Construct, id: string, props: QueueWithDeadLettersProps) {
    const { deadLetterQueue } = QueueWithDeadLetters.deadLettersOnly(scope, id, props);
    this.deadLetterQueue = deadLetterQueue;
    this.queue = new sqs.Queue(scope, `${id}Queue`, {
      ...secured,
      ...fifoOf(props),
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
