import { isWebhookRoute } from '../../functions/platform/routes';
import { httpRoutes } from '../../functions/wiring';
import { startTestApi, type TestApi } from '../support/api';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

test('GET /api/openapi.json documents every declared route with the schemas the handlers validate with', async () => {
  const c = await t.client({ role: 'viewer' });
  const res = await c.get('/api/openapi.json');
  expect(res.status).toBe(200);
  const doc = res.body;
  expect(doc.openapi).toBe('3.1.0');
  for (const [operationId, route] of Object.entries(httpRoutes)) {
    const op = doc.paths[route.path]?.[route.method.toLowerCase()];
    expect({ operationId, found: op?.operationId }).toEqual({ operationId, found: operationId });
    expect(op.responses[String('status' in route ? route.status : 200)]).toBeDefined();
  }
  const update = doc.paths['/api/inventory/update'].post;
  const schemaText = JSON.stringify(update.requestBody.content['application/json'].schema);
  // The discriminated union, the quantity bounds and the adjustment reasons come from the zod schema itself.
  for (const expected of ['"sale"', '"restock"', '"adjustment"', '"count"', '1000000000', '"damaged"']) expect(schemaText).toContain(expected);
  expect(update.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
  const movements = doc.paths['/api/inventory/sku/{sku_id}/movements'].get;
  expect(movements.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['sku_id', 'warehouse_id', 'from', 'to', 'cursor']));
});

/** Every object schema reachable from a response, with where it is. */
const objectSchemas = (schema: unknown, at: string, found: { at: string; schema: Record<string, unknown> }[] = []) => {
  if (Array.isArray(schema)) schema.forEach((each, i) => objectSchemas(each, `${at}/${i}`, found));
  else if (typeof schema === 'object' && schema !== null) {
    const record = schema as Record<string, unknown>;
    if (record.type === 'object' || 'properties' in record) found.push({ at, schema: record });
    for (const [key, value] of Object.entries(record)) objectSchemas(value, `${at}/${key}`, found);
  }
  return found;
};

describe('the served document', () => {
  let doc: { paths: Record<string, Record<string, { operationId: string; responses: Record<string, { headers?: Record<string, { required?: boolean }> }> }>>; components: Record<string, Record<string, unknown>> };
  beforeAll(async () => {
    doc = (await (await t.client({ role: 'viewer' })).get('/api/openapi.json')).body;
  });

  test('every response object says whether it takes fields beyond its properties (strict zod schemas say false)', () => {
    const open = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, op]) =>
        objectSchemas(op.responses, `${method} ${path}`).filter(({ schema }) => 'properties' in schema && !('additionalProperties' in schema)).map(({ at }) => at),
      ),
    );
    expect(open).toEqual([]);
  });

  test('every operation documents what the HTTP layer answers on any route: 400, 401, 403, 413, 431 and 503 with Retry-After', () => {
    for (const [operationId, route] of Object.entries(httpRoutes)) {
      const responses = doc.paths[route.path]?.[route.method.toLowerCase()]?.responses ?? {};
      const statuses = Object.keys(responses);
      // A webhook route has no token or role (no 403), no path id, media type check or Idempotency-Key: its own test below.
      if (isWebhookRoute(route)) continue;
      expect({ operationId, statuses }).toEqual({ operationId, statuses: expect.arrayContaining(['400', '401', '403', '413', '431', '503']) });
      expect({ operationId, retryAfter: responses['503']?.headers?.['Retry-After']?.required }).toEqual({ operationId, retryAfter: true });
      // A path id can be unknown, a body can be other than JSON, a writing POST's Idempotency-Key reused.
      if ('params' in route) expect({ operationId, statuses }).toEqual({ operationId, statuses: expect.arrayContaining(['404']) });
      if ('body' in route) expect({ operationId, statuses }).toEqual({ operationId, statuses: expect.arrayContaining(['415']) });
      if (route.method === 'POST' && route.table === 'write') expect({ operationId, statuses }).toEqual({ operationId, statuses: expect.arrayContaining(['422']) });
    }
  });

  test('a webhook route is documented without bearer auth, with the headers its platform sends, and with the statuses it can answer', () => {
    const webhooks = Object.entries(httpRoutes).filter(([, route]) => isWebhookRoute(route));
    expect(webhooks.map(([operationId]) => operationId)).toEqual(['shopifyWebhook']);
    for (const [operationId, route] of webhooks) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()] as unknown as {
        security: unknown[];
        parameters: { name: string; in: string; required: boolean }[];
        responses: Record<string, { description: string; headers?: Record<string, { required?: boolean }> }>;
        'x-required-permission'?: string;
      };
      expect({ operationId, security: op.security, permission: op['x-required-permission'] }).toEqual({ operationId, security: [], permission: undefined });
      const required = op.parameters.filter((p) => p.in === 'header' && p.required).map((p) => p.name);
      expect(required.sort()).toEqual(['X-Shopify-Hmac-Sha256', 'X-Shopify-Shop-Domain', 'X-Shopify-Topic', 'X-Shopify-Webhook-Id']);
      expect(op.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['X-Shopify-Event-Id', 'X-Shopify-API-Version', 'X-Shopify-Triggered-At']));
      expect(op.parameters.map((p) => p.name)).not.toContain('Idempotency-Key');
      expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '413', '431', '503']);
      expect(op.responses['401']?.description).toMatch(/signature/);
      expect(op.responses['503']?.headers?.['Retry-After']?.required).toBe(true);
    }
  });

  test('the error shape requires details, an object, and limits code to the codes of the status', () => {
    const error400 = doc.components.schemas?.Error400 as { properties: { error: { required: string[]; properties: { code: { enum: string[] }; details: { type: string } } } } };
    expect(error400.properties.error.required).toEqual(['code', 'message', 'details']);
    expect(error400.properties.error.properties.details.type).toBe('object');
    expect(error400.properties.error.properties.code.enum).toEqual(expect.arrayContaining(['VALIDATION_FAILED', 'MALFORMED_JSON']));
    expect(error400.properties.error.properties.code.enum).not.toContain('NOT_FOUND');
  });
});

describe('the contract the test client holds every response to', () => {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers: new Headers({ 'content-type': 'application/json', ...headers }),
    text: JSON.stringify(body),
  });
  const level = {
    sku_id: 'sku-1', warehouse_id: 'wh-1', on_hand: 1, reserved: 0, available: 1, incoming: 0, reorder_point: 0, safety_stock: 0,
    version: 1, updated_at: '2024-01-01T00:00:00.000Z', last_movement_id: null,
  };
  const update = (response: ReturnType<typeof json>) => t.contract.violations({ method: 'POST', url: '/api/inventory/update', ...response });

  test('keeps a documented answer', () => {
    expect(update(json(200, level))).toEqual([]);
    expect(update(json(409, { error: { code: 'INSUFFICIENT_STOCK', message: 'no', details: {} } }))).toEqual([]);
    expect(update(json(503, { error: { code: 'UNAVAILABLE', message: 'later', details: { retry_after_seconds: 2 } } }, { 'retry-after': '2' }))).toEqual([]);
  });

  test('refuses an unknown field, a missing field, an undocumented status, another content type, a code of another status and a missing Retry-After', () => {
    expect(update(json(200, { ...level, surprise: 1 })).join()).toContain("must NOT have additional properties 'surprise'");
    const { last_movement_id: _dropped, ...withoutLastMovement } = level;
    expect(update(json(200, withoutLastMovement)).join()).toContain("must have required property 'last_movement_id'");
    expect(update(json(500, { error: { code: 'INTERNAL', message: 'x', details: {} } })).join()).toContain('updateStock) answered 500, a status the document does not list');
    expect(update({ ...json(200, level), headers: new Headers({ 'content-type': 'text/plain' }) }).join()).toContain('content type "text/plain"');
    expect(update(json(400, { error: { code: 'NOT_FOUND', message: 'x', details: {} } })).join()).toContain('must be equal to one of the allowed values');
    expect(update(json(400, { error: { code: 'VALIDATION_FAILED', message: 'x' } })).join()).toContain("must have required property 'details'");
    expect(update(json(503, { error: { code: 'UNAVAILABLE', message: 'later', details: {} } })).join()).toContain('header Retry-After is missing');
  });

  test('holds a path no route has to RouteNotFound, and a known path with another method to MethodNotAllowed with its Allow', () => {
    const notFound = { error: { code: 'ROUTE_NOT_FOUND', message: 'no', details: {} } };
    expect(t.contract.violations({ method: 'GET', url: '/api/nothing-here', ...json(404, notFound) })).toEqual([]);
    expect(t.contract.violations({ method: 'GET', url: '/api/nothing-here', ...json(200, {}) }).join()).toContain('answers 404 RouteNotFound');
    const notAllowed = { error: { code: 'METHOD_NOT_ALLOWED', message: 'no', details: {} } };
    expect(t.contract.violations({ method: 'DELETE', url: '/api/skus/sku-1', ...json(405, notAllowed, { allow: 'GET, PATCH' }) })).toEqual([]);
    expect(t.contract.violations({ method: 'DELETE', url: '/api/skus/sku-1', ...json(405, notAllowed, { allow: 'GET' }) }).join()).toContain('the document has GET, PATCH');
    expect(t.contract.violations({ method: 'DELETE', url: '/api/skus/sku-1', ...json(404, notFound) }).join()).toContain('405 MethodNotAllowed');
  });
});

describe('real answers the document must describe', () => {
  test('an unknown route is 404 and a known path with another method is 405, both in the error shape', async () => {
    const c = await t.client();
    expect((await c.get('/api/nothing-here')).status).toBe(404);
    const wrongMethod = await c.delete('/api/skus/sku-1');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBeTruthy();
  });

  test('every route without a token answers 401 as documented', async () => {
    for (const route of Object.values(httpRoutes)) {
      const path = route.path.replace(/\{[a-z_]+\}/g, 'x-1');
      const res = await t.request(path, { method: route.method });
      expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: 401 });
    }
  });

  test('the edges of HTTP are documented answers: a body where none is taken, 2 MB on a body-less route, oversized headers, a malformed escape', async () => {
    const c = await t.client();
    expect((await c.post('/api/orders/o-1/cancel', { reason: 'none taken' })).status).toBe(400);
    expect((await c.post('/api/orders/o-1/cancel', { padding: 'x'.repeat(2 * 1024 * 1024) })).status).toBe(413);
    const padding = { 'x-padding': 'x'.repeat(11 * 1024) };
    expect((await c.get('/api/skus/sku-1', padding)).status).toBe(431);
    expect((await c.get('/api/nothing-here', padding)).status).toBe(431);
    expect((await c.get('/api/skus/%E0%A4%A')).status).toBe(400);
  });

  test('a malformed path id and a malformed Idempotency-Key are documented 400s', async () => {
    const c = await t.client();
    expect((await c.get('/api/skus/bad%20id')).status).toBe(400);
    expect((await c.post('/api/orders/bad%20id/cancel', undefined)).status).toBe(400);
    expect((await c.post('/api/products', { product_id: 'p-1', name: 'P' }, { 'idempotency-key': 'no spaces allowed' })).status).toBe(400);
  });
});
