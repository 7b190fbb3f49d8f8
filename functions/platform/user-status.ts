import * as z from 'zod';
import type { Db } from './db';
import { ID_PATTERN } from './ids';
import { keys } from './keys';
import { ROLES, type Role } from './permissions';
import { decodeWith, getItem } from './storage';

/**
 * The user-status check of every token route (issue 12, "revocation within 60 s"): a token is a
 * claim about a user when it was issued; the user directory (functions/identity/) says who the user
 * is now. The HTTP layer reads the caller's record here, after the token is verified, and
 *  - no record, or a disabled one: the token is refused (401), whatever it says and however long it
 *    has left;
 *  - otherwise the record's role, warehouse scope and e-mail replace the token's.
 * Reads are cached per container (a Lambda, or the local process) for a short TTL, so a change reaches
 * every container within the TTL: 30 s by default, well inside the 60 s the issue allows (plus the
 * global sign-out in AWS, which stops new tokens being issued at all). USER_STATUS_TTL_MS shortens it.
 *
 * The platform owns this read (the HTTP layer serves every context and may import none); the identity
 * context owns the record and writes it, through the same key (keys.user) and field names.
 */
export const USER_STATUS_TTL_ENV = 'USER_STATUS_TTL_MS';
export const DEFAULT_USER_STATUS_TTL_MS = 30_000;

/** The fields of a user record the status check reads; the identity context's record has these and more. */
export const userStatusFields = z
  .object({
    user_id: z.string(),
    email: z.string(),
    role: z.enum(ROLES),
    /** Absent: every warehouse. */
    warehouse_ids: z.array(z.string().regex(ID_PATTERN)).optional(),
    disabled: z.boolean(),
  })
  .loose();

export interface UserStatus {
  role: Role;
  email: string;
  warehouseIds?: readonly string[];
  disabled: boolean;
}

const decodeStatus = decodeWith('user', userStatusFields);

/** The TTL in force: read on every lookup, so a test (or an operator's env change) takes effect without a restart. */
export const userStatusTtlMs = (): number => {
  const raw = process.env[USER_STATUS_TTL_ENV];
  if (raw === undefined || raw === '') return DEFAULT_USER_STATUS_TTL_MS;
  const ms = Number(raw);
  // A bad value must not switch revocation off: the default applies, never "cache for ever".
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, DEFAULT_USER_STATUS_TTL_MS) : DEFAULT_USER_STATUS_TTL_MS;
};

interface Cached {
  at: number;
  /** undefined: no such user (cached too: a revoked token keeps being refused without a read per request). */
  status: UserStatus | undefined;
}

const cache = new Map<string, Cached>();
/** A bound on the cache, so a flood of tokens of unknown subjects cannot grow a container's memory without end. */
const MAX_CACHED = 10_000;

const cacheKey = (tenantId: string, userId: string): string => `${tenantId}\n${userId}`;

/** The record as it stands in the table, uncached. */
export const readUserStatus = async (db: Db, tenantId: string, userId: string): Promise<UserStatus | undefined> => {
  const found = await getItem(db, keys.user(tenantId, userId), decodeStatus);
  if (!found) return undefined;
  return { role: found.role, email: found.email, disabled: found.disabled, ...(found.warehouse_ids === undefined ? {} : { warehouseIds: found.warehouse_ids }) };
};

/**
 * The caller's status, at most the TTL old. `now` is the clock the cache ages by (tests pass their own to
 * prove the bound without waiting for it).
 */
export const userStatusOf = async (db: Db, tenantId: string, userId: string, now: () => number = Date.now): Promise<UserStatus | undefined> => {
  const key = cacheKey(tenantId, userId);
  const hit = cache.get(key);
  if (hit && now() - hit.at < userStatusTtlMs()) return hit.status;
  const status = await readUserStatus(db, tenantId, userId);
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, { at: now(), status });
  return status;
};

/** Forgets one user's cached status (the test support re-registers users; it runs in the same process as the local handlers). */
export const forgetUserStatus = (tenantId: string, userId: string): void => {
  cache.delete(cacheKey(tenantId, userId));
};

/** Forgets every cached status. */
export const resetUserStatusCache = (): void => cache.clear();
