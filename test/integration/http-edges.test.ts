import { request } from 'node:http';
import { connect } from 'node:net';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';

/**
 * The edges of HTTP itself, as the local gateway and the shared handler stack meet them: bodies
 * where none is expected, sizes over the limits, a wrong method, malformed percent-encoding. Each
 * is a 4xx in the one error shape (always with `details`), and writes nothing.
 */
let t: TestApi;
let c: Client;
let token: string;
let subscriptionId: string;
beforeAll(async () => {
  t = await startTestApi();
  c = await t.client();
  token = await t.issuer.sign({ tenantId: c.tenantId, role: 'admin' });
  await setupCatalog(c);
  ok(await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 10 }));
  ok(await c.post('/api/orders/allocate', { order_id: 'o-1', lines: [{ sku_id: 'sku-1', quantity: 2 }], ship_to: { latitude: 40, longitude: -74 } }), 201);
  subscriptionId = ok(await c.post('/api/alerts/subscribe', { scope: { sku_id: 'sku-1' }, channel: 'email', target: 'ops@example.com' }), 201).subscription_id;
});
afterAll(() => t.close());

interface Answer {
  status: number;
  headers: Headers;
  body: { error: { code: string; message: string; details: Record<string, unknown> } };
}

/**
 * A request as any HTTP client may send it: any method, any body (a GET's too, which fetch
 * refuses to send), any content type, any header size.
 */
const send = (method: string, path: string, init: { body?: string; headers?: Record<string, string>; auth?: boolean } = {}): Promise<Answer> =>
  new Promise((done, fail) => {
    const { port } = new URL(t.api.url);
    const headers = {
      ...(init.auth === false ? {} : { authorization: `Bearer ${token}` }),
      // Node sends a GET's or DELETE's body unframed unless its length is given.
      ...(init.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(init.body)) }),
      ...init.headers,
    };
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') answerHeaders.set(name, value);
        // Held to the OpenAPI document like every response the test client receives.
        const violations = t.contract.violations({ method, url: path, status: res.statusCode ?? 0, headers: answerHeaders, text });
        if (violations.length) fail(new Error(`${method} ${path} broke the OpenAPI document: ${violations.join('; ')}`));
        else done({ status: res.statusCode ?? 0, headers: answerHeaders, body: text === '' ? undefined : JSON.parse(text) });
      });
    });
    req.on('error', fail);
    req.end(init.body);
  });

const state = async () => ({
  sku: (await c.get('/api/skus/sku-1')).body,
  level: (await c.get('/api/inventory/sku/sku-1')).body,
  order: (await c.get('/api/orders/status/o-1')).body,
  subscriptions: (await c.get('/api/alerts/subscriptions')).body,
});

/** The one error shape, `details` included (an object, possibly empty). */
const expectErrorShape = (answer: Answer, status: number, code: string): void => {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(answer.body)).toEqual(['error']);
  expect(Object.keys(answer.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(typeof answer.body.error.message).toBe('string');
  expect(answer.body.error.details).toEqual(expect.any(Object));
  expect(Array.isArray(answer.body.error.details)).toBe(false);
};

describe('malformed percent-encoding in the path', () => {
  test.each(['/api/skus/%E0%A4%A', '/api/skus/%', '/api/skus/%ZZ', '/api/skus/%C0%AF'])('GET %s is a 400 naming the path parameter, not a 500', async (path) => {
    const answer = await send('GET', path);
    expectErrorShape(answer, 400, 'VALIDATION_FAILED');
    expect(answer.body.error.details.fields).toEqual([expect.objectContaining({ in: 'path', path: 'sku_id' })]);
  });

  test('a PATCH and a DELETE on a malformed path are a 400 and change nothing', async () => {
    const before = await state();
    expectErrorShape(await send('PATCH', '/api/skus/%E0%A4%A', { body: JSON.stringify({ name: 'Renamed' }), headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED');
    expectErrorShape(await send('DELETE', '/api/alerts/subscriptions/%'), 400, 'VALIDATION_FAILED');
    expect(await state()).toEqual(before);
  });

  test('a well-formed escape still decodes (a %2D is a "-")', async () => {
    expect((await send('GET', '/api/skus/sku%2D1')).status).toBe(200);
  });
});

describe('a body on a route that takes none', () => {
  const json = { 'content-type': 'application/json' };
  test.each([
    ['GET with a JSON body', 'GET', '/api/skus/sku-1', JSON.stringify({ name: 'x' }), json],
    ['GET with a text/plain body', 'GET', '/api/inventory/sku/sku-1', 'hello', { 'content-type': 'text/plain' }],
    ['GET with an empty JSON object', 'GET', '/api/warehouses', '{}', json],
    ['DELETE with a body', 'DELETE', '/api/alerts/subscriptions/SUB', JSON.stringify({ all: true }), json],
    ['POST on a body-less action (cancel)', 'POST', '/api/orders/o-1/cancel', JSON.stringify({ reason: 'changed my mind' }), json],
  ])('%s is a 400 on the body and changes nothing', async (_name, method, path, body, headers) => {
    const before = await state();
    const answer = await send(method, path.replace('SUB', subscriptionId), { body, headers });
    expectErrorShape(answer, 400, 'VALIDATION_FAILED');
    expect(answer.body.error.details.fields).toEqual([{ in: 'body', path: '', message: expect.stringMatching(/takes no body/) }]);
    expect(await state()).toEqual(before);
  });

  test('a content type without a body is no body: the GET answers', async () => {
    expect((await send('GET', '/api/skus/sku-1', { headers: json })).status).toBe(200);
  });

  test.each([
    ['GET', '/api/skus/sku-1'],
    ['POST', '/api/orders/o-1/cancel'],
  ])('2 MB on %s %s is a 413, as on a route with a body, and changes nothing', async (method, path) => {
    const before = await state();
    const answer = await send(method, path, { body: JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }), headers: json });
    expectErrorShape(answer, 413, 'PAYLOAD_TOO_LARGE');
    expect(answer.body.error.details).toEqual({ max_bytes: 1024 * 1024 });
    expect(await state()).toEqual(before);
  });
});

describe('a known path with a method it does not take', () => {
  test.each([
    ['DELETE', '/api/skus/sku-1', 'GET, PATCH'],
    ['PUT', '/api/products', 'POST'],
    ['GET', '/api/orders/allocate', 'POST'],
    ['POST', '/api/thresholds', 'PUT'],
  ])('%s %s is a 405 with Allow: %s', async (method, path, allow) => {
    const before = await state();
    const answer = await send(method, path, { body: method === 'GET' ? undefined : '{}', headers: { 'content-type': 'application/json' } });
    expectErrorShape(answer, 405, 'METHOD_NOT_ALLOWED');
    expect(answer.headers.get('allow')).toBe(allow);
    expect(answer.body.error.details).toEqual({ allowed_methods: allow.split(', ') });
    expect(await state()).toEqual(before);
  });

  test('is a 405 before the token is checked, as an unknown path is a 404 before it', async () => {
    expectErrorShape(await send('DELETE', '/api/skus/sku-1', { auth: false }), 405, 'METHOD_NOT_ALLOWED');
    expectErrorShape(await send('GET', '/api/nothing-here', { auth: false }), 404, 'ROUTE_NOT_FOUND');
  });
});

describe('headers over the limit', () => {
  test('are a 431 in the error shape, not an empty body', async () => {
    const answer = await send('GET', '/api/skus/sku-1', { headers: { 'x-padding': 'x'.repeat(11 * 1024) } });
    expectErrorShape(answer, 431, 'HEADERS_TOO_LARGE');
    expect(answer.body.error.details).toEqual({ max_bytes: 10_240 });
  });

  test('leave the gateway serving the next request', async () => {
    await send('GET', '/api/skus/sku-1', { headers: { 'x-padding': 'x'.repeat(11 * 1024) } });
    expect((await send('GET', '/api/skus/sku-1')).status).toBe(200);
  });

  test('headers under the limit pass', async () => {
    expect((await send('GET', '/api/skus/sku-1', { headers: { 'x-padding': 'x'.repeat(8 * 1024) } })).status).toBe(200);
  });
});

test('bytes that are not HTTP are a 400 MALFORMED_REQUEST in the error shape', async () => {
  const { port } = new URL(t.api.url);
  const reply = await new Promise<string>((done, fail) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('end', () => done(text));
    socket.on('error', fail);
  });
  const [head = '', body = ''] = reply.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(head).toMatch(/content-type: application\/json/i);
  expect(JSON.parse(body)).toEqual({ error: { code: 'MALFORMED_REQUEST', message: expect.any(String), details: {} } });
});

describe('every error carries details, whoever answers', () => {
  test.each<[string, () => Promise<Answer>, number, string]>([
    ['no token (gateway)', () => send('GET', '/api/skus/sku-1', { auth: false }), 401, 'UNAUTHORIZED'],
    ['a forged token (gateway)', () => send('GET', '/api/skus/sku-1', { auth: false, headers: { authorization: 'Bearer a.b.c' } }), 401, 'UNAUTHORIZED'],
    ['an unknown route (gateway)', () => send('GET', '/api/nothing-here'), 404, 'ROUTE_NOT_FOUND'],
    ['an unknown id (handler)', () => send('GET', '/api/skus/sku-nope'), 404, 'NOT_FOUND'],
    ['malformed JSON (handler)', () => send('POST', '/api/products', { body: '{', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON'],
    ['not JSON (handler)', () => send('POST', '/api/products', { body: 'x', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('%s', async (_name, ask, status, code) => {
    expectErrorShape(await ask(), status, code);
  });

  test('a role without the permission (handler): 403', async () => {
    const viewer = await t.issuer.sign({ tenantId: c.tenantId, role: 'viewer' });
    const answer = await send('POST', '/api/products', { auth: false, headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x' }) });
    expectErrorShape(answer, 403, 'FORBIDDEN');
  });
});
