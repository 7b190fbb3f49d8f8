import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { checkHealth, VERSION_ENV } from '../../functions/api/health';
import { startTestApi, type TestApi } from '../support/api';
import { testDb } from '../support/domain';

/** Issue 14: GET /api/health, for monitors without a token. */
let t: TestApi;
beforeAll(async () => {
  process.env[VERSION_ENV] = '9.8.7-test';
  t = await startTestApi();
});
afterAll(async () => {
  delete process.env[VERSION_ENV];
  await t.close();
});

test('without a token: 200 with the version and uptime when the table answers, and nothing else', async () => {
  const response = await t.request('/api/health');
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = response.body as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['status', 'uptime_seconds', 'version']);
  expect(body).toMatchObject({ status: 'ok', version: '9.8.7-test' });
  expect(Number.isInteger(body.uptime_seconds)).toBe(true);
  expect(body.uptime_seconds as number).toBeGreaterThanOrEqual(0);
});

test('a token is not needed and not looked at: a forged one changes nothing', async () => {
  const response = await t.request('/api/health', { headers: { authorization: 'Bearer not-a-token' } });
  expect(response.status).toBe(200);
});

test('another method on the path is 405 naming GET, in the one error shape', async () => {
  const response = await t.request('/api/health', { method: 'POST' });
  expect(response.status).toBe(405);
  expect(response.headers.get('allow')).toBe('GET');
  expect((response.body as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
});

test('the check is unhealthy when the table is missing or the database does not answer (the handler then answers 503)', async () => {
  const db = testDb();
  expect(await checkHealth(db.client, db.table)).toMatchObject({ healthy: true });
  expect(await checkHealth(db.client, 'no-such-table')).toEqual({ healthy: false });
  // Nothing listens on port 9 (discard): the connection is refused.
  const nobody = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  expect(await checkHealth(nobody, db.table)).toEqual({ healthy: false });
});

test('the handler answers 503 in the one error shape, with a retry hint and nothing else, when the table is not there', async () => {
  const saved = process.env.TABLE_NAME;
  process.env.TABLE_NAME = 'stockroom-no-such-table';
  try {
    // A fresh module registry: the handler's table client is built from this environment, as in a new container.
    let handler: ((event: unknown) => Promise<{ statusCode?: number; headers?: Record<string, unknown>; body?: string }>) | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = (require('../../functions/api/handlers/health') as { handler: typeof handler }).handler;
    });
    const result = await handler!({});
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBeDefined();
    const body = JSON.parse(result.body ?? '{}') as { error: { code: string; message: string; details: unknown } };
    expect(body.error.code).toBe('UNAVAILABLE');
    expect(result.body).not.toContain('stockroom-no-such-table');
  } finally {
    process.env.TABLE_NAME = saved;
  }
});
