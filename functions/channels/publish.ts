import type { AdminApiClient } from '@shopify/admin-api-client';
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { levelsOfSku } from '../inventory/stock';
import type { Deps } from '../platform/context';
import { keys } from '../platform/keys';
import { credentialStoreFromEnv, type CredentialStore } from '../platform/secrets';
import { decodeWith, getItem } from '../platform/storage';
import { ConditionFailed, updateItem, when, writeOne } from '../platform/writes';
import { getAvailability, listingsClient, patchAvailability, type ListingsClient } from './amazon/client';
import { readListing, type Listing } from './listings';
import { AMAZON_LISTINGS_BUCKET, Pacer, SHOPIFY_DEFAULT_BUCKET } from './pacer';
import { amazonCredentials, shopifyCredentials } from './schemas';
import { MAX_SET_QUANTITIES, readAvailable, setAvailable, setAvailableMany, shopifyClient, type ShopifyCost } from './shopify/client';
import type { Channel } from './store';

/**
 * Publishing our stock to a channel (issue 11, scope items 3 and 5): what a channel should show for
 * a SKU, reading what it shows, and setting it, paced to the platform's limit. The push worker
 * (push.ts) and reconciliation call these; nothing else talks to a platform about quantities.
 */

/** What a channel is offered: the sum of `available` over the connection's warehouses, less its buffer, floored at 0. */
export const publishedQuantity = (channel: Pick<Channel, 'warehouse_ids' | 'buffer'>, levels: readonly { warehouse_id: string; available: number }[]): number => {
  const selling = new Set(channel.warehouse_ids);
  const available = levels.filter((level) => selling.has(level.warehouse_id)).reduce((sum, level) => sum + Math.max(0, level.available), 0);
  return Math.max(0, available - channel.buffer);
};

/**
 * What we would publish for a SKU now, and the state it comes from: `state` is the sum of the
 * connection's levels' versions, which only grows, so a later change always has a larger one.
 */
export const publishable = async (deps: Deps, channel: Channel, skuId: string): Promise<{ quantity: number; state: number }> => {
  const selling = new Set(channel.warehouse_ids);
  const levels = (await levelsOfSku(deps, skuId)).filter((level) => selling.has(level.warehouse_id));
  return { quantity: publishedQuantity(channel, levels), state: levels.reduce((sum, level) => sum + level.version, 0) };
};

/** A connection's platform client and pacer, made once per batch of work on it. */
export type ChannelSession =
  | { platform: 'shopify'; channel: Channel; client: AdminApiClient; pacer: Pacer }
  | { platform: 'amazon'; channel: Channel; client: ListingsClient; pacer: Pacer; sellerId: string; marketplaceIds: string[] };

export interface PublishDeps extends Deps {
  credentials?: CredentialStore;
  /** Tests shorten waits; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/** Opens a session on a connection with its stored credentials; undefined when none are stored (deleted meanwhile). */
export const openSession = async (deps: PublishDeps, channel: Channel): Promise<ChannelSession | undefined> => {
  const store = deps.credentials ?? credentialStoreFromEnv();
  const secret = await store.get(deps.ctx.caller.tenantId, channel.channel_id);
  if (!secret) return undefined;
  const tenantId = deps.ctx.caller.tenantId;
  if (channel.platform === 'shopify') {
    const credentials = shopifyCredentials.parse(secret);
    return { platform: 'shopify', channel, client: shopifyClient(channel, credentials), pacer: new Pacer(deps.db, tenantId, channel.channel_id, 'shopify-graphql', SHOPIFY_DEFAULT_BUCKET, deps.sleep) };
  }
  const credentials = amazonCredentials.parse(secret);
  return {
    platform: 'amazon',
    channel,
    client: listingsClient(channel, credentials, { marketplaceIds: credentials.marketplace_ids }),
    pacer: new Pacer(deps.db, tenantId, channel.channel_id, 'amazon-listings', AMAZON_LISTINGS_BUCKET, deps.sleep),
    sellerId: credentials.seller_id,
    marketplaceIds: credentials.marketplace_ids,
  };
};

export type PushOutcome =
  /** The channel now shows `quantity` (it showed `previous`; null when unknown). */
  | { status: 'pushed'; quantity: number; previous: number | null; requests: number }
  /** Nothing to do: the channel shows `quantity` already (as far as we know, or as we read it). */
  | { status: 'unchanged'; quantity: number; requests: number }
  /** The SKU has no mapping on this channel (or an ambiguous one): nothing can be pushed. */
  | { status: 'unmapped'; requests: 0 }
  /** Not done; `retryable` says whether a later delivery may succeed (down, throttled, 5xx) or not (refused input). */
  | { status: 'failed'; retryable: boolean; message: string; requests: number };

export type ReadOutcome = { status: 'read'; quantity: number | null; requests: number } | { status: 'unmapped'; requests: 0 } | { status: 'failed'; message: string; requests: number };

const SHOPIFY_SET_COST = 10;
const SHOPIFY_READ_COST = 2;
/** A push re-reads and decides again at most this often when the channel keeps changing under it. */
const MAX_DECISIONS = 3;

const isMapped = (listing: Listing | undefined): listing is Listing =>
  listing?.status === 'mapped' && (listing.platform === 'amazon' ? Boolean(listing.seller_sku && listing.product_type) : Boolean(listing.inventory_item_id && listing.location_id));

/** The shop's bucket as it reported it, into our pacer. */
const observeShopify = async (session: ChannelSession & { platform: 'shopify' }, cost: ShopifyCost | undefined): Promise<void> => {
  const status = cost?.throttleStatus;
  if (status) await session.pacer.observe({ available: status.currentlyAvailable, capacity: status.maximumAvailable, rate: status.restoreRate });
};

/** Seconds until a throttled Shopify request of `requested` points fits again. */
const shopifyWaitSeconds = (cost: ShopifyCost | undefined, requested: number): number => {
  const status = cost?.throttleStatus;
  if (!status || status.restoreRate <= 0) return 1;
  return Math.max(0.05, (requested - status.currentlyAvailable) / status.restoreRate);
};

/** Reads the quantity a channel shows for a SKU (reconciliation's view of the channel). */
export const readChannelQuantity = async (deps: PublishDeps, session: ChannelSession, skuId: string, deadline: number): Promise<ReadOutcome> => {
  const listing = await readListing(deps, session.channel.channel_id, skuId);
  if (!isMapped(listing)) return { status: 'unmapped', requests: 0 };
  return readMapped(session, listing, deadline);
};

const readMapped = async (session: ChannelSession, listing: Listing, deadline: number): Promise<ReadOutcome> => {
  let requests = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (session.platform === 'shopify') {
      if (!(await session.pacer.take(SHOPIFY_READ_COST, deadline))) return { status: 'failed', message: 'rate limit: no time left to read', requests };
      requests += 1;
      const read = await readAvailable(session.client, listing.inventory_item_id ?? '', listing.location_id ?? '');
      await observeShopify(session, read.cost);
      if (read.status === 'found') return { status: 'read', quantity: read.quantity, requests };
      if (read.status === 'not_found') return { status: 'read', quantity: null, requests };
      if (read.status === 'throttled') {
        await session.pacer.exhaust(shopifyWaitSeconds(read.cost, SHOPIFY_READ_COST));
        continue;
      }
      return { status: 'failed', message: read.message, requests };
    }
    if (!(await session.pacer.take(1, deadline))) return { status: 'failed', message: 'rate limit: no time left to read', requests };
    requests += 1;
    const read = await getAvailability(session.client, { sellerId: session.sellerId, sku: listing.seller_sku ?? listing.sku_id, marketplaceIds: session.marketplaceIds });
    if (read.status === 'found') return { status: 'read', quantity: read.quantity, requests };
    if (read.status === 'not_found') return { status: 'read', quantity: null, requests };
    if (read.status === 'throttled') {
      await session.pacer.exhaust(read.rateLimit ? 1 / read.rateLimit : 1);
      continue;
    }
    return { status: 'failed', message: read.message, requests };
  }
  return { status: 'failed', message: 'throttled on every attempt', requests };
};

/** The key Shopify dedupes a mutation by: the same decision (target, quantity, compared-from) gets the same key, a new decision a new one. */
const shopifyIdempotencyKey = (tenantId: string, listing: Listing, quantity: number, changeFrom: number | null): string =>
  createHash('sha256').update(JSON.stringify([tenantId, listing.channel_id, listing.inventory_item_id, listing.location_id, quantity, changeFrom])).digest('hex').slice(0, 40);

/** Records on the listing what the push did (under the mapping's version: a mapping changed meanwhile keeps its own state). */
export const recordOnListing = async (deps: Deps, listing: Listing, changes: { pushed?: number; seen?: number | null; error?: string | null }): Promise<void> => {
  const now = deps.ctx.now().toISOString();
  const set: Record<string, unknown> = {};
  if (changes.pushed !== undefined) Object.assign(set, { last_pushed_quantity: changes.pushed, last_pushed_at: now });
  if (changes.seen !== undefined) set.last_seen_quantity = changes.seen;
  if (changes.error !== undefined && changes.error !== null) set.last_push_error = changes.error;
  try {
    await writeOne(
      deps.db,
      updateItem(deps.db, {
        name: 'listing push state',
        key: keys.listing(deps.ctx.caller.tenantId, listing.channel_id, listing.sku_id),
        set,
        ...(changes.error === null ? { remove: ['last_push_error'] } : {}),
        when: when.versionIs(listing.version),
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionFailed)) throw error;
  }
};

export interface PushOptions {
  /** Push even when the listing says the channel already shows it (reconciliation found it does not). */
  force?: boolean;
  /** What the channel was just read to show (reconciliation), the compare-and-swap basis. */
  seen?: number | null;
  /** Epoch ms: pacing waits that would end after it give up (retryable). */
  deadline: number;
  /** Where the quantity comes from, for the channel's own history (Shopify's referenceDocumentUri). */
  reference: string;
}

/**
 * Makes the channel show `quantity` for a SKU. Skipped when the listing's last pushed quantity is
 * already it (a burst of changes that ends where it started pushes nothing), unless forced.
 * - Shopify: `inventorySetQuantities` comparing from the quantity last seen there (read first
 *   when unknown); CHANGE_FROM_QUANTITY_STALE re-reads and decides again; THROTTLED waits as the
 *   shop's bucket says and tries again; each decision has its own @idempotent key, a retry of
 *   the same decision the same key, so a retried message never applies twice.
 * - Amazon: a `fulfillment_availability` merge patch, paced to 5 a second, 429 backs off.
 */
export const pushQuantity = async (deps: PublishDeps, session: ChannelSession, skuId: string, quantity: number, options: PushOptions): Promise<PushOutcome> => {
  const listing = await readListing(deps, session.channel.channel_id, skuId);
  if (!isMapped(listing)) return { status: 'unmapped', requests: 0 };
  if (!options.force && listing.last_pushed_quantity === quantity && !listing.last_push_error) return { status: 'unchanged', quantity, requests: 0 };
  const outcome = session.platform === 'shopify' ? await pushShopify(deps, session, listing, quantity, options) : await pushAmazon(session, listing, quantity, options);
  if (outcome.status === 'pushed') await recordOnListing(deps, listing, { pushed: quantity, seen: quantity, error: null });
  else if (outcome.status === 'unchanged') await recordOnListing(deps, listing, { pushed: quantity, seen: quantity, error: null });
  else if (outcome.status === 'failed') await recordOnListing(deps, listing, { error: outcome.message });
  return outcome;
};

const pushShopify = async (deps: Deps, session: ChannelSession & { platform: 'shopify' }, listing: Listing, quantity: number, options: PushOptions): Promise<PushOutcome> => {
  let requests = 0;
  let changeFrom: number | null | undefined = options.seen !== undefined ? options.seen : listing.last_seen_quantity;
  let decisions = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    if (changeFrom === undefined || changeFrom === null) {
      const read = await readMapped(session, listing, options.deadline);
      requests += read.requests;
      if (read.status !== 'read') return { status: 'failed', retryable: true, message: read.status === 'failed' ? read.message : 'unmapped', requests };
      if (read.quantity === null) return { status: 'failed', retryable: false, message: 'the inventory item is not stocked at that location on the shop', requests };
      if (read.quantity === quantity) return { status: 'unchanged', quantity, requests };
      changeFrom = read.quantity;
    }
    if (!(await session.pacer.take(SHOPIFY_SET_COST, options.deadline))) return { status: 'failed', retryable: true, message: 'rate limit: no time left in this delivery', requests };
    requests += 1;
    const outcome = await setAvailable(session.client, {
      inventoryItemId: listing.inventory_item_id ?? '',
      locationId: listing.location_id ?? '',
      quantity,
      changeFromQuantity: changeFrom,
      idempotencyKey: shopifyIdempotencyKey(deps.ctx.caller.tenantId, listing, quantity, changeFrom),
      reason: 'correction',
      referenceDocumentUri: options.reference,
    });
    await observeShopify(session, outcome.cost);
    switch (outcome.status) {
      case 'applied':
        return { status: 'pushed', quantity, previous: changeFrom, requests };
      case 'stale':
        // Someone changed it on the shop since we last saw it: read it and decide again (a bounded number of times).
        decisions += 1;
        if (decisions >= MAX_DECISIONS) return { status: 'failed', retryable: true, message: 'the quantity on the shop kept changing', requests };
        changeFrom = undefined;
        continue;
      case 'throttled':
        await session.pacer.exhaust(shopifyWaitSeconds(outcome.cost, SHOPIFY_SET_COST));
        continue;
      case 'error': {
        // Refused input (userErrors) will be refused again; a 5xx or no answer may pass later.
        const retryable = outcome.userErrors === undefined || outcome.userErrors.length === 0;
        return { status: 'failed', retryable, message: outcome.message, requests };
      }
    }
  }
  return { status: 'failed', retryable: true, message: 'throttled on every attempt', requests };
};

const pushAmazon = async (session: ChannelSession & { platform: 'amazon' }, listing: Listing, quantity: number, options: PushOptions): Promise<PushOutcome> => {
  let requests = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (!(await session.pacer.take(1, options.deadline))) return { status: 'failed', retryable: true, message: 'rate limit: no time left in this delivery', requests };
    requests += 1;
    const outcome = await patchAvailability(session.client, {
      sellerId: session.sellerId,
      sku: listing.seller_sku ?? listing.sku_id,
      marketplaceIds: session.marketplaceIds,
      productType: listing.product_type ?? '',
      quantity,
    });
    switch (outcome.status) {
      case 'accepted':
        return { status: 'pushed', quantity, previous: listing.last_seen_quantity ?? null, requests };
      case 'invalid':
        return { status: 'failed', retryable: false, message: `Amazon refused the patch: ${outcome.issues.map((issue) => issue.code).join(', ') || 'INVALID'}`, requests };
      case 'throttled':
        // x-amzn-RateLimit-Limit, when sent, is the rate in requests a second: wait one request's worth.
        await session.pacer.exhaust(outcome.rateLimit && outcome.rateLimit > 0 ? 1 / outcome.rateLimit : 1);
        continue;
      case 'error':
        return { status: 'failed', retryable: outcome.httpStatus === undefined || outcome.httpStatus >= 500 || outcome.httpStatus === 408, message: outcome.message, requests };
    }
  }
  return { status: 'failed', retryable: true, message: 'throttled on every attempt', requests };
};

// ---------------------------------------------------------------------------------------------
// Per connection: what the pushes did (the channel status reads it)

export const pushStats = z
  .object({
    pushes: z.number().int().default(0),
    unchanged: z.number().int().default(0),
    failed: z.number().int().default(0),
    requests: z.number().int().default(0),
    last_push_at: z.string().optional(),
    /** From the stock change to the channel showing it, of the last push. */
    last_lag_ms: z.number().optional(),
    last_error: z.string().optional(),
    last_error_at: z.string().optional(),
  })
  .loose();
export type PushStats = z.output<typeof pushStats>;
const decodePushStats = decodeWith('push stats', pushStats);
const pushStatsKey = (tenantId: string, channelId: string) => ({ pk: keys.channelRecords(tenantId, channelId, 'PUSH'), sk: 'STATS' });

export const readPushStats = async (deps: Deps, channelId: string): Promise<PushStats> =>
  (await getItem(deps.db, pushStatsKey(deps.ctx.caller.tenantId, channelId), decodePushStats)) ?? pushStats.parse({});

/** Counts one outcome into the connection's stats (ADD: no read, no conflict between workers). */
export const countPush = async (deps: Deps, channelId: string, outcome: PushOutcome, lagMs?: number): Promise<void> => {
  if (outcome.status === 'unmapped') return;
  const now = deps.ctx.now().toISOString();
  const counter = outcome.status === 'pushed' ? 'pushes' : outcome.status === 'unchanged' ? 'unchanged' : 'failed';
  await writeOne(
    deps.db,
    updateItem(deps.db, {
      name: 'push stats',
      key: pushStatsKey(deps.ctx.caller.tenantId, channelId),
      add: { [counter]: 1, requests: outcome.requests },
      set: {
        entity: 'channel-push-stats',
        tenant_id: deps.ctx.caller.tenantId,
        ...(outcome.status === 'pushed' ? { last_push_at: now, ...(lagMs === undefined ? {} : { last_lag_ms: lagMs }) } : {}),
        ...(outcome.status === 'failed' ? { last_error: outcome.message, last_error_at: now } : {}),
      },
    }),
  );
};

// ---------------------------------------------------------------------------------------------
// Several SKUs of one Shopify connection at once

export interface BatchItem {
  skuId: string;
  quantity: number;
}

/**
 * Makes a Shopify connection show each item's quantity, several per `inventorySetQuantities`
 * (up to MAX_SET_QUANTITIES for one request's cost: a shop's bucket restores 100 points a second,
 * about 10 mutations, so one SKU per mutation caps a shop at ~10 SKUs a second). What `pushQuantity`
 * does for one item holds for each: skipped when already pushed; compared from the quantity last
 * seen; the same decision retried under the same @idempotent key. The mutation is all or nothing, so
 * when it comes back STALE or with a userError, every item of it is pushed again on its own, which
 * re-reads and decides the stale one again and isolates a refused one. An item whose quantity on the
 * shop was never seen goes on its own too (it must be read first).
 */
export const pushShopifyMany = async (
  deps: PublishDeps,
  session: ChannelSession & { platform: 'shopify' },
  items: readonly BatchItem[],
  options: Omit<PushOptions, 'force' | 'seen'>,
): Promise<Map<string, PushOutcome>> => {
  const results = new Map<string, PushOutcome>();
  const ready: { item: BatchItem; listing: Listing; changeFrom: number }[] = [];
  for (const item of items) {
    const listing = await readListing(deps, session.channel.channel_id, item.skuId);
    if (!isMapped(listing)) results.set(item.skuId, { status: 'unmapped', requests: 0 });
    else if (listing.last_pushed_quantity === item.quantity && !listing.last_push_error) results.set(item.skuId, { status: 'unchanged', quantity: item.quantity, requests: 0 });
    else if (listing.last_seen_quantity === null || listing.last_seen_quantity === undefined) results.set(item.skuId, await pushQuantity(deps, session, item.skuId, item.quantity, options));
    else ready.push({ item, listing, changeFrom: listing.last_seen_quantity });
  }
  const chunks: (typeof ready)[] = [];
  for (let at = 0; at < ready.length; at += MAX_SET_QUANTITIES) chunks.push(ready.slice(at, at + MAX_SET_QUANTITIES));
  for (let chunk = chunks.shift(); chunk !== undefined; chunk = chunks.shift()) {
    const pending = chunk;
    const alone = async (some: typeof pending) => {
      for (const { item } of some) results.set(item.skuId, await pushQuantity(deps, session, item.skuId, item.quantity, options));
    };
    if (pending.length === 1) {
      await alone(pending);
      continue;
    }
    const outcome = await setChunk(deps, session, pending, options);
    if (outcome.status === 'applied') {
      for (const [index, { item, listing, changeFrom }] of pending.entries()) {
        await recordOnListing(deps, listing, { pushed: item.quantity, seen: item.quantity, error: null });
        // The one request is counted on the first item.
        results.set(item.skuId, { status: 'pushed', quantity: item.quantity, previous: changeFrom, requests: index === 0 ? outcome.requests : 0 });
      }
    } else if (outcome.status === 'redo') {
      // The items the userErrors name go alone (re-read, decided again, or refused on their own); the rest go again together.
      const named = new Set(outcome.indexes);
      const stale = pending.filter((_, index) => named.has(index));
      const rest = pending.filter((_, index) => !named.has(index));
      if (stale.length === 0 || rest.length === 0) await alone(pending);
      else {
        await alone(stale);
        chunks.unshift(rest);
      }
    } else {
      for (const [index, { item, listing }] of pending.entries()) {
        await recordOnListing(deps, listing, { error: outcome.message });
        results.set(item.skuId, { status: 'failed', retryable: true, message: outcome.message, requests: index === 0 ? outcome.requests : 0 });
      }
    }
  }
  return results;
};

type ChunkOutcome =
  | { status: 'applied'; requests: number }
  /** Nothing applied: `indexes` are the quantities the userErrors name (`field: ["input", "quantities", "<i>", ...]`). */
  | { status: 'redo'; indexes: number[]; requests: number }
  | { status: 'failed'; message: string; requests: number };

const namedIndexes = (userErrors: readonly { field: string[] | null }[] | undefined): number[] =>
  (userErrors ?? []).flatMap((e) => (e.field?.[0] === 'input' && e.field[1] === 'quantities' && /^\d+$/.test(e.field[2] ?? '') ? [Number(e.field[2])] : []));

const setChunk = async (
  deps: Deps,
  session: ChannelSession & { platform: 'shopify' },
  chunk: readonly { item: BatchItem; listing: Listing; changeFrom: number }[],
  options: Omit<PushOptions, 'force' | 'seen'>,
): Promise<ChunkOutcome> => {
  const quantities = chunk.map(({ item, listing, changeFrom }) => ({ inventoryItemId: listing.inventory_item_id ?? '', locationId: listing.location_id ?? '', quantity: item.quantity, changeFromQuantity: changeFrom }));
  const idempotencyKey = createHash('sha256').update(JSON.stringify([deps.ctx.caller.tenantId, session.channel.channel_id, quantities])).digest('hex').slice(0, 40);
  let requests = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    if (!(await session.pacer.take(SHOPIFY_SET_COST, options.deadline))) return { status: 'failed', message: 'rate limit: no time left in this delivery', requests };
    requests += 1;
    const outcome = await setAvailableMany(session.client, { quantities, idempotencyKey, reason: 'correction', referenceDocumentUri: options.reference });
    await observeShopify(session, outcome.cost);
    if (outcome.status === 'applied') return { status: 'applied', requests };
    if (outcome.status === 'throttled') {
      await session.pacer.exhaust(shopifyWaitSeconds(outcome.cost, SHOPIFY_SET_COST));
      continue;
    }
    if (outcome.status === 'stale' || (outcome.userErrors !== undefined && outcome.userErrors.length > 0)) return { status: 'redo', indexes: namedIndexes(outcome.userErrors), requests };
    return { status: 'failed', message: outcome.message, requests };
  }
  return { status: 'failed', message: 'throttled on every attempt', requests };
};
