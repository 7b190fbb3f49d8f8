import type { z } from 'zod';
import { existingCatalogIds, listSkus } from '../inventory/catalog';
import type { Deps } from '../platform/context';
import { AppError, keptChanging, notFound, validationFailed } from '../platform/errors';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import { RARE_CONFLICT, RetriesExhausted, retrying } from '../platform/retry';
import { credentialStoreFromEnv, type CredentialStore } from '../platform/secrets';
import { batchGet, decodeWith, getItem, queryAll, queryPage, type Page } from '../platform/storage';
import { definedOnly } from '../platform/values';
import { ConditionFailed, putItem, when, writeOne } from '../platform/writes';
import { readChannel } from './connections';
import { findVariantsBySku, shopifyClient, type FindVariantsOutcome } from './shopify/client';
import {
  amazonListingBody,
  discoverListingsResponse,
  listingResponse,
  MAX_DISCOVER_SKUS,
  shopifyCredentials,
  shopifyListingBody,
  type DiscoverListingsInput,
  type PutListingInput,
} from './schemas';
import type { Channel } from './store';

/**
 * The listing map (issue 11, scope item 2): per connection and SKU, what the channel calls it.
 * Shopify: the inventory item and the location pushed to; Amazon: the seller SKU and product type.
 * An item per channel x SKU (keys.listing), versioned; `source` says whether discovery or a person
 * set it, and discovery never overwrites a manual mapping. Nothing is guessed: several candidates
 * are `ambiguous`, none `unmapped`, and both are reported.
 */
export type Listing = z.output<typeof listingResponse>;
type DiscoveryResult = z.output<typeof discoverListingsResponse>['results'][number];

export interface ListingDeps extends Deps {
  credentials?: CredentialStore;
}

const decodeListing = decodeWith('listing', listingResponse.loose());

const listingWrite = (deps: Deps, listing: Listing, previousVersion: number | undefined) =>
  putItem(deps.db, {
    name: 'listing',
    key: keys.listing(deps.ctx.caller.tenantId, listing.channel_id, listing.sku_id),
    entity: 'listing',
    tenantId: deps.ctx.caller.tenantId,
    value: listing,
    when: when.newOrVersion(previousVersion),
  });

/** What pushes recorded on a listing (functions/channels/publish.ts), kept while its target stays the same: a new target starts unpushed. */
const pushStateOf = (listing: Listing): Pick<Listing, 'last_pushed_quantity' | 'last_pushed_at' | 'last_seen_quantity' | 'last_push_error'> =>
  definedOnly({
    last_pushed_quantity: listing.last_pushed_quantity,
    last_pushed_at: listing.last_pushed_at,
    last_seen_quantity: listing.last_seen_quantity,
    last_push_error: listing.last_push_error,
  });

export const readListing = (deps: Deps, channelId: string, skuId: string): Promise<Listing | undefined> =>
  getItem(deps.db, keys.listing(deps.ctx.caller.tenantId, channelId, skuId), decodeListing);

/** A page of a connection's mapped listings, by SKU id (reconciliation walks them chunk by chunk). */
export const mappedListingsPage = (deps: Deps, channelId: string, page: { cursor?: string; limit: number }): Promise<Page<Listing>> =>
  queryPage(
    deps.db,
    { partition: keys.listings(deps.ctx.caller.tenantId, channelId), filter: when.equals('status', 'mapped'), cursor: page.cursor, limit: page.limit, maxReads: 5 },
    decodeListing,
  );

/**
 * Writes `plan(current)` under the version it read (re-read on a conflict). `plan` answers
 * undefined to leave the item alone (a manual mapping discovery must not touch).
 */
const rewrite = async (deps: Deps, channelId: string, skuId: string, plan: (current: Listing | undefined) => Listing | undefined): Promise<{ listing: Listing | undefined; kept: boolean }> => {
  try {
    return await retrying<{ listing: Listing | undefined; kept: boolean }, undefined>(RARE_CONFLICT, async () => {
      const current = await readListing(deps, channelId, skuId);
      const next = plan(current);
      if (!next) return { done: { listing: current, kept: true } };
      try {
        await writeOne(deps.db, listingWrite(deps, next, current?.version));
        return { done: { listing: next, kept: false } };
      } catch (error) {
        if (error instanceof ConditionFailed) return { retry: undefined };
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof RetriesExhausted) throw keptChanging(error.attempts);
    throw error;
  }
};

const requireSku = async (deps: Deps, skuIds: readonly string[]): Promise<void> => {
  const found = await existingCatalogIds(deps, { skuIds, warehouseIds: [] });
  const missing = skuIds.find((id) => !found.skuIds.has(id));
  if (missing !== undefined) throw notFound('sku', missing);
};

// ---------------------------------------------------------------------------------------------
// GET /api/channels/{channel_id}/listings

/**
 * One page of the tenant's SKUs with their mapping on this channel: the stored mappings, and the
 * SKUs that have none (or an unmapped one) or an ambiguous one, named so nobody has to guess.
 */
export const listListings = async (deps: Deps, channelId: string, query: { cursor?: string; limit?: number }) => {
  const channel = await readChannel(deps, channelId);
  const page = await listSkus(deps, { cursor: query.cursor, limit: query.limit });
  const skuIds = page.skus.map((s) => s.sku_id);
  const stored = await batchGet(deps.db, skuIds.map((id) => keys.listing(deps.ctx.caller.tenantId, channelId, id)), decodeListing);
  const bySku = new Map(stored.map((l) => [l.sku_id, l]));
  const listings = skuIds.flatMap((id) => {
    const found = bySku.get(id);
    return found ? [found] : [];
  });
  return {
    channel_id: channel.channel_id,
    platform: channel.platform,
    listings,
    unmapped_sku_ids: skuIds.filter((id) => (bySku.get(id)?.status ?? 'unmapped') === 'unmapped'),
    ambiguous_sku_ids: skuIds.filter((id) => bySku.get(id)?.status === 'ambiguous'),
    next_cursor: page.next_cursor,
  };
};

// ---------------------------------------------------------------------------------------------
// PUT /api/channels/{channel_id}/listings/{sku_id}

/**
 * A mapping set by hand, in the shape of the channel's platform (400 otherwise): status mapped,
 * source manual. The last pushed quantity is kept when the same target is set again.
 */
export const putListing = async (deps: Deps, channelId: string, skuId: string, input: PutListingInput): Promise<Listing> => {
  const channel = await readChannel(deps, channelId);
  await requireSku(deps, [skuId]);
  const shape = channel.platform === 'shopify' ? shopifyListingBody : amazonListingBody;
  const parsed = shape.safeParse(input);
  if (!parsed.success) {
    const fields = channel.platform === 'shopify' ? 'inventory_item_id and location_id (Shopify global ids)' : 'product_type and optionally seller_sku';
    throw validationFailed([{ path: '', message: `a ${channel.platform} channel's listing takes ${fields}` }]);
  }
  const target =
    channel.platform === 'shopify'
      ? { inventory_item_id: (input as z.output<typeof shopifyListingBody>).inventory_item_id, location_id: (input as z.output<typeof shopifyListingBody>).location_id }
      : { seller_sku: (input as z.output<typeof amazonListingBody>).seller_sku ?? skuId, product_type: (input as z.output<typeof amazonListingBody>).product_type };
  const { listing } = await rewrite(deps, channelId, skuId, (current) => {
    const sameTarget = current !== undefined && Object.entries(target).every(([k, v]) => (current as Record<string, unknown>)[k] === v);
    return {
      channel_id: channelId,
      sku_id: skuId,
      platform: channel.platform,
      status: 'mapped',
      source: 'manual',
      ...target,
      ...(sameTarget ? pushStateOf(current) : { last_pushed_quantity: null }),
      updated_at: deps.ctx.now().toISOString(),
      version: (current?.version ?? 0) + 1,
    };
  });
  if (!listing) throw new Error('a manual mapping was planned but not written');
  return listing;
};

// ---------------------------------------------------------------------------------------------
// POST /api/channels/{channel_id}/listings/discover

/** What a lookup found, as the listing discovery stores (mapped, unmapped or ambiguous). */
const discovered = (channel: Channel, skuId: string, outcome: FindVariantsOutcome & { status: 'mapped' | 'unmapped' | 'ambiguous' }): Omit<Listing, 'last_pushed_quantity' | 'updated_at' | 'version'> => {
  const base = { channel_id: channel.channel_id, sku_id: skuId, platform: channel.platform, source: 'discovered' as const };
  if (outcome.status === 'unmapped') return { ...base, status: 'unmapped', inventory_item_id: null, location_id: null, detail: 'no Shopify variant has exactly this SKU' };
  if (outcome.status === 'ambiguous') {
    return {
      ...base,
      status: 'ambiguous',
      inventory_item_id: null,
      location_id: null,
      candidate_inventory_item_ids: outcome.variants.map((v) => v.inventoryItemId),
      detail: 'several Shopify variants have exactly this SKU: set inventory_item_id and location_id by hand',
    };
  }
  const { variant } = outcome;
  const [only, ...others] = variant.levels;
  if (!only) return { ...base, status: 'unmapped', inventory_item_id: variant.inventoryItemId, location_id: null, detail: 'the variant is stocked at no location' };
  if (others.length > 0) {
    return {
      ...base,
      status: 'ambiguous',
      inventory_item_id: variant.inventoryItemId,
      location_id: null,
      candidate_location_ids: variant.levels.map((l) => l.locationId),
      detail: 'the variant is stocked at several locations: set location_id by hand',
    };
  }
  return { ...base, status: 'mapped', inventory_item_id: variant.inventoryItemId, location_id: only.locationId };
};

/** Time kept back from the request's deadline: discovery answers what it did rather than time out. */
const DEADLINE_RESERVE_MS = 3_000;

/**
 * Looks the SKUs up on the channel's Shopify store by exact SKU and stores what it found, never
 * over a manual mapping. The platform's failures are per-SKU outcomes, never a 500; it stops early
 * (the rest `skipped`) when throttled, when the store cannot be reached or refuses the
 * credentials, or near the request's deadline. Amazon has no discovery here (400).
 */
export const discoverListings = async (deps: ListingDeps, channelId: string, input: DiscoverListingsInput): Promise<z.output<typeof discoverListingsResponse>> => {
  const { ctx, credentials = credentialStoreFromEnv() } = deps;
  const channel = await readChannel(deps, channelId);
  if (channel.platform !== 'shopify') {
    throw validationFailed([{ path: 'channel_id', message: 'is an Amazon channel' }], 'discovery is Shopify only; set seller_sku and product_type by hand (PUT /api/channels/{channel_id}/listings/{sku_id})');
  }
  let skuIds: string[];
  let truncated = false;
  if (input.sku_ids) {
    await requireSku(deps, input.sku_ids);
    skuIds = input.sku_ids;
  } else {
    const page = await listSkus(deps, { limit: MAX_DISCOVER_SKUS });
    skuIds = page.skus.map((s) => s.sku_id);
    truncated = page.next_cursor !== null;
  }
  const stored = shopifyCredentials.safeParse(await credentials.get(ctx.caller.tenantId, channelId));
  if (!stored.success) {
    // Names only: neither the parse issues (which could quote a value) nor the secret are logged.
    log.error('a channel has no readable stored credentials', { tenant_id: ctx.caller.tenantId, channel_id: channelId });
    throw new AppError('CONFLICT', 'the channel has no usable stored credentials: replace them with PATCH /api/channels/{channel_id}', { channel_id: channelId });
  }
  const client = shopifyClient(channel, stored.data);
  const results: DiscoveryResult[] = [];
  let stopped: string | null = null;
  for (const skuId of skuIds) {
    if (stopped) {
      results.push({ sku_id: skuId, outcome: 'skipped', detail: `not attempted: ${stopped}` });
      continue;
    }
    if (ctx.deadline !== undefined && Date.now() > ctx.deadline - DEADLINE_RESERVE_MS) {
      stopped = 'the request ran out of time; discover the skipped SKUs again';
      results.push({ sku_id: skuId, outcome: 'skipped', detail: `not attempted: ${stopped}` });
      continue;
    }
    let outcome: FindVariantsOutcome;
    try {
      outcome = await findVariantsBySku(client, skuId);
    } catch {
      // The SDK's own error could carry the request; only a fixed message leaves here.
      outcome = { status: 'error', message: 'the store could not be reached' };
    }
    if (outcome.status === 'throttled') {
      stopped = 'Shopify throttled the lookups; retry later';
      results.push({ sku_id: skuId, outcome: 'throttled', detail: 'Shopify answered THROTTLED; nothing stored' });
      continue;
    }
    if (outcome.status === 'error') {
      const status = outcome.httpStatus;
      if (status === undefined || status === 401 || status === 403) stopped = status === undefined ? 'the store could not be reached' : `the store refused the stored credentials (HTTP ${status})`;
      results.push({ sku_id: skuId, outcome: 'error', detail: `${status === undefined ? '' : `HTTP ${status}: `}${outcome.message}; nothing stored` });
      continue;
    }
    if (outcome.status !== 'mapped' && outcome.status !== 'unmapped' && outcome.status !== 'ambiguous') continue;
    const found = discovered(channel, skuId, outcome);
    const { listing, kept } = await rewrite(deps, channelId, skuId, (current) =>
      current?.source === 'manual'
        ? undefined
        : definedOnly({
            ...found,
            ...(current && current.inventory_item_id === found.inventory_item_id && current.location_id === found.location_id ? pushStateOf(current) : { last_pushed_quantity: null }),
            updated_at: ctx.now().toISOString(),
            version: (current?.version ?? 0) + 1,
          }),
    );
    results.push(
      kept
        ? { sku_id: skuId, outcome: 'kept_manual', detail: `Shopify found it ${found.status}; the manual mapping was kept`, ...(listing ? { listing } : {}) }
        : { sku_id: skuId, outcome: found.status, ...(listing ? { listing } : {}) },
    );
  }
  return { channel_id: channelId, truncated, stopped, results };
};

// ---------------------------------------------------------------------------------------------
// Reads for the inbound paths (functions/channels/webhooks.ts)

/**
 * Of these SKU ids, the ones with a `mapped` listing on the channel: an inbound order's lines are
 * ours only through the listing map, never by a SKU string that merely happens to match.
 */
export const mappedSkuIds = async (deps: Deps, channelId: string, skuIds: readonly string[]): Promise<Set<string>> => {
  const found = await batchGet(deps.db, skuIds.map((id) => keys.listing(deps.ctx.caller.tenantId, channelId, id)), decodeListing);
  return new Set(found.flatMap((listing) => (listing.status === 'mapped' ? [listing.sku_id] : [])));
};

/**
 * The mapped Shopify listings of a channel at one inventory item and location (what an
 * inventory_levels/update names; global ids). The map is keyed by SKU, so this reads the channel's
 * whole map, one partition filtered to the target: fine for the thousands of SKUs a shop has, and
 * a lookup item per target is the step to take when a shop has far more.
 */
export const listingsAtShopifyTarget = (deps: Deps, channelId: string, inventoryItemId: string, locationId: string): Promise<Listing[]> =>
  queryAll(
    deps.db,
    {
      partition: keys.listings(deps.ctx.caller.tenantId, channelId),
      filter: when.and(when.equals('status', 'mapped'), when.equals('inventory_item_id', inventoryItemId), when.equals('location_id', locationId)),
    },
    decodeListing,
  );
