import * as z from 'zod';
import type { Deps } from '../platform/context';
import { keys } from '../platform/keys';
import { mapBounded } from '../platform/pool';
import { decodeWith, queryPage } from '../platform/storage';
import { inboundPage, type InboundRecord } from './inbound';
import type { ChannelStatus } from './integration-schemas';
import { mappedListingsPage } from './listings';
import { readPushStats } from './publish';
import { tenantChannels } from './reconcile';
import { recentReconciliations } from './reconcile-store';
import type { Channel } from './store';

/**
 * GET /api/integration/status: per connection of the caller's tenant, how its sync stands: the
 * pushes (publish.ts's counters), what waits for a push, the inbound orders that failed, the
 * Amazon order poll's checkpoint, and the reconciliations. Each part is a bounded read: the
 * listings and inbound orders are counted up to a limit (`truncated` says it was reached), since
 * neither keeps a running count yet.
 */

/** Listings read per connection to count those awaiting a push (4 pages of 500). */
const LISTING_PAGES = 4;
const LISTING_PAGE = 500;
/** Inbound orders read per connection to count the failed ones (10 pages of 100). */
const INBOUND_PAGES = 10;
const SHOWN = { skus: 10, orders: 5 };

const listingsAwaitingPush = async (deps: Deps, channelId: string): Promise<ChannelStatus['queue_depth']> => {
  const skuIds: string[] = [];
  let count = 0;
  let cursor: string | undefined;
  for (let page = 0; page < LISTING_PAGES; page++) {
    const read = await mappedListingsPage(deps, channelId, { cursor, limit: LISTING_PAGE });
    for (const listing of read.items) {
      if (!listing.last_push_error) continue;
      count += 1;
      if (skuIds.length < SHOWN.skus) skuIds.push(listing.sku_id);
    }
    cursor = read.next_cursor ?? undefined;
    if (!cursor) break;
  }
  return { listings_awaiting_push: count, truncated: cursor !== undefined, sku_ids: skuIds };
};

const failedInboundOrders = async (deps: Deps, channelId: string): Promise<ChannelStatus['failed_inbound_orders']> => {
  const failed: InboundRecord[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < INBOUND_PAGES; page++) {
    const read = await inboundPage(deps, channelId, cursor);
    failed.push(...read.items.filter((order) => order.status === 'failed'));
    cursor = read.next_cursor ?? undefined;
    if (!cursor) break;
  }
  const latest = [...failed].sort((a, b) => b.updated_at.localeCompare(a.updated_at)).slice(0, SHOWN.orders);
  return {
    count: failed.length,
    truncated: cursor !== undefined,
    latest: latest.map((order) => ({ external_id: order.external_id, order_id: order.order_id, error_code: order.error_code ?? null, reason: order.reason ?? null, updated_at: order.updated_at })),
  };
};

// Written by the Amazon order poll, whose shape is its own: shown as it is, storage attributes aside.
const decodeCheckpoint = decodeWith('order poll checkpoint', z.record(z.string(), z.unknown()));

const orderPoll = async (deps: Deps, channel: Channel): Promise<Record<string, unknown> | null> => {
  if (channel.platform !== 'amazon') return null;
  const page = await queryPage(deps.db, { partition: keys.channelRecords(deps.ctx.caller.tenantId, channel.channel_id, 'POLL'), newestFirst: true, limit: 1 }, decodeCheckpoint);
  return page.items[0] ?? null;
};

const reconciliationsOf = async (deps: Deps, channelId: string): Promise<Pick<ChannelStatus, 'last_reconciliation' | 'reconciliation_in_progress'>> => {
  const { items } = await recentReconciliations(deps, channelId, 10);
  const [newest] = items;
  const finished = items.find((run) => run.status === 'done' || run.status === 'failed');
  const inProgress = newest && (newest.status === 'requested' || newest.status === 'running') ? newest : undefined;
  return {
    last_reconciliation: finished
      ? {
          reconciliation_id: finished.reconciliation_id,
          status: finished.status,
          trigger: finished.trigger,
          requested_at: finished.requested_at,
          completed_at: finished.completed_at ?? null,
          drifted: finished.drifted,
          total_abs_difference: finished.total_abs_difference,
          summary: {
            checked: finished.checked,
            in_agreement: finished.in_agreement,
            drifted: finished.drifted,
            total_abs_difference: finished.total_abs_difference,
            pushed: finished.pushed,
            adjusted: finished.adjusted,
            reported: finished.reported,
            failed: finished.failed,
            skipped: finished.skipped,
          },
        }
      : null,
    reconciliation_in_progress: inProgress ? { reconciliation_id: inProgress.reconciliation_id, status: inProgress.status, requested_at: inProgress.requested_at } : null,
  };
};

const statusOf = async (deps: Deps, channel: Channel): Promise<ChannelStatus> => {
  const [stats, queueDepth, inbound, poll, reconciliations] = await Promise.all([
    readPushStats(deps, channel.channel_id),
    listingsAwaitingPush(deps, channel.channel_id),
    failedInboundOrders(deps, channel.channel_id),
    orderPoll(deps, channel),
    reconciliationsOf(deps, channel.channel_id),
  ]);
  return {
    channel_id: channel.channel_id,
    platform: channel.platform,
    conflict_rule: channel.conflict_rule,
    last_push_at: stats.last_push_at ?? null,
    sync_lag_ms: stats.last_lag_ms ?? null,
    pushes: { pushed: stats.pushes, unchanged: stats.unchanged, failed: stats.failed, last_error: stats.last_error ?? null, last_error_at: stats.last_error_at ?? null },
    queue_depth: queueDepth,
    failed_inbound_orders: inbound,
    order_poll: poll,
    ...reconciliations,
  };
};

export const integrationStatus = async (deps: Deps): Promise<{ as_of: string; channels: ChannelStatus[] }> => {
  const asOf = deps.ctx.now().toISOString();
  const channels = await tenantChannels(deps);
  return { as_of: asOf, channels: await mapBounded(channels, 4, (channel) => statusOf(deps, channel)) };
};
