import * as z from 'zod';
import { idSchema } from '../platform/ids';
import { ROLES } from '../platform/permissions';

/**
 * Request and response schemas of the users API (issue 12): a tenant's people, their role and the
 * warehouses they work in. The role matrix itself is roles.ts's.
 */
/** Cognito custom attributes hold at most 2,048 characters: 30 ids of 64 and their commas fit in custom:warehouse_ids. */
export const MAX_USER_WAREHOUSES = 30;
export const MAX_USER_NAME = 128;
/** RFC 5321's limit on a forward path; Cognito's email attribute allows no more either. */
export const MAX_EMAIL = 254;

/** Addresses are compared and stored lower-cased: one person, one user, however they type it. */
const email = z
  .email('must be an e-mail address')
  .max(MAX_EMAIL)
  .transform((value) => value.toLowerCase())
  .describe('Stored lower-cased; unique within the tenant (and, in AWS, across the user pool)');
const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_USER_NAME, `must be at most ${MAX_USER_NAME} characters`)
  .refine((value) => ![...value].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f), 'must not contain control characters');
const role = z.enum(ROLES).describe('A role of GET /api/roles; never one with a permission the caller lacks');
const warehouseIds = z
  .array(idSchema)
  .min(1, 'must name at least one warehouse (null, or leaving it out, means every warehouse)')
  .max(MAX_USER_WAREHOUSES)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a warehouse')
  .describe('The warehouses the user may change stock in and see the levels of; every one must exist');

export const createUserBody = z.strictObject({
  email,
  name,
  role,
  warehouse_ids: warehouseIds.optional().describe('Left out: every warehouse'),
});
export type CreateUserInput = z.output<typeof createUserBody>;

export const patchUserBody = z
  .strictObject({
    name: name.optional(),
    role: role.optional(),
    warehouse_ids: warehouseIds.nullable().optional().describe('null: every warehouse'),
    disabled: z.boolean().optional().describe('true: every token of the user is refused within 60 s; false: allowed again'),
  })
  .refine((value) => Object.keys(value).length > 0, 'give at least one field to change');
export type PatchUserInput = z.output<typeof patchUserBody>;

export const userParams = z.strictObject({ user_id: idSchema });

export const listUsersQuery = z.strictObject({
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  role: role.optional(),
  disabled: z.enum(['true', 'false']).optional(),
});
export type ListUsersQuery = z.output<typeof listUsersQuery>;

export const userResponse = z.strictObject({
  user_id: z.string().describe("The token's sub (in AWS the Cognito user's sub)"),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  warehouse_ids: z.array(z.string()).nullable().describe('null: every warehouse'),
  disabled: z.boolean(),
  version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type UserView = z.output<typeof userResponse>;

export const userListResponse = z.strictObject({ users: z.array(userResponse), next_cursor: z.string().nullable() });
