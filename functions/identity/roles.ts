/**
 * Roles and permissions are enforced by the HTTP layer, so their matrix lives
 * in the platform (functions/platform/permissions.ts); this is the identity
 * context's name for it.
 */
import { permissionDescriptions, PERMISSIONS, permissionsOf, roleDescriptions, ROLES } from '../platform/permissions';
import type { RoleMatrix } from './role-schemas';

export * from '../platform/permissions';

/** GET /api/roles: every role with what it is for and what it may do, and every permission with what it allows. */
export const roleMatrix = (): RoleMatrix => ({
  roles: ROLES.map((role) => ({
    role,
    description: roleDescriptions[role],
    // In the matrix's own order, whatever order a role's list was written in.
    permissions: PERMISSIONS.filter((permission) => permissionsOf[role].includes(permission)),
  })),
  permissions: PERMISSIONS.map((permission) => ({ permission, description: permissionDescriptions[permission] })),
});
