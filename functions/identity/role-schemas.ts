import * as z from 'zod';
import { PERMISSIONS, ROLES } from '../platform/permissions';

/** Response of GET /api/roles (issue 12): the permission matrix of functions/platform/permissions.ts, as data. */

const role = z.enum(ROLES);
const permission = z.enum(PERMISSIONS);

export const roleEntry = z.strictObject({
  role,
  description: z.string(),
  permissions: z.array(permission).describe('every permission the role holds, in the order of `permissions` below'),
});

export const permissionEntry = z.strictObject({
  permission,
  description: z.string(),
});

export const roleMatrixResponse = z.strictObject({
  roles: z.array(roleEntry).describe('every role a token or user may carry'),
  permissions: z.array(permissionEntry).describe('every permission a route may need (its x-required-permission in the OpenAPI document)'),
});
export type RoleMatrix = z.output<typeof roleMatrixResponse>;
