import type { SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { consumeSqs } from '../../functions/events/sqs-consumer';
import { logContext } from '../../functions/platform/log';
import { sqsRecord } from '../support/events';

/** The one consumer loop (functions/events/sqs-consumer.ts), on Powertools' BatchProcessor. */
const detail = z.object({ n: z.number(), tenant_id: z.string(), log_correlation_id: z.string().optional() });

const sqs = (...bodies: unknown[]): SQSEvent => ({ Records: bodies.map((body, i) => sqsRecord(`m-${i}`, body)) });
const event = (n: number, correlation?: string) => ({ source: 'stockroom', 'detail-type': 'Test', detail: { n, tenant_id: 't-1', ...(correlation ? { log_correlation_id: correlation } : {}) } });

test('messages are handled one at a time in the order asked for, and only the failed ones are reported, in delivery order', async () => {
  const handled: number[] = [];
  let running = 0;
  const response = await consumeSqs(
    sqs(event(1), event(2), 'not json', event(3), { source: 'stockroom', 'detail-type': 'Test', detail: { n: 'four' } }),
    detail,
    async ({ detail: { n } }) => {
      running += 1;
      expect(running).toBe(1);
      await new Promise((done) => setTimeout(done, 5));
      running -= 1;
      handled.push(n);
      if (n === 3 || n === 1) throw new Error(`no ${n}`);
    },
    { order: (messages) => [...messages].reverse() },
  );
  expect(handled).toEqual([3, 2, 1]);
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-2' }, { itemIdentifier: 'm-3' }, { itemIdentifier: 'm-4' }]);
});

test('a batch whose every message fails is answered with every message, not thrown (SQS retries each)', async () => {
  const response = await consumeSqs(sqs(event(1), event(2)), detail, async () => {
    throw new Error('down');
  });
  expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-0', 'm-1']);
});

test("each message is handled under its event's correlation id, tenant and message id", async () => {
  const seen: unknown[] = [];
  await consumeSqs(sqs(event(1, 'corr-a'), event(2)), detail, async () => void seen.push(logContext()));
  expect(seen).toEqual([
    { correlation_id: 'corr-a', tenant_id: 't-1', message_id: 'm-0' },
    { tenant_id: 't-1', message_id: 'm-1' },
  ]);
});
