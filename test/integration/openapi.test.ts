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
