import { randomBytes } from 'node:crypto';
import type { Severity } from '../alerts/model';
import { severityRank } from '../alerts/rules';
import { requireSku, requireWarehouse } from '../inventory/catalog';
import { callerMay, type Deps } from '../platform/context';
import { AppError, notFound, validationFailed } from '../platform/errors';
import { commitIdempotent } from '../platform/idempotency';
import { newId } from '../platform/ids';
import { keys } from '../platform/keys';
import { getItem, queryAll, queryPage } from '../platform/storage';
import { assertInScope, assertUnscoped } from '../platform/warehouse-scope';
import { deleteItem, when, writeOne } from '../platform/writes';
import { systemResolver, type Resolver } from './addresses';
import { isLocalMode, type Channel, type Scope, type StoredSubscription, type Subscription } from './model';
import { decodeSubscription, subscriptionWrite } from './store';
import { targetIssuesResolved } from './targets';

export interface SubscriptionDeps extends Deps {
  /** Local mode (plain http webhooks to loopback); default from the environment. */
  local?: boolean;
  /** Resolves a webhook's host name outside local mode (default: the system resolver; tests pass their own). */
  resolve?: Resolver;
}

export interface SubscribeInput {
  scope: Scope;
  channel: Channel;
  target: string;
  min_severity: Severity;
}

const publicView = (s: StoredSubscription): Subscription => {
  const { secret: _secret, ...rest } = s;
  return rest;
};

/**
 * POST /api/alerts/subscribe. The target is checked for its channel, the
 * scope's SKU or warehouse must exist (404), and only then is one item
 * written. A webhook gets a random 256-bit secret, returned in this answer
 * only (and to a retry with the same Idempotency-Key, which replays it).
 */
export const subscribe = async (deps: SubscriptionDeps, input: SubscribeInput): Promise<Subscription & { secret?: string }> => {
  const { db, ctx, local = isLocalMode(), resolve = systemResolver } = deps;
  const issues = await targetIssuesResolved(input.channel, input.target, local, resolve);
  if (issues.length) throw validationFailed(issues);
  // An alert carries its level's stock: a scoped user hears only of their warehouses, so subscribes
  // per warehouse (a SKU's or every alert would reach them from the others too).
  if ('operations' in input.scope) {
    // The deployment's own alarms say how the whole system fares, every tenant's traffic included: an admin's business.
    if (ctx.caller.kind === 'user' && ctx.caller.role !== 'admin') {
      throw new AppError('FORBIDDEN', `role '${ctx.caller.role}' may not subscribe to operational alerts (admins only)`, { role: ctx.caller.role });
    }
    assertUnscoped(ctx, 'subscribing to operational alerts');
  } else if ('warehouse_id' in input.scope) assertInScope(ctx, [input.scope.warehouse_id], 'subscribing to its alerts');
  else assertUnscoped(ctx, `subscribing to ${'sku_id' in input.scope ? "a SKU's alerts in every warehouse" : 'every alert'} (subscribe per warehouse instead)`);
  if ('sku_id' in input.scope) await requireSku(deps, input.scope.sku_id);
  if ('warehouse_id' in input.scope) await requireWarehouse(deps, input.scope.warehouse_id);
  return commitIdempotent(deps, async () => {
    const subscription: StoredSubscription = {
      subscription_id: newId(),
      scope: input.scope,
      channel: input.channel,
      target: input.target,
      min_severity: input.min_severity,
      created_at: ctx.now().toISOString(),
      created_by: ctx.caller.subject,
      ...(input.channel === 'webhook' ? { secret: randomBytes(32).toString('base64url') } : {}),
    };
    return { writes: [subscriptionWrite(db, ctx.caller.tenantId, subscription)], result: subscription };
  });
};

export const listSubscriptions = async ({ db, ctx }: Deps, query: { cursor?: string; limit?: number }) => {
  const page = await queryPage(db, { partition: keys.subscriptions(ctx.caller.tenantId), cursor: query.cursor, limit: query.limit }, decodeSubscription);
  return { subscriptions: page.items.map(publicView), next_cursor: page.next_cursor };
};

/**
 * DELETE /api/alerts/subscriptions/{id}: gone at once (deliveries already
 * claimed may still finish); unknown is 404. A user deletes their own
 * subscriptions; another user's needs `subscriptions:manage` (managers and
 * admins). Another user's is 403 to a caller who may list the tenant's
 * subscriptions anyway (so a 404 would hide nothing) and 404 to one who may
 * not. The delete is conditional on the creator read, so a subscription
 * deleted in between is 404, never someone else's deleted by mistake.
 */
export const deleteSubscription = async ({ db, ctx }: Deps, subscriptionId: string): Promise<Subscription> => {
  const gone = () => notFound('subscription', subscriptionId);
  const key = keys.subscription(ctx.caller.tenantId, subscriptionId);
  const current = await getItem(db, key, decodeSubscription);
  if (!current) throw gone();
  if (current.created_by !== ctx.caller.subject && !callerMay(ctx.caller, 'subscriptions:manage')) {
    if (!callerMay(ctx.caller, 'subscriptions:read')) throw gone();
    throw new AppError('FORBIDDEN', "this subscription is another user's: deleting it needs 'subscriptions:manage' (managers and admins)");
  }
  const old = await writeOne(
    db,
    deleteItem(db, { name: 'subscription', key, when: when.equals('created_by', current.created_by), onConditionFailed: gone }),
  );
  if (!old) throw gone();
  return publicView(decodeSubscription(old));
};

/** Does an alert of this severity reach a subscription with this minimum? (critical >= high >= normal) */
export const severityReaches = (severity: Severity, minimum: Severity): boolean => severityRank(severity) <= severityRank(minimum);

/**
 * Every subscription an alert on (sku, warehouse) of this severity reaches:
 * the three scope partitions of gsi1 (the SKU's, the warehouse's, "all"),
 * filtered by minimum severity, ordered by id.
 */
export const matchingSubscriptions = async (
  { db, ctx }: Deps,
  alert: { sku_id: string; warehouse_id: string; severity: Severity },
): Promise<StoredSubscription[]> => {
  const scopes: Scope[] = [{ sku_id: alert.sku_id }, { warehouse_id: alert.warehouse_id }, { all: true }];
  const found = new Map<string, StoredSubscription>();
  for (const scope of scopes) {
    const partition = keys.subscribersIndex(ctx.caller.tenantId, scope);
    for (const s of await queryAll(db, { index: 'gsi1', partition }, decodeSubscription)) {
      if (severityReaches(alert.severity, s.min_severity)) found.set(s.subscription_id, s);
    }
  }
  return [...found.values()].sort((a, b) => (a.subscription_id < b.subscription_id ? -1 : 1));
};

/** Every subscription to operational alerts (scope `operations`) of the caller's tenant, ordered by id. */
export const operationsSubscriptions = ({ db, ctx }: Deps): Promise<StoredSubscription[]> =>
  queryAll(db, { index: 'gsi1', partition: keys.subscribersIndex(ctx.caller.tenantId, { operations: true }) }, decodeSubscription);
