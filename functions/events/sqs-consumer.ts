import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { log } from '../platform/log';

/**
 * An EventBridge -> SQS -> Lambda consumer: each message body is the
 * EventBridge event as the rule's SQS target delivers it. Messages are
 * handled one by one in order; a message that throws (or is not an event)
 * is reported in `batchItemFailures`, so SQS redelivers only it after the
 * visibility timeout and, after the queue's maxReceives, dead-letters it.
 */
export const consumeSqs = async <D>(
  event: SQSEvent,
  handle: (event: EventBridgeEvent<string, D>) => Promise<unknown>,
): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const parsed = JSON.parse(record.body) as EventBridgeEvent<string, D>;
      if (!parsed || typeof parsed !== 'object' || !parsed.detail) throw new Error('the message is not an EventBridge event');
      await handle(parsed);
    } catch (error) {
      log.error('event consumer failed a message', { message_id: record.messageId, error: (error as Error).message });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
