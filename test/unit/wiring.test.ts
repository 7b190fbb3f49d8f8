import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PERMISSIONS } from '../../functions/identity/roles';
import { httpRoutes, routeKey } from '../../functions/wiring';

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
    expect(PERMISSIONS).toContain(route.permission);
  }
});

test('a route whose permission writes declares table write access (or writes the lake: an import), and a reading route cannot write', () => {
  for (const route of Object.values(httpRoutes)) {
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
