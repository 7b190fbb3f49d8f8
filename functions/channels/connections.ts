import { assertInScope } from '../platform/warehouse-scope';
import { existingCatalogIds } from '../inventory/catalog';
import { isLocalMode, LOCAL_MODE_ENV } from '../notifications/model';
import { isLoopbackHost } from '../notifications/targets';
import type { Deps } from '../platform/context';
import { errorMessage, keptChanging, notFound, orNotFound, validationFailed, type FieldIssue } from '../platform/errors';
import { commitIdempotent } from '../platform/idempotency';
import { newId } from '../platform/ids';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import { RARE_CONFLICT, RetriesExhausted, retrying } from '../platform/retry';
import { credentialStoreFromEnv, type CredentialStore } from '../platform/secrets';
import { getItem, queryPage } from '../platform/storage';
import { TransactionCancelled, transactWrite } from '../platform/transactions';
import { definedOnly } from '../platform/values';
import { ConditionFailed, deleteItem, writeOne } from '../platform/writes';
import { CREDENTIAL_FIELDS, type Platform } from './model';
import type { CreateChannelInput, PatchChannelInput } from './schemas';
import { channelCreate, channelDelete, channelReplace, decodeChannel, deleteListingsOf, shopClaim, shopDomainOf, shopRelease, type Channel } from './store';

/**
 * Channel connections (issue 11, step 1): POST/GET/PATCH/DELETE /api/channels. The connection
 * item is versioned like the catalogue's entities; its credentials go to the CredentialStore,
 * which the API only writes (put, delete): no answer and no log line carries a credential value.
 */
export interface ChannelDeps extends Deps {
  /** Where credentials are kept; default from CHANNEL_SECRETS_ENV. */
  credentials?: CredentialStore;
  /** Local mode (api_base_url allowed, on loopback only); default from the environment. */
  local?: boolean;
}

type Credentials = CreateChannelInput['credentials'];

const credentialsPlatform = (credentials: Credentials): Platform => ('shop_domain' in credentials ? 'shopify' : 'amazon');

/** The identifying fields of the account (ACCOUNT_FIELDS), copied out of the credentials. */
const accountOf = (credentials: Credentials): Channel['account'] =>
  'shop_domain' in credentials
    ? { shop_domain: credentials.shop_domain, api_version: credentials.api_version }
    : { seller_id: credentials.seller_id, marketplace_ids: credentials.marketplace_ids };

const storedCredentials = (platform: Platform, now: string): Channel['credentials'] => ({ stored: true, fields: [...CREDENTIAL_FIELDS[platform]], updated_at: now });

/**
 * `api_base_url` points the platform client at another root (a local fake). Like a webhook
 * target's plain http (functions/notifications/targets.ts), it is allowed only in local mode and
 * only to a loopback host, by the same test (isLoopbackHost); anywhere else it would let a
 * tenant aim our credentials-bearing requests at a host of their choosing.
 */
export const apiBaseUrlIssues = (url: string | null | undefined, local: boolean): FieldIssue[] => {
  if (url === undefined || url === null) return [];
  const issue = (message: string): FieldIssue[] => [{ path: 'api_base_url', message }];
  if (!local) return issue(`is allowed only in local mode (${LOCAL_MODE_ENV}=1, as npm start and the tests run), never in AWS: channels call the platform's own host`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return issue('must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return issue('must be an http(s) URL');
  if (parsed.username || parsed.password) return issue('must not carry credentials');
  if (parsed.search || parsed.hash) return issue('must not have a query or fragment');
  if (!isLoopbackHost(parsed.hostname)) return issue('must be on a loopback host (127.0.0.0/8, localhost, ::1), in local mode');
  return [];
};

/** 404 for the first of these warehouses the caller's tenant does not have (another tenant's included). */
const requireWarehouses = async (deps: Deps, warehouseIds: readonly string[]): Promise<void> => {
  const found = await existingCatalogIds(deps, { skuIds: [], warehouseIds });
  const missing = warehouseIds.find((id) => !found.warehouseIds.has(id));
  if (missing !== undefined) throw notFound('warehouse', missing);
};

/**
 * POST /api/channels. The item is created first (conditional: 409 if the id exists), so only the
 * request that created the connection writes its secret. If storing the secret fails, the item
 * (and this request's idempotency record) is removed again, so nothing claims credentials that
 * are not stored, and the request can be retried as it was. A replay of the same Idempotency-Key
 * puts the same credentials again while the connection still has the credentials it created
 * (healing a first attempt that stopped between its commit and its put), and never after a PATCH
 * replaced them.
 */
export const createChannel = async (deps: ChannelDeps, input: CreateChannelInput): Promise<Channel> => {
  const { db, ctx, credentials = credentialStoreFromEnv(), local = isLocalMode() } = deps;
  const tenantId = ctx.caller.tenantId;
  const issues = apiBaseUrlIssues(input.api_base_url, local);
  if (issues.length) throw validationFailed(issues);
  // A connection sells (and under channel_wins adjusts) the stock of its warehouses: a scoped user's only.
  assertInScope(ctx, input.warehouse_ids, 'connecting a channel that sells from it');
  await requireWarehouses(deps, input.warehouse_ids);
  const channelId = input.channel_id ?? newId();
  let planned: Channel | undefined;
  const created = await commitIdempotent(deps, async () => {
    const now = ctx.now().toISOString();
    const channel: Channel = definedOnly({
      channel_id: channelId,
      platform: input.platform,
      warehouse_ids: input.warehouse_ids,
      buffer: input.buffer,
      conflict_rule: input.conflict_rule,
      api_base_url: input.api_base_url,
      account: accountOf(input.credentials),
      credentials: storedCredentials(input.platform, now),
      version: 1,
      created_at: now,
      updated_at: now,
    });
    planned = channel;
    const shop = shopDomainOf(channel);
    return { writes: [channelCreate(db, tenantId, channel), ...(shop ? [shopClaim(db, tenantId, channelId, shop)] : [])], result: channel };
  });
  if (created === planned) {
    try {
      await credentials.put(tenantId, channelId, input.credentials);
    } catch (error) {
      await undoCreate(deps, created);
      throw error;
    }
  } else {
    const current = await getItem(db, keys.channel(tenantId, created.channel_id), decodeChannel);
    if (current && current.credentials.updated_at === created.credentials.updated_at) await credentials.put(tenantId, channelId, input.credentials);
  }
  return created;
};

const undoCreate = async ({ db, ctx }: Deps, created: Channel): Promise<void> => {
  const tenantId = ctx.caller.tenantId;
  try {
    const shop = shopDomainOf(created);
    await transactWrite(db, [
      channelDelete(db, tenantId, created.channel_id, created.version),
      ...(shop ? [shopRelease(db, tenantId, created.channel_id, shop)] : []),
      ...(ctx.idempotency ? [deleteItem(db, { name: 'idempotency record', key: keys.idempotency(tenantId, ctx.idempotency.key) })] : []),
    ]);
  } catch (error) {
    // Only names: the error of a failed undo never carries the credentials.
    log.error('channel created but its credentials were not stored, and removing it failed', { tenant_id: tenantId, channel_id: created.channel_id, error: String(error) });
  }
};

export const readChannel = ({ db, ctx }: Deps, channelId: string): Promise<Channel> =>
  orNotFound('channel', channelId, getItem(db, keys.channel(ctx.caller.tenantId, channelId), decodeChannel));

export const listChannels = async ({ db, ctx }: Deps, query: { cursor?: string; limit?: number }): Promise<{ channels: Channel[]; next_cursor: string | null }> => {
  const page = await queryPage(db, { partition: keys.channels(ctx.caller.tenantId), cursor: query.cursor, limit: query.limit }, decodeChannel);
  return { channels: page.items, next_cursor: page.next_cursor };
};

/**
 * PATCH /api/channels/{channel_id}: settings changed and/or the credential set replaced whole
 * (of the connection's own platform: 400 otherwise). New credentials are stored before the item
 * records them; the item is rewritten under its version (re-read and re-applied on a conflict).
 * If the connection vanished meanwhile (deleted), the secret just put is deleted again.
 *
 * Credentials naming another Shopify shop claim it first, on their own, before the secret is put:
 * the API cannot read a secret back (write-only), so a secret replaced by a PATCH that then failed
 * could never be restored, and the connection would keep its old shop with the new shop's
 * credentials. A shop another connection holds is therefore 409 with nothing written at all. The
 * item's transaction claims it again (it is ours by then) and gives the old shop up; if the change
 * fails after the claim, the claim is given up again (unless the item names the shop after all).
 */
export const patchChannel = async (deps: ChannelDeps, channelId: string, patch: PatchChannelInput): Promise<Channel> => {
  const { db, ctx, credentials = credentialStoreFromEnv(), local = isLocalMode() } = deps;
  const tenantId = ctx.caller.tenantId;
  const issues = apiBaseUrlIssues(patch.api_base_url, local);
  if (issues.length) throw validationFailed(issues);
  const key = keys.channel(tenantId, channelId);
  const first = await readChannel(deps, channelId);
  if (patch.credentials && credentialsPlatform(patch.credentials) !== first.platform) {
    throw validationFailed([
      { path: 'credentials', message: `must be the ${first.platform} credential set (${CREDENTIAL_FIELDS[first.platform].join(', ')}): a connection's platform cannot change` },
    ]);
  }
  // Both the warehouses it sells from now and those it would: a scoped user changes only a connection wholly theirs.
  assertInScope(ctx, [...first.warehouse_ids, ...(patch.warehouse_ids ?? [])], 'changing a channel that sells from it');
  if (patch.warehouse_ids) await requireWarehouses(deps, patch.warehouse_ids);
  const newShop = patch.credentials && 'shop_domain' in patch.credentials ? patch.credentials.shop_domain : undefined;
  const claimed = newShop !== undefined && newShop !== shopDomainOf(first) ? newShop : undefined;
  if (claimed) await writeOne(db, shopClaim(db, tenantId, channelId, claimed));
  try {
    if (patch.credentials) await credentials.put(tenantId, channelId, patch.credentials);
    return await retrying<Channel, undefined>(RARE_CONFLICT, async (attempt) => {
      const current = attempt === 0 ? first : await orNotFound('channel', channelId, getItem(db, key, decodeChannel));
      const now = ctx.now().toISOString();
      const next: Channel = definedOnly({
        ...current,
        ...(patch.warehouse_ids ? { warehouse_ids: patch.warehouse_ids } : {}),
        ...(patch.buffer === undefined ? {} : { buffer: patch.buffer }),
        ...(patch.conflict_rule ? { conflict_rule: patch.conflict_rule } : {}),
        ...(patch.api_base_url === undefined ? {} : { api_base_url: patch.api_base_url ?? undefined }),
        ...(patch.credentials ? { account: accountOf(patch.credentials), credentials: storedCredentials(current.platform, now) } : {}),
        version: current.version + 1,
        updated_at: now,
      });
      const [before, after] = [shopDomainOf(current), shopDomainOf(next)];
      // A new shop is claimed in the same transaction as the change (409 if another connection holds it), the old one given up.
      const shopMoves = before === after ? [] : [...(after ? [shopClaim(db, tenantId, channelId, after)] : []), ...(before ? [shopRelease(db, tenantId, channelId, before)] : [])];
      try {
        if (shopMoves.length) await transactWrite(db, [channelReplace(db, tenantId, current.version, next), ...shopMoves]);
        else await writeOne(db, channelReplace(db, tenantId, current.version, next));
        return { done: next };
      } catch (error) {
        if (error instanceof ConditionFailed) return { retry: undefined };
        if (error instanceof TransactionCancelled) {
          // The shop claim's own 409 (another connection took the shop after all), or a version that moved: re-read and apply again.
          const explained = error.explain();
          if (explained) throw explained;
          return { retry: undefined };
        }
        throw error;
      }
    });
  } catch (error) {
    const current = await getItem(db, key, decodeChannel);
    if (patch.credentials && !current) await credentials.delete(tenantId, channelId);
    if (claimed && (!current || shopDomainOf(current) !== claimed)) await giveUpClaim(deps, channelId, claimed);
    if (error instanceof RetriesExhausted) throw keptChanging(error.attempts);
    throw error;
  }
};

/** A PATCH's claim of a new shop, given up after the change itself failed; a failure here is logged (names only), the PATCH's own error is the answer. */
const giveUpClaim = async ({ db, ctx }: Deps, channelId: string, shopDomain: string): Promise<void> => {
  try {
    await writeOne(db, shopRelease(db, ctx.caller.tenantId, channelId, shopDomain));
  } catch (error) {
    log.error('a channel change failed and its claim of a new shop could not be given up', { tenant_id: ctx.caller.tenantId, channel_id: channelId, shop_domain: shopDomain, error: errorMessage(error) });
  }
};

/**
 * DELETE /api/channels/{channel_id}: the secret first, then the item, so a delete that failed
 * half-way is finished by repeating it (a missing secret is fine); answers the removed
 * connection. Unknown (another tenant's included) is 404, with nothing touched.
 */
export const deleteChannel = async (deps: ChannelDeps, channelId: string): Promise<Channel> => {
  const { db, ctx, credentials = credentialStoreFromEnv() } = deps;
  const tenantId = ctx.caller.tenantId;
  const channel = await readChannel(deps, channelId);
  assertInScope(ctx, channel.warehouse_ids, 'removing a channel that sells from it');
  // Its listings, then its secret, then the item (and its shop): a DELETE repeated after a crash finds the channel still there and finishes.
  await deleteListingsOf(deps, channelId);
  await credentials.delete(tenantId, channelId);
  const shop = shopDomainOf(channel);
  await transactWrite(db, [channelDelete(db, tenantId, channelId), ...(shop ? [shopRelease(db, tenantId, channelId, shop)] : [])]);
  return channel;
};
