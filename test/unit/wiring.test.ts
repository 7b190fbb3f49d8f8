import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PERMISSIONS, SIGNED_BY_PLATFORM } from '../../functions/identity/roles';
import { isWebhookRoute } from '../../functions/platform/routes';
import { httpRoutes, routeKey, type HttpRoute } from '../../functions/wiring';

const ROOT = resolve(__dirname, '../..');

test('every declared route points at a handler module that exports a handler', async () => {
  for (const route of Object.values(httpRoutes)) {
    expect({ entry: route.entry, exists: existsSync(resolve(ROOT, route.entry)) }).toEqual({ entry: route.entry, exists: true });
    const module = (await import(resolve(ROOT, route.entry))) as { handler?: unknown };
    expect({ entry: route.entry, type: typeof module.handler }).toEqual({ entry: route.entry, type: 'function' });
  }
});

test('route keys are unique, live under /api and name a known permission', () => {
  const keys = Object.values(httpRoutes).map(routeKey);
  expect(new Set(keys).size).toBe(keys.length);
  for (const route of Object.values(httpRoutes)) {
    expect(route.path.startsWith('/api/')).toBe(true);
    // A webhook route names no permission a role could hold: the platform's signature stands for it.
    if (isWebhookRoute(route)) expect({ path: route.path, permission: route.permission }).toEqual({ path: route.path, permission: SIGNED_BY_PLATFORM });
    else expect(PERMISSIONS).toContain(route.permission);
  }
});

test('a route whose permission writes declares table write access (or writes the lake: an import), and a reading route cannot write', () => {
  for (const route of Object.values(httpRoutes)) {
    // A webhook route has no role's permission to match its table access to (what it writes is the platform's event): see below.
    if (isWebhookRoute(route)) continue;
    const writes = route.permission.endsWith(':write');
    const importsToLake = 'lake' in route && route.lake === 'import';
    expect({ path: route.path, method: route.method, table: route.table }).toEqual({
      path: route.path,
      method: route.method,
      table: writes && !importsToLake ? 'write' : expect.not.stringMatching(/^write$/),
    });
    if (importsToLake) expect(writes).toBe(true);
    if (route.method === 'GET') expect(writes).toBe(false);
  }
});

test('a webhook route is a POST that takes no path id, query or Idempotency-Key, and never writes channel secrets', () => {
  const webhooks = Object.values<HttpRoute>(httpRoutes).filter(isWebhookRoute);
  expect(webhooks.map(routeKey)).toEqual(['POST /api/integration/shopify/webhooks']);
  for (const route of webhooks) {
    expect({ key: routeKey(route), method: route.method, params: route.path.includes('{'), secrets: route.channelSecrets }).toEqual({ key: routeKey(route), method: 'POST', params: false, secrets: 'read' });
    expect(Object.keys(route.headers.shape)).toEqual(expect.arrayContaining(['X-Shopify-Hmac-Sha256', 'X-Shopify-Shop-Domain', 'X-Shopify-Topic', 'X-Shopify-Webhook-Id']));
  }
});
