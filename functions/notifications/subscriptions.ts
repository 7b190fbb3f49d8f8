import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type { Severity } from '../alerts/model';
import { severityRank } from '../alerts/rules';
import { fromItem, queryIndexAll, queryPage, requireSku, requireWarehouse } from '../inventory/store';
import type { Db } from '../platform/db';
import { notFound, validationFailed } from '../platform/errors';
import type { RequestContext } from '../platform/http';
import { commitIdempotent, commitOptionsOf } from '../platform/idempotency';
import { newId } from '../platform/ids';
import { isLocalMode, notificationKeys, type Channel, type Scope, type StoredSubscription, type Subscription } from './model';
import { targetIssues } from './targets';

export interface SubscriptionDeps {
  db: Db;
  ctx: RequestContext;
  /** Local mode (plain http webhooks to loopback); default from the environment. */
  local?: boolean;
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
export const subscribe = async ({ db, ctx, local = isLocalMode() }: SubscriptionDeps, input: SubscribeInput): Promise<Subscription & { secret?: string }> => {
  const issues = targetIssues(input.channel, input.target, local);
  if (issues.length) throw validationFailed(issues);
  const tenantId = ctx.caller.tenantId;
  if ('sku_id' in input.scope) await requireSku(db, tenantId, input.scope.sku_id);
  if ('warehouse_id' in input.scope) await requireWarehouse(db, tenantId, input.scope.warehouse_id);
  return commitIdempotent(db, commitOptionsOf(ctx), async () => {
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
    return {
      items: [
        {
          Put: {
            TableName: db.table,
            Item: {
              ...notificationKeys.subscription(tenantId, subscription.subscription_id),
              gsi1pk: notificationKeys.scopeIndex(tenantId, subscription.scope),
              gsi1sk: subscription.subscription_id,
              entity: 'subscription',
              tenant_id: tenantId,
              ...subscription,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      result: subscription,
    };
  });
};

export const listSubscriptions = async ({ db, ctx }: SubscriptionDeps, query: { cursor?: string; limit?: number }) => {
  const page = await queryPage<StoredSubscription>(db, {
    partition: notificationKeys.subscriptions(ctx.caller.tenantId),
    ...(query.cursor ? { cursor: query.cursor } : {}),
    ...(query.limit ? { limit: query.limit } : {}),
  });
  return { subscriptions: page.items.map(publicView), next_cursor: page.next_cursor };
};

/** DELETE /api/alerts/subscriptions/{id}: gone at once (deliveries already claimed may still finish); unknown is 404. */
export const deleteSubscription = async ({ db, ctx }: SubscriptionDeps, subscriptionId: string): Promise<Subscription> => {
  try {
    const out = await db.client.send(
      new DeleteCommand({
        TableName: db.table,
        Key: notificationKeys.subscription(ctx.caller.tenantId, subscriptionId),
        ConditionExpression: 'attribute_exists(pk)',
        ReturnValues: 'ALL_OLD',
      }),
    );
    return publicView(fromItem<StoredSubscription>(out.Attributes ?? {}));
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') throw notFound('subscription', subscriptionId);
    throw error;
  }
};

/** Does an alert of this severity reach a subscription with this minimum? (critical >= high >= normal) */
export const severityReaches = (severity: Severity, minimum: Severity): boolean => severityRank(severity) <= severityRank(minimum);

/**
 * Every subscription an alert on (sku, warehouse) of this severity reaches:
 * the three scope partitions of gsi1 (the SKU's, the warehouse's, "all"),
 * filtered by minimum severity, ordered by id.
 */
export const matchingSubscriptions = async (
  db: Db,
  tenantId: string,
  alert: { sku_id: string; warehouse_id: string; severity: Severity },
): Promise<StoredSubscription[]> => {
  const scopes: Scope[] = [{ sku_id: alert.sku_id }, { warehouse_id: alert.warehouse_id }, { all: true }];
  const found = new Map<string, StoredSubscription>();
  for (const scope of scopes) {
    for (const item of await queryIndexAll(db, { partition: notificationKeys.scopeIndex(tenantId, scope) })) {
      const s = fromItem<StoredSubscription>(item);
      if (severityReaches(alert.severity, s.min_severity)) found.set(s.subscription_id, s);
    }
  }
  return [...found.values()].sort((a, b) => (a.subscription_id < b.subscription_id ? -1 : 1));
};
