import type { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray traces through Powertools Tracer: each AWS SDK client is captured (a subsegment per call:
 * DynamoDB, EventBridge, SQS, S3, Athena, SES, SNS, Secrets Manager, Cognito) and each request
 * gets a subsegment named by its route, annotated with route, tenant and correlation id, so a
 * trace is found from a log line. Lambda's active tracing (lib/functions.ts) makes the function's
 * segment.
 *
 * Tracing is on only inside Lambda (AWS_EXECUTION_ENV, as Powertools itself decides) unless POWERTOOLS_TRACE_ENABLED says
 * 'false'; locally and in the tests it is off. The Tracer (with the X-Ray SDK, ~125 KB) is
 * required the first time a client or a request is traced, not when the module loads: a function
 * pays for it on its first invocation, and not at all where tracing is off.
 */
const tracingOn = (): boolean => (process.env.AWS_EXECUTION_ENV ?? '') !== '' && process.env.POWERTOOLS_TRACE_ENABLED !== 'false';

let tracer: Tracer | undefined;
const theTracer = (): Tracer => {
  if (!tracer) {
    // A deliberate lazy require (see above); esbuild bundles it all the same.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Tracer: TracerClass } = require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
    tracer = new TracerClass({ serviceName: 'stockroom', captureHTTPsRequests: true });
  }
  return tracer;
};

/** The client, captured for X-Ray when tracing is on (every AWS SDK v3 client of the functions goes through here). */
export const traced = <C extends object>(client: C): C => (tracingOn() ? theTracer().captureAWSv3Client(client) : client);

/** Runs `work` in a subsegment named after the route, annotated so a trace is found by route, tenant or correlation id. */
export const inTraceSegment = async <T>(name: string, annotations: Readonly<Record<string, string | undefined>>, work: () => Promise<T>): Promise<T> => {
  if (!tracingOn()) return work();
  const t = theTracer();
  const parent = t.getSegment();
  if (!parent) return work();
  const segment = parent.addNewSubsegment(`## ${name}`);
  t.setSegment(segment);
  for (const [key, value] of Object.entries(annotations)) if (value !== undefined) t.putAnnotation(key, value);
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error) segment.addError(error);
    throw error;
  } finally {
    segment.close();
    t.setSegment(parent);
  }
};
