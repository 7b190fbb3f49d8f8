import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { lambdaContext } from '../../bin/local/lambda-context';
import { handler } from '../../functions/api/handlers/route-not-found';
import type { HttpResult } from '../../functions/platform/http';
import { startTestApi, type TestApi } from '../support/api';

/**
 * The `$default` route's function (functions/wiring.ts `fallbackRoute`): what API Gateway hands a
 * request no declared route matches. It answers as the local gateway does, in the one error shape,
 * and its answers are held to the OpenAPI document like the gateway's.
 */
let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

/** The event API Gateway's HTTP API sends the `$default` route: no authorizer ran, so no claims. */
const defaultRouteEvent = (method: string, rawPath: string): APIGatewayProxyEventV2 => {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { host: 'api.example.com' },
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'request-1',
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
};

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; details: Record<string, unknown> } };
}

const invoke = async (method: string, path: string): Promise<Answer> => {
  const result: HttpResult = await handler(defaultRouteEvent(method, path), lambdaContext('routeNotFound', 'request-1', 5_000));
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]));
  const text = typeof result.body === 'string' ? result.body : '';
  const violations = t.contract.violations({ method, url: path, status: result.statusCode ?? 0, headers: new Headers(headers), text });
  if (violations.length) throw new Error(`${method} ${path} broke the OpenAPI document: ${violations.join('; ')}`);
  return { status: result.statusCode ?? 0, headers, body: JSON.parse(text) };
};

/** The one error shape, `details` included (an object, possibly empty). */
const expectErrorShape = (answer: Answer, status: number, code: string): void => {
  expect({ status: answer.status, code: answer.body.error.code }).toEqual({ status, code });
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(answer.body)).toEqual(['error']);
  expect(Object.keys(answer.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(typeof answer.body.error.message).toBe('string');
  expect(answer.body.error.details).toEqual(expect.any(Object));
  expect(Array.isArray(answer.body.error.details)).toBe(false);
};

describe('the $default route function', () => {
  test.each([
    ['GET', '/api/nothing-here'],
    ['POST', '/api/products/p-1/unknown'],
    ['GET', '/'],
    ['DELETE', '/api'],
  ])('%s %s (no route has the path) is a 404 ROUTE_NOT_FOUND with empty details', async (method, path) => {
    const answer = await invoke(method, path);
    expectErrorShape(answer, 404, 'ROUTE_NOT_FOUND');
    expect(answer.body.error.details).toEqual({});
    expect(answer.headers.allow).toBeUndefined();
  });

  test.each([
    ['DELETE', '/api/skus/sku-1', 'GET, PATCH'],
    ['PUT', '/api/products', 'POST'],
    ['GET', '/api/orders/allocate', 'POST'],
    ['POST', '/api/thresholds', 'PUT'],
    ['HEAD', '/api/alerts', 'GET'],
  ])('%s %s (a known path) is a 405 METHOD_NOT_ALLOWED with Allow: %s', async (method, path, allow) => {
    const answer = await invoke(method, path);
    expectErrorShape(answer, 405, 'METHOD_NOT_ALLOWED');
    expect(answer.headers.allow).toBe(allow);
    expect(answer.body.error.details).toEqual({ allowed_methods: allow.split(', ') });
  });

  test.each([
    ['GET', '/api/nothing-here'],
    ['DELETE', '/api/skus/sku-1'],
    ['PUT', '/api/orders/o-1/cancel'],
  ])('answers %s %s exactly as the local gateway does (status, Allow, body)', async (method, path) => {
    const [lambda, local] = await Promise.all([invoke(method, path), t.request(path, { method })]);
    expect({ status: lambda.status, allow: lambda.headers.allow ?? null, body: lambda.body }).toEqual({
      status: local.status,
      allow: local.headers.get('allow'),
      body: local.body,
    });
  });
});
