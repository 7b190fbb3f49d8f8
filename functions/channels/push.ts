import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { StockLevelChangedDetail } from '../events/model';
import { systemContext, type Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { errorMessage } from '../platform/errors';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import { mapBounded } from '../platform/pool';
import { fifoId, type QueueSender } from '../platform/queues';
import { getItem, queryAll } from '../platform/storage';
import type { Platform } from './model';
import { countPush, openSession, publishable, pushQuantity, pushShopifyMany, type ChannelSession, type PublishDeps, type PushOutcome } from './publish';
import { decodeChannel, type Channel } from './store';
import { publishMetrics } from '../platform/metrics';

/**
 * Change data capture to the channels (issue 11, scope item 3):
 * StockLevelChanged -> the router (a consumer on the bus) -> the platform's FIFO queue, one
 * message group per tenant, connection and SKU -> the push worker. The router exists because an
 * EventBridge rule's SQS target takes one static MessageGroupId: it would put every SKU of every
 * tenant in one group, pushed one at a time.
 *
 * The message carries which SKU changed, not the quantity: the worker reads the levels when it
 * runs, so a burst of changes to one SKU waiting in its group is pushed once, at the latest
 * quantity, and the rest find nothing to do (the listing's last pushed quantity is already it).
 * After an outage the same holds: what is pushed is the latest state, never each change replayed.
 */
export const pushMessage = z.strictObject({
  tenant_id: z.string(),
  channel_id: z.string(),
  sku_id: z.string(),
  /** The change that caused it: its level and version (the deduplication id) and when it happened (sync lag). */
  warehouse_id: z.string(),
  version: z.number().int(),
  changed_at: z.string(),
});
export type PushMessage = z.output<typeof pushMessage>;

/** The FIFO queue of each platform (functions/wiring.ts channelSyncQueues). */
export const PUSH_QUEUES = { shopify: 'pushShopify', amazon: 'pushAmazon' } as const satisfies Record<Platform, string>;

/** A tenant's connections, read once a few seconds per warm router (a change of connection applies within that). */
const CONNECTIONS_FRESH_MS = 5_000;
const connectionsCache = new Map<string, { at: number; channels: Channel[] }>();

const connectionsOf = async (db: Db, tenantId: string): Promise<Channel[]> => {
  const cached = connectionsCache.get(tenantId);
  if (cached && Date.now() - cached.at < CONNECTIONS_FRESH_MS) return cached.channels;
  const channels = await queryAll(db, { partition: keys.channels(tenantId) }, decodeChannel);
  connectionsCache.set(tenantId, { at: Date.now(), channels });
  return channels;
};

/** The message group of a connection's SKU: its changes are pushed in order, one batch at a time. */
export const pushGroupId = (tenantId: string, channelId: string, skuId: string): string => fifoId(tenantId, channelId, skuId);

/**
 * Routes one stock change to every connection selling from its warehouse. A change that leaves
 * `available` as it was (an incoming or threshold change) publishes nothing new and is not routed.
 */
export const routeStockChange = async (deps: Deps, detail: StockLevelChangedDetail, senders: Record<Platform, QueueSender>): Promise<number> => {
  if (detail.before && detail.before.available === detail.after.available) return 0;
  const channels = (await connectionsOf(deps.db, detail.tenant_id)).filter((channel) => channel.warehouse_ids.includes(detail.warehouse_id));
  for (const channel of channels) {
    const message: PushMessage = {
      tenant_id: detail.tenant_id,
      channel_id: channel.channel_id,
      sku_id: detail.sku_id,
      warehouse_id: detail.warehouse_id,
      version: detail.version,
      changed_at: detail.occurred_at,
    };
    await senders[channel.platform].send([
      {
        body: JSON.stringify(message),
        groupId: pushGroupId(detail.tenant_id, channel.channel_id, detail.sku_id),
        // A redelivered event (the bus is at least once) routes the same change again: SQS drops it.
        deduplicationId: fifoId(detail.tenant_id, channel.channel_id, detail.sku_id, detail.warehouse_id, String(detail.version)),
      },
    ]);
  }
  return channels.length;
};

/** Groups handled at once in one batch (each waits on the connection's pacer, so this bounds waiting work, not the rate). */
const GROUP_CONCURRENCY = 4;
/** Kept back from the function's time for recording outcomes after the last push. */
const DEADLINE_MARGIN_MS = 1_500;

export interface PushWorkerDeps {
  db: Db;
  credentials?: PublishDeps['credentials'];
  sleep?: PublishDeps['sleep'];
  /** Epoch ms the batch must be done by (the Lambda's remaining time less a margin). */
  deadline: number;
  now?: () => Date;
}

interface Group {
  messages: SQSRecord[];
  latest: PushMessage;
}

/** A group ready to push: its connection's session, and what to publish now. */
interface Prepared {
  group: Group;
  session: ChannelSession;
  sessionKey: string;
  deps: PublishDeps;
  quantity: number;
  state: number;
}

/**
 * One batch of a push queue. Messages are grouped by tenant, connection and SKU (FIFO keeps each
 * group's in order); each group is handled once: the latest stock is read and pushed if it differs
 * from what was last pushed. A Shopify connection's SKUs of the batch go in one inventorySetQuantities
 * (pushShopifyMany), an Amazon connection's one patch each. A group that failed in a way a later delivery may fix (the platform
 * down, throttled past the deadline, a 5xx) reports all its messages failed, so SQS delivers them
 * again in order (and, after maxReceives, dead-letters them: the queue's alarm tells operators,
 * and the next reconciliation pushes the latest state anyway). A refusal that would repeat
 * (Amazon INVALID, a Shopify userError) is recorded on the listing and not retried.
 */
export const pushBatch = async (deps: PushWorkerDeps, event: SQSEvent): Promise<SQSBatchResponse> => {
  const failures: string[] = [];
  const groups = new Map<string, Group>();
  for (const record of event.Records) {
    const parsed = pushMessage.safeParse(safeJson(record.body));
    if (!parsed.success) {
      // Unreadable: no later delivery reads it either; dropped with a log line rather than blocking its group.
      log.error('push worker got an unreadable message', { message_id: record.messageId, error: parsed.error.issues.map((i) => i.message).join('; ') });
      continue;
    }
    const key = pushGroupId(parsed.data.tenant_id, parsed.data.channel_id, parsed.data.sku_id);
    const group = groups.get(key);
    if (group) {
      group.messages.push(record);
      group.latest = parsed.data;
    } else groups.set(key, { messages: [record], latest: parsed.data });
  }
  const sessions = new Map<string, Promise<ChannelSession | undefined>>();
  const fail = (group: Group) => failures.push(...group.messages.map((m) => m.messageId));
  // 1. Per group: its connection's session (opened once per connection) and what to publish now.
  const prepared = (
    await mapBounded([...groups.values()], GROUP_CONCURRENCY, async (group): Promise<Prepared | undefined> => {
      const { tenant_id: tenantId, channel_id: channelId, sku_id: skuId } = group.latest;
      const ctx = systemContext({ tenantId, actor: 'system:channel-push', requestId: group.messages[0]?.messageId ?? 'push', ...(deps.now ? { now: deps.now } : {}) });
      const publishDeps: PublishDeps = { db: deps.db, ctx, ...(deps.credentials ? { credentials: deps.credentials } : {}), ...(deps.sleep ? { sleep: deps.sleep } : {}) };
      try {
        const sessionKey = `${tenantId}#${channelId}`;
        let session = sessions.get(sessionKey);
        if (!session) {
          session = openChannel(publishDeps, channelId);
          sessions.set(sessionKey, session);
        }
        const open = await session;
        if (!open) return undefined; // the connection is gone: nothing to push to
        const { quantity, state } = await publishable(publishDeps, open.channel, skuId);
        return { group, session: open, sessionKey, deps: publishDeps, quantity, state };
      } catch (error) {
        log.error('push worker could not prepare a group', { tenant_id: tenantId, channel_id: channelId, sku_id: skuId, error: errorMessage(error) });
        fail(group);
        return undefined;
      }
    })
  ).filter((p): p is Prepared => p !== undefined);
  // 2. Per connection: Shopify sets many SKUs per mutation; Amazon patches one listing per request.
  const outcomes = new Map<Prepared, PushOutcome>();
  const byConnection = new Map<string, Prepared[]>();
  for (const p of prepared) byConnection.set(p.sessionKey, [...(byConnection.get(p.sessionKey) ?? []), p]);
  const deadline = deps.deadline - DEADLINE_MARGIN_MS;
  const reference = (p: Prepared) => `stockroom://tenants/${encodeURIComponent(p.group.latest.tenant_id)}/skus/${encodeURIComponent(p.group.latest.sku_id)}?state=${p.state}`;
  await mapBounded([...byConnection.values()], GROUP_CONCURRENCY, async (list) => {
    const [first] = list;
    if (!first) return;
    try {
      if (first.session.platform === 'shopify') {
        const batchReference = `stockroom://tenants/${encodeURIComponent(first.group.latest.tenant_id)}/channels/${encodeURIComponent(first.group.latest.channel_id)}/push?skus=${list.length}`;
        const results = await pushShopifyMany(first.deps, first.session, list.map((p) => ({ skuId: p.group.latest.sku_id, quantity: p.quantity })), { deadline, reference: list.length === 1 ? reference(first) : batchReference });
        for (const p of list) {
          const outcome = results.get(p.group.latest.sku_id);
          if (outcome) outcomes.set(p, outcome);
        }
      } else {
        await mapBounded(list, GROUP_CONCURRENCY, async (p) => {
          outcomes.set(p, await pushQuantity(p.deps, p.session, p.group.latest.sku_id, p.quantity, { deadline, reference: reference(p) }));
        });
      }
    } catch (error) {
      log.error('push worker failed a connection\'s groups', { tenant_id: first.group.latest.tenant_id, channel_id: first.group.latest.channel_id, error: errorMessage(error) });
      for (const p of list) if (!outcomes.has(p)) fail(p.group);
    }
  });
  // 3. Per group: count it, and give back (for a later delivery) what may succeed then.
  for (const p of prepared) {
    const outcome = outcomes.get(p);
    if (!outcome) continue;
    const { tenant_id: tenantId, channel_id: channelId, sku_id: skuId, changed_at: changedAt } = p.group.latest;
    try {
      const lagMs = outcome.status === 'pushed' ? Math.max(0, Date.now() - Date.parse(changedAt)) : undefined;
      if (lagMs !== undefined) publishMetrics({ SyncLagSeconds: lagMs / 1000 }, [{}, { platform: p.session.platform }]);
      await countPush(p.deps, channelId, outcome, lagMs);
    } catch (error) {
      log.warn('push counters not updated', { tenant_id: tenantId, channel_id: channelId, error: errorMessage(error) });
    }
    if (outcome.status === 'failed') {
      log.warn('push failed', { tenant_id: tenantId, channel_id: channelId, sku_id: skuId, retryable: outcome.retryable, error: outcome.message });
      if (outcome.retryable) fail(p.group);
    }
  }
  const failed = new Set(failures);
  return { batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
};

const openChannel = async (deps: PublishDeps, channelId: string): Promise<ChannelSession | undefined> => {
  const channel = await getItem(deps.db, keys.channel(deps.ctx.caller.tenantId, channelId), decodeChannel);
  return channel ? openSession(deps, channel) : undefined;
};

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
