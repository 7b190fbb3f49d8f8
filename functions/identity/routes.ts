import * as roles from './role-schemas';
import * as users from './schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const roleRoutes = declareRoutes({
  // --- issue 12: roles ---
  listRoles: {
    method: 'GET', path: '/api/roles', entry: handlerEntry('identity', 'list-roles'),
    permission: 'api:read', table: 'none',
    summary: 'The permission matrix: every role with its description and permissions, and every permission with its description (functions/platform/permissions.ts, as the HTTP layer enforces it)',
    response: roles.roleMatrixResponse,
  },
} as const satisfies Record<string, HttpRoute>);

export const userRoutes = declareRoutes({
  // --- issue 12: users ---
  createUser: {
    method: 'POST', path: '/api/users', entry: handlerEntry('identity', 'create-user'),
    permission: 'users:write', table: 'write', userPool: 'manage',
    summary: 'Invite a user of this tenant with a role (never one with a permission the caller lacks) and optionally a warehouse scope; in AWS a Cognito user, who gets a temporary password by e-mail',
    body: users.createUserBody, response: users.userResponse, status: 201, errors: [404, 409],
  },
  listUsers: {
    method: 'GET', path: '/api/users', entry: handlerEntry('identity', 'list-users'),
    permission: 'users:read', table: 'read', audit: 'read', summary: "This tenant's users, optionally of one role or only the disabled (or enabled) ones",
    query: users.listUsersQuery, response: users.userListResponse,
  },
  getUser: {
    method: 'GET', path: '/api/users/{user_id}', entry: handlerEntry('identity', 'get-user'),
    permission: 'users:read', table: 'read', audit: 'read', summary: 'A user of this tenant',
    params: users.userParams, response: users.userResponse,
  },
  patchUser: {
    method: 'PATCH', path: '/api/users/{user_id}', entry: handlerEntry('identity', 'patch-user'),
    permission: 'users:write', table: 'write', userPool: 'manage',
    summary: "Change a user's name, role, warehouse scope (null: every warehouse) or disabled; a disabled user's tokens are refused, and role and scope changes apply, within 60 s. The last enabled admin stays one (409)",
    params: users.userParams, body: users.patchUserBody, response: users.userResponse, errors: [409],
  },
  deleteUser: {
    method: 'DELETE', path: '/api/users/{user_id}', entry: handlerEntry('identity', 'delete-user'),
    permission: 'users:write', table: 'write', userPool: 'manage',
    summary: "Remove a user (their tokens are refused within 60 s); not the tenant's last enabled admin (409)",
    params: users.userParams, response: users.userResponse, errors: [409],
  },
} as const satisfies Record<string, HttpRoute>);
