import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { errorMessage } from '../platform/errors';
import { log, withLogContext, type LogContext } from '../platform/log';
import { busEnvelope } from './model';
import { countMetric, METRIC_NAMES } from '../platform/metrics';

const correlated = z.object({ log_correlation_id: z.string().optional(), tenant_id: z.string().optional() });
/** The correlation id (and tenant) a detail carries, for the consumer's log context. */
const correlationOf = (detail: unknown): LogContext => {
  const parsed = correlated.safeParse(detail);
  if (!parsed.success) return {};
  return {
    ...(parsed.data.log_correlation_id === undefined ? {} : { correlation_id: parsed.data.log_correlation_id }),
    ...(parsed.data.tenant_id === undefined ? {} : { tenant_id: parsed.data.tenant_id }),
  };
};

/** One delivered event, its detail parsed with the consumer's schema. */
export interface ConsumedEvent<D> {
  'detail-type': string;
  detail: D;
  /** EventBridge's id of the event (absent when something other than EventBridge sent the message). */
  id?: string;
}

/** A readable message of the batch: its SQS id and the event it carries. */
export interface ConsumedMessage<D> {
  messageId: string;
  event: ConsumedEvent<D>;
}

export interface ConsumeOptions<D> {
  /** The order to handle the readable messages in (default: as delivered). */
  order?: (messages: ConsumedMessage<D>[]) => ConsumedMessage<D>[];
}

const issuesOf = (error: z.ZodError, under: string): string =>
  error.issues.map((i) => `${[under, ...i.path.map(String)].filter(Boolean).join('.') || '(body)'}: ${i.message}`).join('; ');

/** The event a message body carries, or why it is not one. */
const readMessage = <S extends z.ZodType>(body: string, detailSchema: S): { event: ConsumedEvent<z.output<S>> } | { reason: string } => {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { reason: `the message is not JSON: ${errorMessage(error)}` };
  }
  const envelope = busEnvelope.safeParse(json);
  if (!envelope.success) return { reason: `the message is not an EventBridge event: ${issuesOf(envelope.error, '')}` };
  const detail = detailSchema.safeParse(envelope.data.detail);
  if (!detail.success) return { reason: `the ${envelope.data['detail-type']} detail is malformed: ${issuesOf(detail.error, 'detail')}` };
  const { id } = envelope.data;
  return { event: { 'detail-type': envelope.data['detail-type'], detail: detail.data, ...(id === undefined ? {} : { id }) } };
};

/** Why a message is no event this consumer reads: it fails (and is redelivered, then dead-lettered) without being handled. */
class UnreadableMessage extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnreadableMessage';
  }
}

/**
 * The one EventBridge -> SQS -> Lambda message loop: each message body is the
 * EventBridge event as the rule's SQS target delivers it, its detail parsed
 * with `detailSchema`. Readable messages are handled one at a time, in
 * delivery order (or `options.order`'s), each under its event's correlation
 * id. Powertools' BatchProcessor runs the loop and builds the partial batch
 * response: a message that does not parse, or whose handling throws, is logged
 * with the reason and reported in `batchItemFailures` (in delivery order), so
 * SQS redelivers only it after the visibility timeout and, after the queue's
 * maxReceives, dead-letters it. A batch that fails whole is answered the same
 * way (not thrown): the failures are the messages'.
 */
export const consumeSqs = async <S extends z.ZodType>(
  event: SQSEvent,
  detailSchema: S,
  handle: (event: ConsumedEvent<z.output<S>>) => Promise<unknown>,
  options: ConsumeOptions<z.output<S>> = {},
): Promise<SQSBatchResponse> => {
  const reads = new Map(event.Records.map((record) => [record.messageId, readMessage(record.body, detailSchema)] as const));
  const readable: ConsumedMessage<z.output<S>>[] = [];
  for (const [messageId, read] of reads) if ('event' in read) readable.push({ messageId, event: read.event });
  const byId = new Map(event.Records.map((record) => [record.messageId, record]));
  const unreadable = event.Records.filter((record) => !('event' in (reads.get(record.messageId) ?? {})));
  // The unreadable first (they fail at once), then the readable in the order asked for.
  const records = [...unreadable, ...(options.order?.(readable) ?? readable).flatMap(({ messageId }) => byId.get(messageId) ?? [])];

  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(
    { Records: records },
    async (record: SQSRecord) => {
      const read = reads.get(record.messageId);
      if (!read || !('event' in read)) {
        const reason = read && 'reason' in read ? read.reason : 'the message was not read';
        log.error('event consumer got an unreadable message', { message_id: record.messageId, error: reason });
        countMetric(METRIC_NAMES.consumerFailures);
        throw new UnreadableMessage(reason);
      }
      const consumed = read.event;
      // The change's correlation id (events/model.ts eventMeta) follows it into this consumer's lines and writes.
      await withLogContext({ ...correlationOf(consumed.detail), message_id: record.messageId }, async () => {
        try {
          await handle(consumed);
          log.info('event consumed', { detail_type: consumed['detail-type'], event_id: consumed.id });
        } catch (error) {
          log.error('event consumer failed a message', { detail_type: consumed['detail-type'], error: errorMessage(error) });
          countMetric(METRIC_NAMES.consumerFailures);
          throw error;
        }
      });
    },
    processor,
    { processInParallel: false, throwOnFullBatchFailure: false },
  );
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  return { batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
};
