import { permissionsOf, type Permission, type Role } from './permissions';
import type { Db } from './db';
import type { Idempotency } from './idempotency';

/**
 * Who a domain function acts for. A person calling the API (`kind: 'user'`,
 * from the token's claims), or the system itself (`kind: 'system'`: a
 * schedule or an event consumer, named by `subject`, e.g.
 * `system:hold-sweeper`), always inside one tenant.
 */
export interface UserCaller {
  kind: 'user';
  tenantId: string;
  subject: string;
  role: Role;
  /** The user's e-mail address, when the token or the user directory knows it (for the audit trail). */
  email?: string;
  /**
   * The warehouses this user may change stock in and see the levels of; undefined: every warehouse.
   * Enforced by the domain functions that touch a warehouse (inventory, purchasing receipts, orders).
   */
  warehouseIds?: readonly string[];
}
export interface SystemCaller {
  kind: 'system';
  tenantId: string;
  subject: `system:${string}`;
}
export type Caller = UserCaller | SystemCaller;

/** May this caller do what `permission` guards? The system acts on its own behalf and may do everything. */
export const callerMay = (caller: Caller, permission: Permission): boolean =>
  caller.kind === 'system' || permissionsOf[caller.role].includes(permission);

export interface RequestContext {
  caller: Caller;
  /** The API request id, or the id of the schedule run / message a system caller handles. */
  requestId: string;
  idempotency?: Idempotency;
  now: () => Date;
  /** Epoch ms after which retries stop and the request answers rather than let Lambda time it out. */
  deadline?: number;
}

/** The one dependency shape of every domain function, whoever calls it. */
export interface Deps {
  db: Db;
  ctx: RequestContext;
}

/** The context of work the system does on its own, for one tenant: a schedule run or one consumed event. */
export const systemContext = (options: {
  tenantId: string;
  actor: `system:${string}`;
  requestId: string;
  now?: () => Date;
  deadline?: number;
}): RequestContext => ({
  caller: { kind: 'system', tenantId: options.tenantId, subject: options.actor },
  requestId: options.requestId,
  now: options.now ?? (() => new Date()),
  ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
});
