import type { Context } from 'aws-lambda';

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
