import { existingCatalogIds } from '../inventory/catalog';
import type { Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { AppError, errorMessage, keptChanging, notFound, orNotFound } from '../platform/errors';
import { commitIdempotent } from '../platform/idempotency';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import { permissionsOf, type Role } from '../platform/permissions';
import { assertInScope, assertUnscoped } from '../platform/warehouse-scope';
import { RARE_CONFLICT, RetriesExhausted, retrying } from '../platform/retry';
import { getItem, queryPage } from '../platform/storage';
import { TransactionCancelled, transactWrite } from '../platform/transactions';
import { forgetUserStatus } from '../platform/user-status';
import { when, type Condition, type Write } from '../platform/writes';
import { cognitoDirectory } from './cognito';
import { tableOnlyDirectory, USER_POOL_ID_ENV, type DirectoryUser, type UserDirectory } from './directory';
import type { CreateUserInput, ListUsersQuery, PatchUserInput, UserView } from './schemas';
import { decodeEmailClaim, decodeUser, emailClaim, emailRelease, emailTaken, enabledAdminsMove, isEnabledAdmin, userDelete, userPut, type User } from './store';

/**
 * The users API (issue 12): a tenant's people, managed by its admins. The table's user record is what the
 * HTTP layer's status check reads (functions/platform/user-status.ts), so a change here reaches every
 * request within the status cache's TTL; in AWS the Cognito user pool follows each change (directory.ts).
 *
 * Rules every change keeps, whoever makes it:
 *  - nobody is raised above the actor: the target's role, before and after, has no permission the actor lacks;
 *  - one user per e-mail address in the tenant (an e-mail claim item in the same transaction);
 *  - the tenant keeps an enabled admin (a counter item in the same transaction, guarded: see store.ts).
 * Another tenant's user ids are simply not found: every key is built from the caller's tenant.
 */
export interface UserDeps extends Deps {
  /** Where people sign in; default from the environment (USER_POOL_ID: Cognito; absent: the table only). */
  directory?: UserDirectory;
}

let fromEnv: UserDirectory | undefined;

/** The pool id present: Cognito; absent (npm start, the tests): the table only. Built once per container. */
export const userDirectoryFromEnv = (): UserDirectory => {
  const poolId = process.env[USER_POOL_ID_ENV];
  fromEnv ??= poolId ? cognitoDirectory({ userPoolId: poolId }) : tableOnlyDirectory;
  return fromEnv;
};

export const viewOf = (user: User): UserView => ({
  user_id: user.user_id,
  email: user.email,
  name: user.name,
  role: user.role,
  warehouse_ids: user.warehouse_ids ?? null,
  disabled: user.disabled,
  version: user.version,
  created_at: user.created_at,
  updated_at: user.updated_at,
});

const directoryUser = (tenantId: string, user: User): DirectoryUser => ({
  tenantId,
  email: user.email,
  name: user.name,
  role: user.role,
  disabled: user.disabled,
  ...(user.warehouse_ids === undefined ? {} : { warehouseIds: user.warehouse_ids }),
});

/** 403 unless every permission of `role` is one the actor holds: nobody raises anyone (or reaches anyone) above themselves. */
const requireNotAbove = ({ ctx }: Deps, role: Role, what: string): void => {
  const caller = ctx.caller;
  if (caller.kind === 'system') return;
  const mine = new Set(permissionsOf[caller.role]);
  const beyond = permissionsOf[role].filter((permission) => !mine.has(permission));
  if (beyond.length > 0) {
    throw new AppError('FORBIDDEN', `role '${caller.role}' may not ${what} role '${role}': it has permissions '${caller.role}' lacks (${beyond.join(', ')})`, {
      role,
      missing_permissions: beyond,
    });
  }
};

/**
 * 403 unless a warehouse-scoped actor stays inside their warehouses: the scope they give (or the one of the user they
 * change or remove) must be within theirs, and "every warehouse" never is. Otherwise a scoped admin could make an
 * unscoped one, the scope's escalation as a role above one's own is the role's.
 */
const requireWithinScope = ({ ctx }: Deps, scope: readonly string[] | null | undefined, what: string): void => {
  if (!scope) return assertUnscoped(ctx, `to ${what} a user of every warehouse`);
  assertInScope(ctx, scope, `to ${what} a user of them`);
};

/** 404 for the first warehouse the tenant does not have (another tenant's included). */
const requireWarehouses = async (deps: Deps, warehouseIds: readonly string[] | null | undefined): Promise<void> => {
  if (!warehouseIds) return;
  const found = await existingCatalogIds(deps, { skuIds: [], warehouseIds });
  const missing = warehouseIds.find((id) => !found.warehouseIds.has(id));
  if (missing !== undefined) throw notFound('warehouse', missing);
};

/** The enabled-admin counter's move for a change from `before` to `after` (either may be absent), if any. */
const adminMoves = (db: Db, tenantId: string, before: User | undefined, after: User | undefined, guarded = true): Write[] => {
  const delta = Number(isEnabledAdmin(after)) - Number(isEnabledAdmin(before));
  return delta === 0 ? [] : [enabledAdminsMove(db, tenantId, delta, guarded)];
};

const readStored = (db: Db, tenantId: string, userId: string): Promise<User | undefined> => getItem(db, keys.user(tenantId, userId), decodeUser);

/**
 * POST /api/users. The sign-in identity is made first (its id is the user's: Cognito's sub), inside the first
 * attempt so a replayed Idempotency-Key answers from its record without touching the pool; if the user's
 * transaction then fails (the address taken in this tenant), the identity is removed again.
 */
export const createUser = async (deps: UserDeps, input: CreateUserInput): Promise<UserView> => {
  const { db, ctx, directory = userDirectoryFromEnv() } = deps;
  const tenantId = ctx.caller.tenantId;
  requireNotAbove(deps, input.role, 'create a user of');
  requireWithinScope(deps, input.warehouse_ids, 'create');
  await requireWarehouses(deps, input.warehouse_ids);
  let userId: string | undefined;
  try {
    return await commitIdempotent(deps, async () => {
      const now = ctx.now().toISOString();
      const planned: Omit<User, 'user_id'> = {
        email: input.email,
        name: input.name,
        role: input.role,
        ...(input.warehouse_ids === undefined ? {} : { warehouse_ids: input.warehouse_ids }),
        disabled: false,
        version: 1,
        created_at: now,
        updated_at: now,
      };
      userId ??= await directory.create({ tenantId, ...planned, ...(planned.warehouse_ids ? { warehouseIds: planned.warehouse_ids } : {}) });
      const user: User = { user_id: userId, ...planned };
      return {
        writes: [userPut(db, tenantId, user, undefined), emailClaim(db, tenantId, user.email, user.user_id), ...adminMoves(db, tenantId, undefined, user)],
        result: viewOf(user),
      };
    });
  } catch (error) {
    if (userId !== undefined) await undoIdentity(directory, tenantId, userId);
    throw error;
  }
};

const undoIdentity = async (directory: UserDirectory, tenantId: string, userId: string): Promise<void> => {
  try {
    await directory.remove(userId);
  } catch (error) {
    log.error('a user identity was created but its record was not, and removing the identity failed', { tenant_id: tenantId, user_id: userId, error: errorMessage(error) });
  }
};

export const readUser = async ({ db, ctx }: Deps, userId: string): Promise<UserView> =>
  viewOf(await orNotFound('user', userId, readStored(db, ctx.caller.tenantId, userId)));

export const listUsers = async ({ db, ctx }: Deps, query: ListUsersQuery): Promise<{ users: UserView[]; next_cursor: string | null }> => {
  const filters: Condition[] = [
    ...(query.role === undefined ? [] : [when.equals('role', query.role)]),
    ...(query.disabled === undefined ? [] : [when.equals('disabled', query.disabled === 'true')]),
  ];
  const page = await queryPage(
    db,
    {
      partition: keys.users(ctx.caller.tenantId),
      cursor: query.cursor,
      limit: query.limit,
      ...(filters.length === 0 ? {} : { filter: filters.length === 1 ? filters[0] : when.and(...filters), maxReads: 10 }),
    },
    decodeUser,
  );
  return { users: page.items.map(viewOf), next_cursor: page.next_cursor };
};

/** Runs one read-plan-commit of a user under the rare-conflict policy: a version that moved is re-read and re-planned. */
const changeUser = async <R>(deps: Deps, userId: string, plan: (current: User) => { writes: Write[]; result: R; after: User | undefined }): Promise<{ result: R; before: User; after: User | undefined }> => {
  const { db, ctx } = deps;
  try {
    return await retrying<{ result: R; before: User; after: User | undefined }, undefined>({ ...RARE_CONFLICT, deadline: ctx.deadline }, async () => {
      const current = await orNotFound('user', userId, readStored(db, ctx.caller.tenantId, userId));
      const planned = plan(current);
      if (planned.writes.length === 0) return { done: { result: planned.result, before: current, after: planned.after } };
      try {
        await transactWrite(db, planned.writes);
        return { done: { result: planned.result, before: current, after: planned.after } };
      } catch (error) {
        if (!(error instanceof TransactionCancelled)) throw error;
        const explained = error.explain();
        if (explained) throw explained;
        return { retry: undefined };
      }
    });
  } catch (error) {
    if (error instanceof RetriesExhausted) throw keptChanging(error.attempts);
    throw error;
  }
};

/** The sign-in side follows a committed change; if it fails, the record (which the status check reads) stands and the request may be repeated. */
const follow = async (work: () => Promise<void>, tenantId: string, userId: string): Promise<void> => {
  try {
    await work();
  } catch (error) {
    log.error('the user pool did not follow a user change', { tenant_id: tenantId, user_id: userId, error: errorMessage(error) });
    throw new AppError('UNAVAILABLE', 'the change is saved and applies to every request within 30 s, but the user pool has not taken it yet: repeat the request');
  }
};

/** PATCH /api/users/{user_id}: name, role, warehouse scope (null: every warehouse), disabled. */
export const patchUser = async (deps: UserDeps, userId: string, patch: PatchUserInput): Promise<UserView> => {
  const { db, ctx, directory = userDirectoryFromEnv() } = deps;
  const tenantId = ctx.caller.tenantId;
  if (patch.role !== undefined) requireNotAbove(deps, patch.role, 'give a user');
  if (patch.warehouse_ids !== undefined) requireWithinScope(deps, patch.warehouse_ids, 'give a scope to');
  await requireWarehouses(deps, patch.warehouse_ids);
  const changed = await changeUser(deps, userId, (current) => {
    requireNotAbove(deps, current.role, 'change a user of');
    requireWithinScope(deps, current.warehouse_ids, 'change');
    const { warehouse_ids: _scope, ...rest } = current;
    const scope = patch.warehouse_ids === undefined ? current.warehouse_ids : (patch.warehouse_ids ?? undefined);
    const next: User = {
      ...rest,
      ...(scope === undefined ? {} : { warehouse_ids: scope }),
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.role === undefined ? {} : { role: patch.role }),
      ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
      version: current.version + 1,
      updated_at: ctx.now().toISOString(),
    };
    return { writes: [userPut(db, tenantId, next, current.version), ...adminMoves(db, tenantId, current, next)], result: viewOf(next), after: next };
  });
  if (changed.after) {
    const after = changed.after;
    await follow(() => directory.change(userId, directoryUser(tenantId, changed.before), directoryUser(tenantId, after)), tenantId, userId);
  }
  return changed.result;
};

/** DELETE /api/users/{user_id}: the record, its e-mail claim and (in AWS) the identity go; their tokens are refused within the TTL. */
export const deleteUser = async (deps: UserDeps, userId: string): Promise<UserView> => {
  const { db, ctx, directory = userDirectoryFromEnv() } = deps;
  const tenantId = ctx.caller.tenantId;
  const deleted = await changeUser(deps, userId, (current) => {
    requireNotAbove(deps, current.role, 'delete a user of');
    requireWithinScope(deps, current.warehouse_ids, 'delete');
    return {
      writes: [userDelete(db, tenantId, userId, current.version), emailRelease(db, tenantId, current.email, userId), ...adminMoves(db, tenantId, current, undefined)],
      result: viewOf(current),
      after: undefined,
    };
  });
  await follow(() => directory.remove(userId), tenantId, userId);
  return deleted.result;
};

/** Who the system registers (registerUser): a user with a chosen id. */
export interface Registration {
  userId: string;
  email: string;
  name?: string;
  role: Role;
  /** undefined: every warehouse. */
  warehouseIds?: readonly string[];
  disabled?: boolean;
}

/**
 * The system's upsert of a user with a chosen id, in the table only: the test support's clients, the dev token
 * CLI and the seeded demo admin are real users this way. The record is replaced whole (role, e-mail, scope), its
 * address claimed (409 if another user of the tenant holds it) and the admin count kept, unguarded: a registration
 * is set-up, not an admin's decision to refuse. The caller's cached status is forgotten in this process (the
 * local runtime's and the tests' handlers run in it), so the change applies to the very next request.
 */
export const registerUser = async (db: Db, tenantId: string, registration: Registration): Promise<User> => {
  const email = registration.email.toLowerCase();
  try {
    return await retrying<User, undefined>(RARE_CONFLICT, async () => {
      const current = await readStored(db, tenantId, registration.userId);
      const now = new Date().toISOString();
      const next: User = {
        user_id: registration.userId,
        email,
        name: registration.name ?? current?.name ?? email,
        role: registration.role,
        ...(registration.warehouseIds === undefined ? {} : { warehouse_ids: [...registration.warehouseIds] }),
        disabled: registration.disabled ?? false,
        version: (current?.version ?? 0) + 1,
        created_at: current?.created_at ?? now,
        updated_at: now,
      };
      // Registered as asked already (a test's second client of one user): nothing to write.
      if (current && sameRegistration(current, next)) return { done: current };
      const writes = [
        userPut(db, tenantId, next, current?.version),
        emailClaim(db, tenantId, email, next.user_id),
        ...(current && current.email !== email ? [emailRelease(db, tenantId, current.email, next.user_id)] : []),
        ...adminMoves(db, tenantId, current, next, false),
      ];
      try {
        await transactWrite(db, writes);
        return { done: next };
      } catch (error) {
        if (!(error instanceof TransactionCancelled)) throw error;
        if (error.failed('user e-mail')) throw emailTaken(email);
        return { retry: undefined };
      }
    });
  } catch (error) {
    if (error instanceof RetriesExhausted) throw keptChanging(error.attempts);
    throw error;
  } finally {
    forgetUserStatus(tenantId, registration.userId);
  }
};

const sameRegistration = (a: User, b: User): boolean =>
  a.email === b.email && a.name === b.name && a.role === b.role && a.disabled === b.disabled && (a.warehouse_ids ?? []).join(',') === (b.warehouse_ids ?? []).join(',') && (a.warehouse_ids === undefined) === (b.warehouse_ids === undefined);

/** A user of the tenant found by address (the dev token CLI's `--email`), as stored. */
export const findUserByEmail = async (db: Db, tenantId: string, email: string): Promise<User | undefined> => {
  const claim = await getItem(db, keys.userEmail(tenantId, email), decodeEmailClaim);
  return claim ? readStored(db, tenantId, claim.user_id) : undefined;
};

/** A user of the tenant by id, as stored (the dev token CLI). */
export const findUser = (db: Db, tenantId: string, userId: string): Promise<User | undefined> => readStored(db, tenantId, userId);
