import * as z from 'zod';
import { systemContext, type Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { errorMessage } from '../platform/errors';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import { mapBounded } from '../platform/pool';
import type { CredentialStore } from '../platform/secrets';
import { decodeWith, getItem, queryAll } from '../platform/storage';
import { ConditionFailed, putItem, when, writeOne } from '../platform/writes';
import { MAX_ORDERS_PER_PAGE, ordersClient, SEARCH_ORDERS_BURST, SEARCH_ORDERS_RATE, searchOrders, type AmazonOrder, type OrdersClient } from './amazon/orders';
import { cancelChannelOrder, receiveChannelOrder, type ChannelOrder, type InboundStatus } from './inbound';
import { amazonCredentials } from './schemas';
import { connectionsOfPlatformPage, type Channel, type IndexedChannel } from './store';

/**
 * The Amazon order poll (issue 11, scope item 4): Amazon has no order webhook a Lambda can take, so
 * every connection's merchant-fulfilled orders updated since its checkpoint are read with
 * searchOrders, page by page, each allocated once (receiveChannelOrder: the order id is the
 * idempotency) or cancelled once (cancelChannelOrder).
 *
 * The checkpoint (one item per connection, keys.channelRecords(tenant, channel, 'POLL')) holds the
 * window being read, [after, before] (before fixed when the window opens, at least two minutes
 * before then, as Amazon requires), the next page's token, and a token bucket mirroring Amazon's.
 * It is written after each page's orders were applied, conditional on its version, so two
 * overlapping runs never both move it (the loser stops); `after` moves to the window's end only
 * once its last page is applied. A crash anywhere leaves the checkpoint at or before the last page
 * applied: the next run reads that page again, which allocates and releases nothing twice.
 * Amazon's bounds are inclusive, so an order updated exactly at a window's end is read in both
 * windows, harmlessly; none falls between them.
 *
 * Pacing: searchOrders allows 0.0056 requests a second (one every ~179 s) with bursts of 20, per
 * seller and application. The bucket is kept in the checkpoint (refilled by the time since it was
 * last written, at the rate Amazon's x-amzn-RateLimit-Limit last said), a token is taken (and
 * written) before each request, and a run stops when the bucket is empty, when it has read
 * `maxPages` pages, or near its deadline, leaving the rest to the next run. A 429 empties the bucket
 * and stops the run with the checkpoint where it was.
 */
export const POLL_ACTOR = 'system:amazon-order-poll';

/** Amazon refuses a lastUpdatedBefore less than two minutes ago; ten seconds more for our clock against theirs. */
export const WINDOW_LAG_MS = 2 * 60_000 + 10_000;
/** Time kept back from the schedule's deadline: no page is started later (a page of 100 orders is 100 allocations). */
export const PAGE_RESERVE_MS = 30_000;
/** Connections polled at once: each waits mostly on Amazon and on its allocations' transactions. */
const CONNECTION_CONCURRENCY = 4;

export interface PollSettings {
  /** Pages one run reads of one connection at most (the rest waits for the next run). */
  maxPages: number;
  /** maxResultsPerPage (1-100). */
  pageSize: number;
}
export const DEFAULT_POLL_SETTINGS: PollSettings = { maxPages: 5, pageSize: MAX_ORDERS_PER_PAGE };

/**
 * Statuses that mean "placed": the units are spoken for. PENDING (payment not yet authorized) is
 * one: Amazon already takes the unit off the listing's quantity, and reserving it here keeps the
 * other channels from selling it; an order that is never paid is cancelled by Amazon, and the poll
 * sees that as CANCELLED and gives the units back. SHIPPED counts too, for an order first seen after
 * it shipped: its units left a warehouse all the same. PENDING_AVAILABILITY (a pre-order not yet
 * released) and UNFULFILLABLE are left until their status changes, which brings them back.
 */
export const PLACED_STATUSES: ReadonlySet<string> = new Set(['PENDING', 'UNSHIPPED', 'PARTIALLY_SHIPPED', 'SHIPPED']);
export const CANCELLED_STATUS = 'CANCELLED';

export type OrderAction = 'receive' | 'cancel' | 'skip';
export const actionOf = (status: string | null): OrderAction => (status === CANCELLED_STATUS ? 'cancel' : status !== null && PLACED_STATUSES.has(status) ? 'receive' : 'skip');

// ---------------------------------------------------------------------------------------------
// The checkpoint

const checkpointSchema = z
  .object({
    channel_id: z.string(),
    /** Whose orders these are, and which connection under this id: a checkpoint of another is not resumed. */
    seller_id: z.string(),
    connection_created_at: z.string(),
    /** Inclusive: every order updated before it has been applied. */
    after: z.string(),
    /** The end of the window being read, fixed when it opened; null between windows. */
    before: z.string().nullable(),
    next_token: z.string().nullable(),
    /** Pages of the current window applied. */
    pages_done: z.number().int(),
    last_success_at: z.string().nullable(),
    last_error: z.object({ at: z.string(), message: z.string() }).nullable(),
    /** Our copy of Amazon's bucket: requests available at `at`, refilled at `rate` a second up to the burst. */
    bucket: z.object({ tokens: z.number(), at: z.string(), rate: z.number().positive() }),
    updated_at: z.string(),
    /** 0: not stored yet. */
    version: z.number().int(),
  })
  .loose();
export type PollCheckpoint = z.output<typeof checkpointSchema>;
const decodeCheckpoint = decodeWith('amazon poll checkpoint', checkpointSchema);

const checkpointKey = (tenantId: string, channelId: string) => ({ pk: keys.channelRecords(tenantId, channelId, 'POLL'), sk: 'CHECKPOINT' });

export const readCheckpoint = (deps: Deps, channelId: string): Promise<PollCheckpoint | undefined> =>
  getItem(deps.db, checkpointKey(deps.ctx.caller.tenantId, channelId), decodeCheckpoint);

/** Stores the checkpoint under the version it was read at (or as new); another run's write in between is ConditionFailed. */
const saveCheckpoint = async (deps: Deps, checkpoint: PollCheckpoint): Promise<PollCheckpoint> => {
  const next: PollCheckpoint = { ...checkpoint, version: checkpoint.version + 1, updated_at: deps.ctx.now().toISOString() };
  await writeOne(
    deps.db,
    putItem(deps.db, {
      name: 'amazon poll checkpoint',
      key: checkpointKey(deps.ctx.caller.tenantId, checkpoint.channel_id),
      entity: 'channel-poll-checkpoint',
      tenantId: deps.ctx.caller.tenantId,
      value: next,
      when: checkpoint.version === 0 ? when.absent() : when.versionIs(checkpoint.version),
    }),
  );
  return next;
};

/**
 * The checkpoint a run starts from: the stored one, or a new one from the moment the connection's
 * credentials were stored (orders updated earlier are not this connection's to allocate). A stored
 * checkpoint of another seller, or of an earlier connection under the same id, is started over
 * (keeping its version, which the first write is guarded by).
 */
export const startingCheckpoint = (channel: Channel, sellerId: string, stored: PollCheckpoint | undefined, now: Date): PollCheckpoint => {
  if (stored && stored.seller_id === sellerId && stored.connection_created_at === channel.created_at) return stored;
  return {
    channel_id: channel.channel_id,
    seller_id: sellerId,
    connection_created_at: channel.created_at,
    after: channel.credentials.updated_at,
    before: null,
    next_token: null,
    pages_done: 0,
    last_success_at: null,
    last_error: null,
    bucket: { tokens: SEARCH_ORDERS_BURST, at: now.toISOString(), rate: SEARCH_ORDERS_RATE },
    updated_at: now.toISOString(),
    version: stored?.version ?? 0,
  };
};

/** Requests the bucket holds at `at`. */
export const tokensAt = (bucket: PollCheckpoint['bucket'], at: Date): number =>
  Math.min(SEARCH_ORDERS_BURST, bucket.tokens + (Math.max(0, at.getTime() - Date.parse(bucket.at)) / 1000) * bucket.rate);

// ---------------------------------------------------------------------------------------------
// Orders

/** Seller SKU -> our sku_id, from the connection's mapped listings (a listing's seller_sku, which defaults to its sku_id). */
export type SellerSkus = ReadonlyMap<string, string | typeof AMBIGUOUS>;
const AMBIGUOUS = Symbol('ambiguous');

const listingSkus = z.object({ sku_id: z.string(), status: z.string(), seller_sku: z.string().optional() }).loose();
const decodeListingSkus = decodeWith('listing', listingSkus);

/**
 * A seller SKU no listing maps is unmapped, never guessed from our sku_ids; one that two of our
 * SKUs claim is unmapped too (the listing map shows both).
 */
export const sellerSkuMap = (listings: readonly z.output<typeof listingSkus>[]): SellerSkus => {
  const map = new Map<string, string | typeof AMBIGUOUS>();
  for (const listing of listings) {
    if (listing.status !== 'mapped') continue;
    const sellerSku = listing.seller_sku ?? listing.sku_id;
    map.set(sellerSku, map.has(sellerSku) ? AMBIGUOUS : listing.sku_id);
  }
  return map;
};

/** Read once per run that has orders to map. */
const sellerSkusOf = async (deps: Deps, channelId: string): Promise<SellerSkus> =>
  sellerSkuMap(await queryAll(deps.db, { partition: keys.listings(deps.ctx.caller.tenantId, channelId) }, decodeListingSkus));

/** An Amazon order in our terms: its lines by our sku_id (one line per SKU), and what could not be mapped. */
export const channelOrderOf = (order: AmazonOrder, skus: SellerSkus): ChannelOrder => {
  const lines = new Map<string, number>();
  const unmapped: { platform_sku: string; quantity: number }[] = [];
  for (const item of order.items) {
    // Amazon lists a fully cancelled item with quantityOrdered 0: nothing to reserve.
    if (item.quantityOrdered === 0) continue;
    const skuId = item.sellerSku === null ? undefined : skus.get(item.sellerSku);
    if (skuId === undefined || skuId === AMBIGUOUS) unmapped.push({ platform_sku: item.sellerSku ?? `(item ${item.orderItemId} without a seller SKU)`, quantity: item.quantityOrdered });
    else lines.set(skuId, (lines.get(skuId) ?? 0) + item.quantityOrdered);
  }
  // An item Amazon sent unreadably fails the order rather than letting the rest be allocated without it.
  if (order.unreadableItems > 0) unmapped.push({ platform_sku: `(${order.unreadableItems} unreadable item${order.unreadableItems === 1 ? '' : 's'})`, quantity: 0 });
  return { external_id: order.orderId, lines: [...lines].map(([sku_id, quantity]) => ({ sku_id, quantity })), ...(unmapped.length ? { unmapped } : {}) };
};

export type OrderTally = Record<InboundStatus | 'skipped', number>;
const emptyTally = (): OrderTally => ({ allocated: 0, failed: 0, cancelled: 0, skipped: 0 });

const applyOrder = async (deps: Deps, channel: Channel, order: AmazonOrder, skus: () => Promise<SellerSkus>): Promise<keyof OrderTally> => {
  const action = actionOf(order.fulfillmentStatus);
  if (action === 'skip') return 'skipped';
  if (action === 'cancel') return (await cancelChannelOrder(deps, channel, order.orderId)).status;
  return (await receiveChannelOrder(deps, channel, channelOrderOf(order, await skus()))).status;
};

// ---------------------------------------------------------------------------------------------
// One connection

export const POLL_OUTCOMES = [
  /** The window's last page was applied: `after` moved to its end. */
  'caught_up',
  /** maxPages read; the next run goes on from the stored token. */
  'more',
  /** The bucket is empty; the next run goes on. */
  'paced',
  /** Amazon answered 429: the bucket is emptied, the checkpoint stays. */
  'throttled',
  /** Amazon, the credentials or the allocations failed: recorded in last_error, the checkpoint stays. */
  'failed',
  /** Another run moved the checkpoint first; it carries on. */
  'overlap',
  /** The window would end before it starts (a connection made under two minutes ago). */
  'not_due',
  /** Too close to the schedule's deadline to start a page. */
  'deadline',
] as const;
export type PollOutcome = (typeof POLL_OUTCOMES)[number];

export interface ConnectionPoll {
  tenant_id: string;
  channel_id: string;
  outcome: PollOutcome;
  pages: number;
  orders: OrderTally;
  error?: string;
}

/** Test seams: a throw from either is a crash at that point (nothing after it is written). */
export interface PollHooks {
  /** A page's orders were applied, its checkpoint not yet stored. */
  pageApplied?: (page: { channel_id: string; pages: number; orders: number; next_token: string | null }) => void | Promise<void>;
  /** A page's checkpoint was stored, the next page not yet asked for. */
  checkpointStored?: (checkpoint: PollCheckpoint) => void | Promise<void>;
}

export interface PollDeps extends Deps {
  credentials: CredentialStore;
  settings?: Partial<PollSettings>;
  hooks?: PollHooks;
  /** How the SP-API client is made (default: ordersClient, at api_base_url when the connection has one). */
  client?: typeof ordersClient;
}

/**
 * Polls one Amazon connection until its window is read, its bucket is empty, maxPages pages were
 * read or the deadline nears. Failures are outcomes (and the checkpoint's last_error), not throws,
 * except a failure to store the checkpoint itself.
 */
export const pollConnection = async (deps: PollDeps, channel: Channel): Promise<ConnectionPoll> => {
  const { ctx } = deps;
  const settings = { ...DEFAULT_POLL_SETTINGS, ...deps.settings };
  const tally = emptyTally();
  let pages = 0;
  const answer = (outcome: PollOutcome, error?: string): ConnectionPoll => ({
    tenant_id: ctx.caller.tenantId,
    channel_id: channel.channel_id,
    outcome,
    pages,
    orders: tally,
    ...(error === undefined ? {} : { error }),
  });
  if (!('seller_id' in channel.account)) return answer('failed', 'not an Amazon connection');
  const { seller_id: sellerId, marketplace_ids: marketplaceIds } = channel.account;
  let checkpoint = startingCheckpoint(channel, sellerId, await readCheckpoint(deps, channel.channel_id), ctx.now());

  /** Records why the run stopped, unless another run moved the checkpoint meanwhile (its record stands). */
  const stop = async (outcome: PollOutcome, message: string, change: Partial<PollCheckpoint> = {}): Promise<ConnectionPoll> => {
    try {
      checkpoint = await saveCheckpoint(deps, { ...checkpoint, ...change, last_error: { at: ctx.now().toISOString(), message } });
    } catch (error) {
      if (!(error instanceof ConditionFailed)) log.error('the amazon poll could not record its failure', { tenant_id: ctx.caller.tenantId, channel_id: channel.channel_id, error: errorMessage(error) });
    }
    return answer(outcome, message);
  };
  /** The checkpoint written, or undefined when another run wrote it first. */
  const advance = async (next: PollCheckpoint): Promise<PollCheckpoint | undefined> => {
    try {
      return await saveCheckpoint(deps, next);
    } catch (error) {
      if (error instanceof ConditionFailed) return undefined;
      throw error;
    }
  };

  const stored = amazonCredentials.safeParse(await deps.credentials.get(ctx.caller.tenantId, channel.channel_id));
  // The parse issues could quote a value: only a fixed message.
  if (!stored.success) return stop('failed', 'the connection has no usable stored credentials: replace them with PATCH /api/channels/{channel_id}');
  const client: OrdersClient = (deps.client ?? ordersClient)(channel, stored.data, marketplaceIds);
  let skus: Promise<SellerSkus> | undefined;
  const skusOnce = () => (skus ??= sellerSkusOf(deps, channel.channel_id));
  let restarted = false;

  for (;;) {
    if (pages >= settings.maxPages) return answer('more');
    if (ctx.deadline !== undefined && Date.now() > ctx.deadline - PAGE_RESERVE_MS) return answer('deadline');
    const at = ctx.now();
    let window = checkpoint;
    let before = window.before;
    if (before === null) {
      const end = at.getTime() - WINDOW_LAG_MS;
      if (end <= Date.parse(window.after)) return answer('not_due');
      before = new Date(end).toISOString();
      window = { ...window, before, next_token: null, pages_done: 0 };
    }
    const tokens = tokensAt(window.bucket, at);
    if (tokens < 1) return answer('paced');
    // The token is taken (and the window fixed) before the request: a run that crashes after asking still paid for it.
    const taken = await advance({ ...window, bucket: { ...window.bucket, tokens: tokens - 1, at: at.toISOString() } });
    if (!taken) return answer('overlap');
    checkpoint = taken;

    const page = await searchOrders(client, {
      lastUpdatedAfter: checkpoint.after,
      lastUpdatedBefore: before,
      marketplaceIds,
      maxResultsPerPage: settings.pageSize,
      paginationToken: checkpoint.next_token ?? undefined,
    });
    if (page.status !== 'page') {
      if (page.status === 'throttled') {
        return stop('throttled', page.message, { bucket: { tokens: 0, at: ctx.now().toISOString(), rate: page.rateLimit ?? checkpoint.bucket.rate } });
      }
      // Amazon refuses a token older than 24 h (or one not its own) with a 400: the window is read again from `after`, once a run.
      if (page.httpStatus === 400 && checkpoint.next_token !== null && !restarted) {
        restarted = true;
        const restart = await advance({
          ...checkpoint,
          before: null,
          next_token: null,
          pages_done: 0,
          last_error: { at: ctx.now().toISOString(), message: `${page.message}: the page token was refused; the window is read again from ${checkpoint.after}` },
        });
        if (!restart) return answer('overlap');
        checkpoint = restart;
        continue;
      }
      return stop('failed', page.message);
    }

    if (page.unreadable > 0) log.error('Amazon sent orders without a readable order id', { tenant_id: ctx.caller.tenantId, channel_id: channel.channel_id, count: page.unreadable });
    tally.skipped += page.unreadable;
    try {
      for (const order of page.orders) tally[await applyOrder(deps, channel, order, skusOnce)] += 1;
    } catch (error) {
      // The database, most likely: this page is read again next run (what was applied stays applied, once).
      return stop('failed', `applying a page of orders failed: ${errorMessage(error)}`);
    }
    pages += 1;
    await deps.hooks?.pageApplied?.({ channel_id: channel.channel_id, pages, orders: page.orders.length, next_token: page.nextToken });

    const now = ctx.now().toISOString();
    const bucket = page.rateLimit === undefined ? checkpoint.bucket : { ...checkpoint.bucket, rate: page.rateLimit };
    const done = page.nextToken === null;
    const next: PollCheckpoint = done
      ? { ...checkpoint, after: before, before: null, next_token: null, pages_done: 0, last_success_at: now, last_error: null, bucket }
      : { ...checkpoint, next_token: page.nextToken, pages_done: checkpoint.pages_done + 1, last_success_at: now, last_error: null, bucket };
    const advanced = await advance(next);
    if (!advanced) return answer('overlap');
    checkpoint = advanced;
    await deps.hooks?.checkpointStored?.(checkpoint);
    if (done) return answer('caught_up');
  }
};

// ---------------------------------------------------------------------------------------------
// Every connection

export interface PollRun {
  db: Db;
  credentials: CredentialStore;
  now: () => Date;
  /** Epoch ms the schedule's Lambda is stopped at. */
  deadline: number;
  /** The run's id (the schedule's event), carried as each system caller's request id. */
  requestId: string;
  settings?: Partial<PollSettings>;
  hooks?: PollHooks;
  client?: typeof ordersClient;
  /** Which connections to poll (default: every one); tests keep to their own tenants in the shared local table. */
  include?: (connection: IndexedChannel) => boolean;
}

export interface PollRunSummary {
  connections: number;
  outcomes: Partial<Record<PollOutcome, number>>;
  orders: OrderTally;
  polls: ConnectionPoll[];
}

/** One connection, as the system for its tenant; whatever it throws is its own outcome, never the others'. */
const pollIsolated = async (run: PollRun, { tenantId, channel }: IndexedChannel): Promise<ConnectionPoll> => {
  const ctx = systemContext({ tenantId, actor: POLL_ACTOR, requestId: run.requestId, now: run.now, deadline: run.deadline });
  try {
    return await pollConnection({ db: run.db, ctx, credentials: run.credentials, ...(run.settings ? { settings: run.settings } : {}), ...(run.hooks ? { hooks: run.hooks } : {}), ...(run.client ? { client: run.client } : {}) }, channel);
  } catch (error) {
    const message = errorMessage(error);
    log.error('amazon order poll failed for a connection', { tenant_id: tenantId, channel_id: channel.channel_id, error: message });
    return { tenant_id: tenantId, channel_id: channel.channel_id, outcome: 'failed', pages: 0, orders: emptyTally(), error: message };
  }
};

/**
 * The schedule's run: every Amazon connection of every tenant (the system index, a page of 100 at a
 * time), a few at once. Connections not reached before the deadline wait for the next run.
 */
export const pollAmazonConnections = async (run: PollRun): Promise<PollRunSummary> => {
  const polls: ConnectionPoll[] = [];
  let cursor: string | undefined;
  do {
    if (Date.now() > run.deadline - PAGE_RESERVE_MS) break;
    const page = await connectionsOfPlatformPage(run.db, 'amazon', cursor);
    const chosen = run.include ? page.items.filter(run.include) : page.items;
    polls.push(...(await mapBounded(chosen, CONNECTION_CONCURRENCY, (connection) => pollIsolated(run, connection))));
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  const outcomes: Partial<Record<PollOutcome, number>> = {};
  const orders = emptyTally();
  for (const poll of polls) {
    outcomes[poll.outcome] = (outcomes[poll.outcome] ?? 0) + 1;
    for (const status of Object.keys(orders) as (keyof OrderTally)[]) orders[status] += poll.orders[status];
  }
  return { connections: polls.length, outcomes, orders, polls };
};
