import type { Caller, RequestContext } from './context';
import { AppError } from './errors';
import type { Condition } from './writes';

/**
 * A user's warehouse scope (UserCaller.warehouseIds, issue 12): a scoped manager or clerk changes stock,
 * receives, ships and counts only in those warehouses, and their lists show only those warehouses'
 * levels. The system and unscoped users (warehouseIds undefined) reach every warehouse.
 *
 * The domain functions enforce it, not the HTTP layer: only they know which warehouses a request
 * touches (a transfer's two ends, an order's allocations, a purchase order's destination). Each
 * checks before it reads for a decision or writes anything, so a refusal writes nothing.
 */

/** The caller's warehouses, or undefined when the caller reaches every warehouse. */
export const scopeOf = (caller: Caller): ReadonlySet<string> | undefined =>
  caller.kind === 'user' && caller.warehouseIds !== undefined ? new Set(caller.warehouseIds) : undefined;

/** May this caller change stock in (or see the levels of) this warehouse? */
export const mayTouchWarehouse = (caller: Caller, warehouseId: string): boolean => {
  const scope = scopeOf(caller);
  return scope === undefined || scope.has(warehouseId);
};

/** The 403 for a request that would touch `outside`, warehouses not in the caller's scope. */
export const outOfScope = (outside: readonly string[], doing?: string): AppError => {
  const names = outside.map((id) => `'${id}'`).join(', ');
  const what = doing === undefined ? '' : ` (${doing})`;
  return new AppError(
    'FORBIDDEN',
    `this request${what} touches warehouse${outside.length === 1 ? '' : 's'} ${names}, outside the warehouses you may work in`,
    { warehouse_ids: outside },
  );
};

/**
 * Refuses (403 FORBIDDEN naming them in the message and `details.warehouse_ids`) a request that
 * touches any of these warehouses outside the caller's scope; nothing for an unscoped caller.
 * `doing` says what the request would have done there, for the message.
 */
export const assertInScope = (ctx: RequestContext, warehouseIds: Iterable<string>, doing?: string): void => {
  const scope = scopeOf(ctx.caller);
  if (scope === undefined) return;
  const outside = [...new Set(warehouseIds)].filter((id) => !scope.has(id));
  if (outside.length > 0) throw outOfScope(outside.sort(), doing);
};

/**
 * A scoped caller may not do what no warehouse limits (create a warehouse, change a tenant-wide
 * default): 403 saying so. Nothing for an unscoped caller.
 */
export const assertUnscoped = (ctx: RequestContext, doing: string): void => {
  const caller = ctx.caller;
  if (caller.kind === 'user' && caller.warehouseIds !== undefined) {
    throw new AppError('FORBIDDEN', `you work in some warehouses only (${caller.warehouseIds.map((id) => `'${id}'`).join(', ')}): ${doing} needs a user who works in every warehouse`, {
      warehouse_ids: [...caller.warehouseIds],
    });
  }
};

/** A filter keeping what lies in the caller's warehouses: `rows.filter(inScope(ctx))` for rows with a warehouse_id. */
export const inScope =
  (ctx: RequestContext) =>
  <T extends { warehouse_id: string }>(row: T): boolean =>
    mayTouchWarehouse(ctx.caller, row.warehouse_id);

/**
 * The query filter (functions/platform/storage.ts QueryRequest.filter) keeping items whose
 * `warehouse_id` is in the caller's scope; undefined for an unscoped caller. An empty scope keeps
 * nothing (no id is the empty string).
 */
export const scopeFilter = (ctx: RequestContext): Condition | undefined => {
  const scope = scopeOf(ctx.caller);
  return scope === undefined ? undefined : { op: 'in', attribute: 'warehouse_id', values: scope.size === 0 ? [''] : [...scope].sort() };
};

/** Reads a scoped list's page may take to fill up: the other warehouses' items are read and dropped. */
export const SCOPED_LIST_READS = 5;
