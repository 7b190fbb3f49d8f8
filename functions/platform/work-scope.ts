import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditScope } from './audit-scope';
import type { LogContext } from './log';
import type { Values } from './metrics';

/**
 * What the platform knows of the work running now (a request, a consumed message, a scheduled
 * run), in one AsyncLocalStorage: the tenant the table guard holds it to (tenant-guard.ts), its
 * audit scope (audit-scope.ts), its log fields (log.ts) and its metric counters (metrics.ts).
 * One store, not four: every promise the work creates carries each AsyncLocalStorage's store,
 * so four of them cost four times as much on every await of a request.
 */
export interface WorkScope {
  tenantId?: string;
  audit?: AuditScope;
  log?: LogContext;
  counters?: Values;
}

const storage = new AsyncLocalStorage<WorkScope>();

/** Runs `work` with these parts of the scope set, the rest as the enclosing work has them. */
export const inWorkScope = <T>(parts: WorkScope, work: () => T): T => storage.run({ ...storage.getStore(), ...parts }, work);

/** The scope of the work running now (empty outside any). */
export const workScope = (): WorkScope => storage.getStore() ?? {};
