import {
  isRole,
  permissionDescriptions,
  PERMISSIONS,
  permissionsOf,
  roleDescriptions,
  roleMatrix,
  roleMay,
  ROLES,
  type Permission,
  type Role,
} from '../../functions/identity/roles';
import { roleMatrixResponse } from '../../functions/identity/role-schemas';
import { isWebhookRoute } from '../../functions/platform/routes';
import { httpRoutes, type HttpRoute } from '../../functions/wiring';

const holders = (permission: Permission): Role[] => ROLES.filter((role) => roleMay(role, permission));

test('the permissions and roles are the keys of their descriptions, each described in words', () => {
  expect([...PERMISSIONS]).toEqual(Object.keys(permissionDescriptions));
  expect([...ROLES]).toEqual(Object.keys(roleDescriptions));
  for (const text of [...Object.values(permissionDescriptions), ...Object.values(roleDescriptions)]) expect(text.length).toBeGreaterThan(15);
  expect(new Set(PERMISSIONS).size).toBe(PERMISSIONS.length);
});

test('every role holds only known permissions, each once, and admin holds them all', () => {
  for (const role of ROLES) {
    expect({ role, unknown: permissionsOf[role].filter((p) => !PERMISSIONS.includes(p)) }).toEqual({ role, unknown: [] });
    expect({ role, twice: permissionsOf[role].length - new Set(permissionsOf[role]).size }).toEqual({ role, twice: 0 });
  }
  expect([...permissionsOf.admin].sort()).toEqual([...PERMISSIONS].sort());
});

test('the product rules of issue 12 hold in the matrix', () => {
  expect(holders('costs:read')).toEqual(['admin', 'manager', 'purchaser', 'analyst']);
  expect(holders('suppliers:contact')).toEqual(['admin', 'purchaser']);
  expect(holders('users:write')).toEqual(['admin']);
  expect(holders('users:read')).toEqual(['admin', 'manager']);
  expect(holders('audit:read')).toEqual(['admin']);
  // The analyst reads reports and writes nothing; the integration account sees no people and no money.
  expect(permissionsOf.analyst.filter((p) => p.endsWith(':write'))).toEqual([]);
  expect(permissionsOf.analyst).toContain('reports:read');
  expect(permissionsOf.integration.filter((p) => ['users:read', 'costs:read', 'suppliers:contact', 'audit:read'].includes(p))).toEqual([]);
  expect(permissionsOf.viewer.filter((p) => p.endsWith(':write'))).toEqual([]);
});

test("every token route's permission is held by some role, and every role may read the matrix (api:read)", () => {
  for (const route of Object.values<HttpRoute>(httpRoutes)) {
    if (isWebhookRoute(route)) continue;
    expect({ path: route.path, holders: holders(route.permission).length > 0 }).toEqual({ path: route.path, holders: true });
  }
  expect(holders('api:read')).toEqual([...ROLES]);
  expect(httpRoutes.listRoles).toMatchObject({ method: 'GET', path: '/api/roles', permission: 'api:read', table: 'none' });
});

test('roleMatrix answers every role with its permissions in the matrix order, and every permission, valid by its schema', () => {
  const matrix = roleMatrixResponse.parse(roleMatrix());
  expect(matrix.roles.map((r) => r.role)).toEqual([...ROLES]);
  expect(matrix.permissions).toEqual(PERMISSIONS.map((permission) => ({ permission, description: permissionDescriptions[permission] })));
  for (const entry of matrix.roles) {
    expect(entry.description).toBe(roleDescriptions[entry.role]);
    expect(entry.permissions).toEqual(PERMISSIONS.filter((p) => permissionsOf[entry.role].includes(p)));
  }
});

test('isRole knows exactly the roles', () => {
  for (const role of ROLES) expect(isRole(role)).toBe(true);
  for (const other of ['root', 'Admin', '', undefined, 1, 'toString']) expect(isRole(other)).toBe(false);
});
