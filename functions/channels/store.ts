import { z } from 'zod';
import type { Db } from '../platform/db';
import { alreadyExists, notFound } from '../platform/errors';
import { keys } from '../platform/keys';
import type { Deps } from '../platform/context';
import { batchDelete, decodeWith, queryAll } from '../platform/storage';
import { deleteItem, putItem, when, type Write } from '../platform/writes';
import { channelResponse } from './schemas';

/**
 * Channel connections' own storage (private to functions/channels). The item holds exactly
 * what the API answers: settings, the account's identifying fields and which credential
 * fields are stored, never a credential value (those live in the CredentialStore).
 */
export type Channel = z.output<typeof channelResponse>;

export const decodeChannel = decodeWith('channel', channelResponse.loose());

export const channelCreate = (db: Db, tenantId: string, channel: Channel): Write =>
  putItem(db, {
    name: 'channel',
    key: keys.channel(tenantId, channel.channel_id),
    entity: 'channel',
    tenantId,
    value: channel,
    when: when.absent(),
    onConditionFailed: () => alreadyExists('channel', channel.channel_id),
  });

/** The connection rewritten whole, guarded by the version it was computed from. */
export const channelReplace = (db: Db, tenantId: string, previousVersion: number, channel: Channel): Write =>
  putItem(db, {
    name: 'channel',
    key: keys.channel(tenantId, channel.channel_id),
    entity: 'channel',
    tenantId,
    value: channel,
    when: when.versionIs(previousVersion),
  });

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
