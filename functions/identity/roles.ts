/**
 * Roles and permissions are enforced by the HTTP layer, so their matrix lives
 * in the platform (functions/platform/permissions.ts); this is the identity
 * context's name for it.
 */
export * from '../platform/permissions';
