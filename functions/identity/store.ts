import * as z from 'zod';
import type { Db } from '../platform/db';
import { AppError, notFound } from '../platform/errors';
import { keys } from '../platform/keys';
import { ROLES, type Role } from '../platform/permissions';
import { decodeWith } from '../platform/storage';
import { userStatusFields } from '../platform/user-status';
import { deleteItem, putItem, updateItem, when, type Write } from '../platform/writes';

/**
 * The user directory's own storage (private to functions/identity). The user item holds the fields
 * the platform's status check reads (functions/platform/user-status.ts userStatusFields: the same key
 * and names) and the rest of the record. Two helper items keep the tenant-wide rules atomic with every
 * user change: the e-mail claim (one user per address) and the count of enabled admins (the last one stays).
 */
export interface User {
  user_id: string;
  email: string;
  name: string;
  role: Role;
  /** Absent: every warehouse. */
  warehouse_ids?: string[];
  disabled: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

const storedUser = userStatusFields.extend({
  name: z.string(),
  role: z.enum(ROLES),
  warehouse_ids: z.array(z.string()).optional(),
  version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});

const decodeStored = decodeWith('user', storedUser);

/** A stored user, exactly the record's fields (a field the schema does not name stays in the table). */
export const decodeUser = (item: Record<string, unknown>): User => {
  const stored = decodeStored(item);
  return {
    user_id: stored.user_id,
    email: stored.email,
    name: stored.name,
    role: stored.role,
    ...(stored.warehouse_ids === undefined ? {} : { warehouse_ids: stored.warehouse_ids }),
    disabled: stored.disabled,
    version: stored.version,
    created_at: stored.created_at,
    updated_at: stored.updated_at,
  };
};

/** Does this user count among the tenant's enabled admins? */
export const isEnabledAdmin = (user: Pick<User, 'role' | 'disabled'> | undefined): boolean => user !== undefined && user.role === 'admin' && !user.disabled;

/** The user item whole: a new one (`previousVersion` undefined) or a replacement guarded by its version. */
export const userPut = (db: Db, tenantId: string, user: User, previousVersion: number | undefined): Write =>
  putItem(db, {
    name: 'user',
    key: keys.user(tenantId, user.user_id),
    entity: 'user',
    tenantId,
    value: user,
    when: when.newOrVersion(previousVersion),
    // A replaced user that moved on (or was deleted) meanwhile is re-read and re-planned; a new id never collides.
  });

export const userDelete = (db: Db, tenantId: string, userId: string, version: number): Write =>
  deleteItem(db, {
    name: 'user',
    key: keys.user(tenantId, userId),
    when: when.versionIs(version),
    onConditionFailed: (current) => (current === undefined ? notFound('user', userId) : undefined),
  });

export const emailTaken = (email: string): AppError =>
  new AppError('ALREADY_EXISTS', `a user with the e-mail address ${email} already exists`, { email });

/** Claims an address for a user of the tenant: 409 if another user of the tenant holds it; holding it already passes. */
export const emailClaim = (db: Db, tenantId: string, email: string, userId: string): Write =>
  putItem(db, {
    name: 'user e-mail',
    key: keys.userEmail(tenantId, email),
    entity: 'user-email',
    tenantId,
    value: { user_id: userId, email },
    when: when.or(when.absent(), when.equals('user_id', userId)),
    onConditionFailed: () => emailTaken(email),
  });

/** Which user holds an address. */
export const decodeEmailClaim = decodeWith('user e-mail', z.object({ user_id: z.string() }).loose());

/** Gives an address up, if this user holds it. */
export const emailRelease = (db: Db, tenantId: string, email: string, userId: string): Write =>
  deleteItem(db, { name: 'user e-mail', key: keys.userEmail(tenantId, email), when: when.or(when.absent(), when.equals('user_id', userId)) });

export const lastAdmin = (): AppError =>
  new AppError('CONFLICT', "this is the tenant's last enabled admin: it cannot be removed, disabled or demoted; make another user admin first");

export const ENABLED_ADMINS = 'enabled_admins';

/**
 * Moves the tenant's count of enabled admins by `delta`, in the transaction of the user change that moves it.
 * Taking one away is guarded: at least two before, so at least one after, and two changes racing on the last
 * two admins serialise on this one item (DynamoDB cancels the loser, whose re-plan then finds one left: 409).
 * `guarded: false` is for registrations by the system (tests, the dev CLI), which are no one's decision to refuse.
 */
export const enabledAdminsMove = (db: Db, tenantId: string, delta: number, guarded = true): Write =>
  updateItem(db, {
    name: 'enabled admins',
    key: keys.enabledAdmins(tenantId),
    add: { [ENABLED_ADMINS]: delta },
    set: { entity: 'user-admins', tenant_id: tenantId },
    ...(delta < 0 && guarded ? { when: when.atLeast(ENABLED_ADMINS, 1 - delta), onConditionFailed: () => lastAdmin() } : {}),
  });
