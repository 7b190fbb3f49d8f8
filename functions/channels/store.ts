import * as z from 'zod';
import type { Db } from '../platform/db';
import { alreadyExists, AppError, notFound } from '../platform/errors';
import { keys } from '../platform/keys';
import type { Deps } from '../platform/context';
import { batchDelete, decodeWith, getItem, queryAll, queryPage, type Decoder, type Page } from '../platform/storage';
import type { Platform } from './model';
import { deleteItem, putItem, when, type Write } from '../platform/writes';
import { channelResponse } from './schemas';

/**
 * Channel connections' own storage (private to functions/channels). The item holds exactly
 * what the API answers: settings, the account's identifying fields and which credential
 * fields are stored, never a credential value (those live in the CredentialStore).
 */
export type Channel = z.output<typeof channelResponse>;

export const decodeChannel = decodeWith('channel', channelResponse.loose());

/** The connection item whole (with its place in the connection index), under `when`. */
const channelPut = (db: Db, tenantId: string, channel: Channel, guard: Pick<Parameters<typeof putItem>[1], 'when' | 'onConditionFailed'>): Write =>
  putItem(db, {
    name: 'channel',
    key: keys.channel(tenantId, channel.channel_id),
    index: keys.connectionIndex(channel.platform, tenantId, channel.channel_id),
    entity: 'channel',
    tenantId,
    value: channel,
    ...guard,
  });

export const channelCreate = (db: Db, tenantId: string, channel: Channel): Write =>
  channelPut(db, tenantId, channel, { when: when.absent(), onConditionFailed: () => alreadyExists('channel', channel.channel_id) });

/** The connection rewritten whole, guarded by the version it was computed from. */
export const channelReplace = (db: Db, tenantId: string, previousVersion: number, channel: Channel): Write =>
  channelPut(db, tenantId, channel, { when: when.versionIs(previousVersion) });

/** The Shopify shop a connection is, when it is one. */
export const shopDomainOf = (channel: Channel): string | undefined => ('shop_domain' in channel.account ? channel.account.shop_domain : undefined);

// `tenant_id` is a storage attribute decoders never see: the registration names its tenant in `owner_tenant_id` too.
const shopRegistration = z.object({ owner_tenant_id: z.string(), channel_id: z.string() }).loose();
export type ShopRegistration = z.output<typeof shopRegistration>;
const decodeShopRegistration = decodeWith('shop registration', shopRegistration);

/**
 * Claims a Shopify shop for this connection (keys.shopRegistration), in the same transaction as the
 * connection's create or its change of shop: a shop another connection (of any tenant) holds is 409,
 * and nothing is written. Claiming a shop the same connection already holds passes.
 */
export const shopClaim = (db: Db, tenantId: string, channelId: string, shopDomain: string): Write =>
  putItem(db, {
    name: 'shop registration',
    key: keys.shopRegistration(shopDomain),
    entity: 'shop-registration',
    tenantId,
    value: { owner_tenant_id: tenantId, channel_id: channelId, shop_domain: shopDomain },
    when: when.or(when.absent(), when.and(when.equals('tenant_id', tenantId), when.equals('channel_id', channelId))),
    onConditionFailed: () => new AppError('CONFLICT', `the shop ${shopDomain} is already connected to another channel connection`, { shop_domain: shopDomain }),
  });

/** Gives a shop up, if this connection holds it (a shop another connection claimed since stays theirs). */
export const shopRelease = (db: Db, tenantId: string, channelId: string, shopDomain: string): Write =>
  deleteItem(db, {
    name: 'shop registration',
    key: keys.shopRegistration(shopDomain),
    when: when.or(when.absent(), when.and(when.equals('tenant_id', tenantId), when.equals('channel_id', channelId))),
  });

/** The tenant and connection a shop's webhooks are for (system read: the webhook has no token). */
export const findShopRegistration = (db: Db, shopDomain: string): Promise<ShopRegistration | undefined> =>
  getItem(db, keys.shopRegistration(shopDomain), decodeShopRegistration);

/** A connection of the tenant and id a shop registration names (system read: the webhook has no token to take the tenant from). */
export const findChannel = (db: Db, tenantId: string, channelId: string): Promise<Channel | undefined> =>
  getItem(db, keys.channel(tenantId, channelId), decodeChannel);

/** One page of every connection of a platform across tenants (the connection index), for the schedules. */
export const connectionsOfPlatformPage = (db: Db, platform: Platform, cursor?: string): Promise<Page<IndexedChannel>> =>
  queryPage(db, { index: 'gsi1', partition: keys.connectionsOfPlatform(platform), cursor, limit: 100 }, decodeIndexedChannel);

/** A connection read from the system index, with the tenant it belongs to. */
export interface IndexedChannel {
  tenantId: string;
  channel: Channel;
}

const decodeIndexedChannel: Decoder<IndexedChannel> = (item) => ({ tenantId: z.string().parse(item.tenant_id), channel: decodeChannel(item) });

/** Removes the connection item; absent is 404. `version` (when given) must still be the one read. */
export const channelDelete = (db: Db, tenantId: string, channelId: string, version?: number): Write =>
  deleteItem(db, {
    name: 'channel',
    key: keys.channel(tenantId, channelId),
    when: version === undefined ? when.exists() : when.versionIs(version),
    onConditionFailed: () => notFound('channel', channelId),
  });

const listingSku = decodeWith('listing', z.object({ sku_id: z.string() }).loose());

/** Every listing of a connection gone (its DELETE): a connection made again under the same id starts with no mapping. */
export const deleteListingsOf = async ({ db, ctx }: Deps, channelId: string): Promise<number> => {
  const tenantId = ctx.caller.tenantId;
  const listings = await queryAll(db, { partition: keys.listings(tenantId, channelId) }, listingSku);
  await batchDelete(db, listings.map((listing) => keys.listing(tenantId, channelId, listing.sku_id)));
  return listings.length;
};
