import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { findUser, findUserByEmail, registerUser } from '../../functions/identity/users';
import type { Db } from '../../functions/platform/db';
import type { Role } from '../../functions/platform/permissions';
import type { LocalIssuer } from './issuer';
import { RUNTIME_FILE } from './paths';

/**
 * Local tokens for real users only (issue 12): the local issuer signs a token for a user of the directory
 * (the table's user records, functions/identity/) who exists and is enabled, with the record's role, scope
 * and e-mail, as Cognito issues tokens only to its users. `npm run token` and `npm start` go through here;
 * the HTTP layer's status check refuses any other token anyway.
 */

/** Why no token was signed: the user is unknown or disabled (the CLI says it on stderr and exits non-zero). */
export class UserRefused extends Error {
  override name = 'UserRefused';
}

export type WhoFor =
  /** An existing user, by address. */
  | { email: string }
  /** A development user of a role: `<tenant>-<role>` (or the subject given), created if there is none. */
  | { role: Role; subject?: string };

/** The address a development user of a role gets: `.invalid` is reserved, so nothing is ever sent there. */
export const devEmail = (tenantId: string, userId: string): string => `${userId}@${tenantId}.dev.invalid`;

/** The record of the user a token is asked for; a development user of a role is registered first if there is none. */
const userFor = async (db: Db, tenantId: string, who: WhoFor) => {
  if ('email' in who) {
    const found = await findUserByEmail(db, tenantId, who.email.toLowerCase());
    if (!found) throw new UserRefused(`tenant '${tenantId}' has no user with the e-mail address ${who.email}`);
    return found;
  }
  const userId = who.subject ?? `${tenantId}-${who.role}`;
  const found = await findUser(db, tenantId, userId);
  if (found) return found;
  return registerUser(db, tenantId, { userId, email: devEmail(tenantId, userId), name: `Development ${who.role}`, role: who.role });
};

/** A token for a user who exists (or a development user made now) and is enabled, carrying the record's claims. */
export const tokenFor = async (issuer: LocalIssuer, db: Db, tenantId: string, who: WhoFor, expiresIn?: string): Promise<{ token: string; role: Role; userId: string }> => {
  const user = await userFor(db, tenantId, who);
  if (user.disabled) throw new UserRefused(`the user ${user.email} (${user.user_id}) of tenant '${tenantId}' is disabled: an admin enables them again with PATCH /api/users/${user.user_id} {"disabled": false}`);
  const token = await issuer.sign({
    tenantId,
    role: user.role,
    subject: user.user_id,
    email: user.email,
    ...(user.warehouse_ids === undefined ? {} : { warehouseIds: user.warehouse_ids }),
    ...(expiresIn === undefined ? {} : { expiresIn }),
  });
  return { token, role: user.role, userId: user.user_id };
};

/**
 * Where a running `npm start` says its DynamoDB Local is, so `npm run token` reaches the very directory that
 * server reads (also with --in-memory). Written at start-up, removed at shutdown; a file whose process is gone
 * is stale and ignored.
 */
const runtimeFile = z.object({ pid: z.number().int(), dynamodb_endpoint: z.string(), table: z.string() });
export type RunningRuntime = z.output<typeof runtimeFile>;

export const announceRuntime = (runtime: RunningRuntime, file = RUNTIME_FILE): void => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(runtime), { mode: 0o600 });
};

export const withdrawRuntime = (file = RUNTIME_FILE): void => {
  const found = readRuntime(file);
  if (found?.pid === process.pid) rmSync(file, { force: true });
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, only not ours to signal.
    return z.object({ code: z.literal('EPERM') }).safeParse(error).success;
  }
};

/** The running local runtime, if one is up. */
export const readRuntime = (file = RUNTIME_FILE): RunningRuntime | undefined => {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = runtimeFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success && alive(parsed.data.pid) ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};
