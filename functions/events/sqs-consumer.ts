import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
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

/**
 * The one EventBridge -> SQS -> Lambda message loop: each message body is the
 * EventBridge event as the rule's SQS target delivers it, its detail parsed
 * with `detailSchema`. Readable messages are handled one at a time, in
 * delivery order (or `options.order`'s). A message that does not parse, or
 * whose handling throws, is logged with the reason and reported in
 * `batchItemFailures` (in delivery order), so SQS redelivers only it after
 * the visibility timeout and, after the queue's maxReceives, dead-letters it.
 */
export const consumeSqs = async <S extends z.ZodType>(
  event: SQSEvent,
  detailSchema: S,
  handle: (event: ConsumedEvent<z.output<S>>) => Promise<unknown>,
  options: ConsumeOptions<z.output<S>> = {},
): Promise<SQSBatchResponse> => {
  const failed = new Set<string>();
  const readable: ConsumedMessage<z.output<S>>[] = [];
  for (const record of event.Records) {
    const read = readMessage(record.body, detailSchema);
    if ('event' in read) {
      readable.push({ messageId: record.messageId, event: read.event });
    } else {
      log.error('event consumer got an unreadable message', { message_id: record.messageId, error: read.reason });
      failed.add(record.messageId);
    }
  }
  for (const { messageId, event: consumed } of options.order?.(readable) ?? readable) {
    // The change's correlation id (events/model.ts eventMeta) follows it into this consumer's lines and writes.
    const fields = { ...correlationOf(consumed.detail), message_id: messageId };
    await withLogContext(fields, async () => {
      try {
        await handle(consumed);
        log.info('event consumed', { detail_type: consumed['detail-type'], event_id: consumed.id });
      } catch (error) {
        log.error('event consumer failed a message', { detail_type: consumed['detail-type'], error: errorMessage(error) });
        countMetric(METRIC_NAMES.consumerFailures);
        failed.add(messageId);
      }
    });
  }
  return { batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
};
