import type { Deps } from './context';
import type { AppError } from './errors';
import { commitIdempotent } from './idempotency';
import type { TransactionCancelled } from './transactions';
import type { Write } from './writes';

/** An entity with a life cycle: a status, and a version that every change bumps. */
export interface Stateful<S extends string> {
  status: S;
  version: number;
  updated_at: string;
}

export interface Transition<S extends string, E extends Stateful<S>> {
  /** The entity as it stands (strongly consistent), or a 404. */
  load: () => Promise<E>;
  /** The statuses in which this change applies. */
  from: readonly S[];
  /** The statuses in which it has already happened (perhaps by this very request, retried): the entity is the answer. */
  done?: readonly S[];
  /** The refusal in any other status. */
  refuse: (current: E) => AppError;
  /** The entity after the change and the other writes it takes (stock levels, ledger rows), or 'unchanged'. */
  apply: (current: E, now: Date, lastCancelled: TransactionCancelled | undefined) => Promise<{ next: E; writes: Write[] } | 'unchanged'> | { next: E; writes: Write[] } | 'unchanged';
  /** The entity's own write, guarded by the version it was read at. */
  persist: (next: E, previousVersion: number) => Write;
}

/**
 * "Apply this change if the entity is in one of these states": read, check
 * the status, apply, and write the entity (version + 1) with the change's
 * other writes in one idempotent transaction; a lost race reads and decides
 * again. Orders and purchase orders both move through this.
 */
export const transition = <S extends string, E extends Stateful<S>>(deps: Deps, spec: Transition<S, E>): Promise<E> =>
  commitIdempotent(deps, async (_attempt, lastCancelled) => {
    const current = await spec.load();
    if (spec.done?.includes(current.status)) return { writes: [], result: current };
    if (!spec.from.includes(current.status)) throw spec.refuse(current);
    const now = deps.ctx.now();
    const decided = await spec.apply(current, now, lastCancelled);
    if (decided === 'unchanged') return { writes: [], result: current };
    const next: E = { ...decided.next, version: current.version + 1, updated_at: now.toISOString() };
    return { writes: [...decided.writes, spec.persist(next, current.version)], result: next };
  });
