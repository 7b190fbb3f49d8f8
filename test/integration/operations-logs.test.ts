import { startLocalRuntime, type RunningLocal } from '../support/local-runtime';

/**
 * Issue 14's log promises, read off the whole local runtime as `npm start` runs it (LOG_LEVEL info):
 * one request's lines all carry its correlation id, from the handler through the stream processor
 * to the consumers; and no token, webhook secret or supplier contact appears in any line.
 */
jest.setTimeout(180_000);

let local: RunningLocal;
beforeAll(async () => {
  local = await startLocalRuntime({ env: { LOG_LEVEL: 'info' } });
});
afterAll(() => local?.stop());

const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> => {
  const response = await fetch(`${local.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${local.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, headers: response.headers };
};

/** Every JSON line the runtime printed. */
const lines = (): Record<string, unknown>[] =>
  local
    .output()
    .split('\n')
    .flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

const waitFor = async <T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 200));
  }
};

test("one stock update's lines carry its correlation id from the handler through the stream processor to every consumer of its change", async () => {
  // A SKU and warehouse of its own: the demo data may still be seeding.
  expect((await call('POST', '/api/products', { product_id: 'log-prod', name: 'Log widget' })).status).toBe(201);
  expect((await call('POST', '/api/skus', { sku_id: 'log-sku', product_id: 'log-prod', name: 'Log widget, blue' })).status).toBe(201);
  expect((await call('POST', '/api/warehouses', { warehouse_id: 'log-wh', name: 'Log warehouse', latitude: 40, longitude: -74 })).status).toBe(201);
  const level = { sku_id: 'log-sku', warehouse_id: 'log-wh' };
  const correlation = 'corr-e2e-stock-1';
  const update = await call(
    'POST',
    '/api/inventory/update',
    { sku_id: level.sku_id, warehouse_id: level.warehouse_id, transaction_type: 'restock', quantity: 3, reference: 'e2e' },
    { 'x-correlation-id': correlation },
  );
  expect(update.status).toBe(200);
  expect(update.headers.get('x-correlation-id')).toBe(correlation);

  const mine = (): Record<string, unknown>[] => lines().filter((line) => line.correlation_id === correlation);
  // The alert evaluator and the channel router both consume StockLevelChanged; the processor published it first.
  await waitFor('two consumers to consume the change', () => (mine().filter((l) => l.message === 'event consumed' && l.detail_type === 'StockLevelChanged').length >= 2 ? true : undefined));
  const seen = mine();
  expect(seen.find((l) => l.message === 'request')).toMatchObject({ route: 'updateStock', status: 200, service: 'stockroom', level: 'INFO' });
  expect(seen.filter((l) => l.message === 'event published').map((l) => l.detail_type)).toEqual(expect.arrayContaining(['StockLevelChanged', 'MovementRecorded']));
  // Every line of it names the tenant, and no other request's line has its id.
  const tenant = seen.find((l) => l.message === 'request')?.tenant_id;
  expect(typeof tenant).toBe('string');
  for (const line of seen) expect(line.tenant_id).toBe(tenant);
  expect(lines().filter((l) => l.message === 'request' && l.correlation_id === correlation)).toHaveLength(1);
});

test('a correlation id that is not a plain id is replaced by the request id', async () => {
  const answer = await call('GET', '/api/warehouses', undefined, { 'x-correlation-id': 'has spaces and ; in it' });
  expect(answer.status).toBe(200);
  const id = answer.headers.get('x-correlation-id');
  expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  expect(id).not.toContain(' ');
});

test('no token, webhook secret or supplier contact appears in any log line of the run', async () => {
  const contact = { name: 'Ada Lovelace-Contact', email: 'ada.contact@supplier.example', phone: '+44 20 7946 0958' };
  const supplier = await call('POST', '/api/suppliers', { name: 'Log Scan Supplies', contact, lead_time_days: 5, currency: 'EUR' });
  expect(supplier.status).toBe(201);
  const hook = await call('POST', '/api/alerts/subscribe', { scope: { all: true }, channel: 'webhook', target: 'http://127.0.0.1:9/hook', min_severity: 'normal' });
  expect(hook.status).toBe(201);
  const secret: string = hook.json.secret;
  expect(secret.length).toBeGreaterThan(16);
  // A bad token is logged as a request too: it must not be echoed either.
  const forged = `${local.token.slice(0, -4)}AAAA`;
  const refused = await fetch(`${local.url}/api/warehouses`, { headers: { authorization: `Bearer ${forged}` } });
  expect(refused.status).toBe(401);
  await waitFor('the supplier request line', () => lines().find((l) => l.route === 'createSupplier'));

  const printed = local.output();
  // The dashboard link printed at start-up is the one place the token is meant to be: the log lines are the rest.
  const logLines = printed.split('\n').filter((line) => line.startsWith('{'));
  expect(logLines.length).toBeGreaterThan(10);
  for (const needle of [local.token, forged, secret, contact.email, contact.phone, contact.name]) {
    expect(logLines.filter((line) => line.includes(needle))).toEqual([]);
  }
});
