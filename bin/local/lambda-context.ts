import { createHash } from 'node:crypto';
import type { Context, SQSRecord } from 'aws-lambda';

/**
 * The Lambda Context the local stand-ins hand to handlers: the same fields, and a
 * remaining time that really counts down from the function's timeout (middy's
 * early-timeout response and the retry deadline read it).
 */
export const lambdaContext = (functionName: string, requestId: string, timeoutMs = 29_000): Context => {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName,
    functionVersion: '$LATEST',
    awsRequestId: requestId,
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

/** A message as Lambda's SQS event source hands it over (one record of an SQSEvent). */
export const sqsRecordOf = (
  m: { messageId: string; body: string; receiveCount: number; sentAt: number; firstReceiveAt?: number },
  source: { queueArn: string; senderId: string; attributes?: Record<string, string> },
): SQSRecord => ({
  messageId: m.messageId,
  receiptHandle: `${m.messageId}#${m.receiveCount}`,
  body: m.body,
  attributes: {
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    SenderId: source.senderId,
    ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? Date.now()),
    ...source.attributes,
  },
  messageAttributes: {},
  md5OfBody: createHash('md5').update(m.body).digest('hex'),
  eventSource: 'aws:sqs',
  eventSourceARN: source.queueArn,
  awsRegion: 'local',
});
