import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inTraceSegment, traced } from '../../functions/platform/tracing';

/** Issue 14: X-Ray through Powertools Tracer, on inside Lambda only. */
const middlewareOf = (client: DynamoDBClient): string[] => client.middlewareStack.identify();

describe('tracing', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('outside Lambda a client is left as it is and a request runs without a segment', async () => {
    delete process.env.AWS_EXECUTION_ENV;
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    const before = middlewareOf(client);
    expect(traced(client)).toBe(client);
    expect(middlewareOf(client)).toEqual(before);
    expect(await inTraceSegment('updateStock', { route: 'updateStock' }, async () => 42)).toBe(42);
  });

  test('inside Lambda every SDK client is captured: its calls become X-Ray subsegments', () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    const client = traced(new DynamoDBClient({ region: 'eu-west-1' }));
    expect(middlewareOf(client).join(' ')).toMatch(/XRay|xray|X-Ray/i);
  });

  test("POWERTOOLS_TRACE_ENABLED=false turns it off inside Lambda too", () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    process.env.POWERTOOLS_TRACE_ENABLED = 'false';
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    const before = middlewareOf(client);
    traced(client);
    expect(middlewareOf(client)).toEqual(before);
  });
});
