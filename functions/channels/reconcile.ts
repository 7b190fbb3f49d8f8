import { assertInScope } from '../platform/warehouse-scope';
import { createHash } from 'node:crypto';
import { existingCatalogIds } from '../inventory/catalog';
import type { StockLevel } from '../inventory/model';
import { MAX_QUANTITY } from '../inventory/schemas';
import { levelsOfSku, updateStock } from '../inventory/stock';
import { systemContext, type Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { AppError, errorName, notFound, validationFailed } from '../platform/errors';
import { commitIdempotent, fingerprint, type Idempotency } from '../platform/idempotency';
import { newSortableId, timeOrderedId } from '../platform/ids';
import { keys } from '../platform/keys';
import { log } from '../platform/log';
import { mapBounded } from '../platform/pool';
import { getItem } from '../platform/storage';
import { ConditionFailed, writeOne } from '../platform/writes';
import { listChannels, readChannel } from './connections';
import {
  RECONCILE_EVERY_SECONDS,
  type Finding,
  type ProbableCause,
  type ReconciliationResponse,
  type SyncInput,
} from './integration-schemas';
import { mappedListingsPage, readListing, type Listing } from './listings';
import { PLATFORMS, type ConflictRule, type Platform } from './model';
import { countPush, openSession, publishedQuantity, pushQuantity, readChannelQuantity, recordOnListing, type ChannelSession, type PublishDeps, type PushOutcome, type ReadOutcome } from './publish';
import { readReportedQuantities } from './reported';
import {
  findingPut,
  findingsPage,
  findReconciliation,
  reconciliationCreate,
  reconciliationTransition,
  recentReconciliations,
  type Counts,
  type StoredReconciliation,
} from './reconcile-store';
import { connectionsOfPlatformPage, decodeChannel, type Channel } from './store';
import { countMetric, METRIC_NAMES } from '../platform/metrics';

/**
 * Reconciliation (issue 11, scope item 5): per connection, read what the channel shows for each
 * mapped SKU, compare it with what we publish (publish.ts publishedQuantity: available over the
 * connection's warehouses, less its buffer), and settle a difference by the connection's rule:
 * - ours_wins: push ours (Shopify compares-and-swaps from the quantity just read);
 * - channel_wins: adjust our stock so that what we publish is the channel's, with a ledgered
 *   adjustment (reason channel_reconciliation), unless the channel still shows our own last push
 *   (the difference is a change of ours not yet published, which adjusting would erase: pushed);
 * - report_only: record it.
 * Every SKU that differed or could not be checked is recorded as a finding of the run, with its
 * probable cause and what was done.
 *
 *   POST /api/integration/sync (202 + the runs), or the 15-minute schedule (one run per connection
 *   and slot, `<slot's ULID time>-scheduled`)
 *     -> a run item (requested) -> stream -> ChannelReconciliationRequested (chunk 0)
 *     -> channelConsumers.reconcileChannel: one chunk of at most CHUNK_SKUS SKUs per delivery; its
 *        end counts the chunk into the run and moves it to the next chunk (whose MODIFY is the next
 *        ChannelReconciliationRequested) or completes it.
 *
 * Safe to repeat (SQS delivers at least once): a delivery whose chunk the run has moved past does
 * nothing; a chunk's counts land once (its end is conditional on the run still being at it); a
 * push compares-and-swaps from what was read; an adjustment has an idempotency key of the run,
 * the SKU and the warehouse, so a repeated delivery replays it instead of adjusting twice, and it
 * lands only on the level version it was computed from (a sale meanwhile makes it fail, and the
 * next run looks again).
 */

/** A quantity the channel itself reported for a SKU, at the platform's time. */
export interface ReportedQuantity {
  sku_id: string;
  quantity: number;
  reported_at: string;
}

/**
 * What the channel itself last reported per SKU (Shopify's inventory_levels/update webhooks), the
 * evidence that a quantity changed on the channel: readReportedQuantities (functions/channels/reported.ts)
 * unless a test gives another.
 */
export type ReportedQuantities = (deps: Deps, channelId: string) => Promise<readonly ReportedQuantity[]>;

export interface ReconcileDeps extends PublishDeps {
  reported?: ReportedQuantities;
}

/** The system caller reconciliation acts as (the ledger rows' actor). */
export const RECONCILER = 'system:reconciler' as const;

/**
 * SKUs per chunk (one consumer delivery). Each costs a level query, a listing read, a platform read
 * and perhaps a push or an adjustment: on Amazon (5 requests a second) about 40 s of pacing at
 * worst, on Shopify a few seconds, well inside CHUNK_BUDGET_MS.
 */
export const CHUNK_SKUS = 100;
/**
 * How long a chunk may wait for the platform's rate limit: past it, what is left of the chunk is
 * recorded as failed (the next run tries again) rather than overrun the consumer's timeout
 * (wiring reconcileChannel: 300 s).
 */
const CHUNK_BUDGET_MS = 200_000;
/** Amazon applies an accepted listings patch asynchronously, usually within minutes. */
const AMAZON_PROCESSING_MS = 15 * 60_000;
/** One request reconciles at most this many connections (one transaction writes their runs). */
export const MAX_SYNC_CHANNELS = 25;
/** A run still requested or running this long after its request is taken for stuck, and the schedule requests the next. */
const RUN_STALE_MS = 60 * 60_000;

// ---------------------------------------------------------------------------------------------
// Runs: requesting, reading

const zeroCounts = (): Counts => ({ checked: 0, in_agreement: 0, drifted: 0, total_abs_difference: 0, pushed: 0, adjusted: 0, reported: 0, failed: 0, skipped: 0 });

const newRun = (deps: Deps, channel: Channel, options: { id: string; trigger: StoredReconciliation['trigger']; skuIds?: string[]; slot?: string }): StoredReconciliation => {
  const now = deps.ctx.now().toISOString();
  return {
    reconciliation_id: options.id,
    channel_id: channel.channel_id,
    platform: channel.platform,
    trigger: options.trigger,
    status: 'requested',
    chunk: 0,
    ...(options.skuIds ? { sku_ids: options.skuIds } : {}),
    ...(options.slot ? { slot: options.slot } : {}),
    requested_by: deps.ctx.caller.subject,
    requested_at: now,
    updated_at: now,
    ...zeroCounts(),
    version: 1,
  };
};

export const presentRun = (run: StoredReconciliation): ReconciliationResponse => ({
  reconciliation_id: run.reconciliation_id,
  channel_id: run.channel_id,
  platform: run.platform,
  trigger: run.trigger,
  status: run.status,
  conflict_rule: run.conflict_rule ?? null,
  sku_ids: run.sku_ids ?? null,
  requested_by: run.requested_by,
  requested_at: run.requested_at,
  started_at: run.started_at ?? null,
  completed_at: run.completed_at ?? null,
  error: run.error ?? null,
  summary: {
    checked: run.checked,
    in_agreement: run.in_agreement,
    drifted: run.drifted,
    total_abs_difference: run.total_abs_difference,
    pushed: run.pushed,
    adjusted: run.adjusted,
    reported: run.reported,
    failed: run.failed,
    skipped: run.skipped,
  },
});

/** Every connection of the caller's tenant (a tenant has a handful). */
export const tenantChannels = async (deps: Deps): Promise<Channel[]> => {
  const all: Channel[] = [];
  let cursor: string | undefined;
  do {
    const page = await listChannels(deps, { cursor, limit: 200 });
    all.push(...page.channels);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return all;
};

/**
 * POST /api/integration/sync: a run per connection named (`channel_id`) or of the platform
 * (`platform_name`), answered at once (202); the consumer does the work. Unknown channel, no
 * connection of that platform, or an unknown SKU: 404, and nothing is written. The runs are
 * written in one transaction with the request's idempotency record, so a request repeated with the
 * same Idempotency-Key answers the same runs and starts none.
 */
export const requestSync = async (deps: Deps, input: SyncInput): Promise<{ reconciliations: ReconciliationResponse[] }> => {
  const tenantId = deps.ctx.caller.tenantId;
  const channels = input.channel_id !== undefined ? [await readChannel(deps, input.channel_id)] : (await tenantChannels(deps)).filter((c) => c.platform === input.platform_name);
  if (channels.length === 0) throw new AppError('NOT_FOUND', `no ${input.platform_name ?? ''} channel is connected`, { platform_name: input.platform_name ?? null });
  // A reconciliation may adjust the stock of every warehouse a connection sells from (channel_wins):
  // a scoped user reconciles only connections wholly in their warehouses, and is refused whole otherwise.
  assertInScope(deps.ctx, channels.flatMap((c) => c.warehouse_ids), 'reconciling a channel that sells from it');
  if (channels.length > MAX_SYNC_CHANNELS) {
    throw validationFailed([{ path: 'platform_name', message: `names ${channels.length} connections; one request reconciles at most ${MAX_SYNC_CHANNELS}: name them by channel_id` }]);
  }
  if (input.sku_ids) {
    const found = await existingCatalogIds(deps, { skuIds: input.sku_ids, warehouseIds: [] });
    const missing = input.sku_ids.find((id) => !found.skuIds.has(id));
    if (missing !== undefined) throw notFound('sku', missing);
  }
  return commitIdempotent(deps, async () => {
    const runs = channels.map((channel) => newRun(deps, channel, { id: newSortableId(), trigger: 'api', ...(input.sku_ids ? { skuIds: input.sku_ids } : {}) }));
    return {
      writes: runs.map((run) => reconciliationCreate(deps.db, tenantId, run, deps.ctx.now())),
      result: { reconciliations: runs.map(presentRun) },
    };
  });
};

/** GET /api/channels/{channel_id}/reconciliations/{reconciliation_id}: the run, and a page of its findings. */
export const getReconciliation = async (deps: Deps, channelId: string, reconciliationId: string, query: { cursor?: string; limit?: number }) => {
  await readChannel(deps, channelId);
  const run = await findReconciliation(deps, channelId, reconciliationId);
  if (!run) throw notFound('reconciliation', reconciliationId);
  const page = await findingsPage(deps, channelId, reconciliationId, query);
  return { ...presentRun(run), findings: page.items, next_cursor: page.next_cursor };
};

// ---------------------------------------------------------------------------------------------
// The schedule

/** The run a schedule tick requests for its 15-minute slot: the same id however often the slot fires. */
export const scheduledReconciliationId = (slotStartMs: number): string => timeOrderedId(slotStartMs, 'scheduled');

const createRun = async (deps: Deps, run: StoredReconciliation): Promise<boolean> => {
  try {
    await writeOne(deps.db, reconciliationCreate(deps.db, deps.ctx.caller.tenantId, run, deps.ctx.now()));
    return true;
  } catch (error) {
    if (error instanceof ConditionFailed) return false;
    throw error;
  }
};

/**
 * Every 15 minutes (channelSchedules.requestReconciliations): one run per connection of either
 * platform, across tenants (the system connection index), for the slot `now` falls in. A tick that
 * fires again within its slot finds the slot's runs there and requests none. A connection whose
 * latest run is still requested or running (a catalogue larger than a slot's work) gets none
 * until that run ends or is an hour old, so runs do not pile up behind one another.
 * `only` keeps the walk to some tenants (the tests share one table).
 */
export const requestScheduledReconciliations = async (db: Db, now: Date, options: { only?: (tenantId: string) => boolean } = {}): Promise<{ connections: number; requested: number }> => {
  const periodMs = RECONCILE_EVERY_SECONDS * 1000;
  const slotStart = Math.floor(now.getTime() / periodMs) * periodMs;
  const id = scheduledReconciliationId(slotStart);
  let connections = 0;
  let requested = 0;
  for (const platform of PLATFORMS) {
    let cursor: string | undefined;
    do {
      const page = await connectionsOfPlatformPage(db, platform, cursor);
      const chosen = page.items.filter(({ tenantId }) => options.only?.(tenantId) ?? true);
      connections += chosen.length;
      const created = await mapBounded(chosen, 8, async ({ tenantId, channel }) => {
        const deps = { db, ctx: systemContext({ tenantId, actor: RECONCILER, requestId: id, now: () => now }) };
        const [latest] = (await recentReconciliations(deps, channel.channel_id, 1)).items;
        const busy = latest && (latest.status === 'requested' || latest.status === 'running') && now.getTime() - Date.parse(latest.requested_at) < RUN_STALE_MS;
        if (busy && latest.reconciliation_id !== id) return false;
        return createRun(deps, newRun(deps, channel, { id, trigger: 'schedule', slot: new Date(slotStart).toISOString() }));
      });
      requested += created.filter(Boolean).length;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }
  return { connections, requested };
};

// ---------------------------------------------------------------------------------------------
// Probable cause

/**
 * Why the channel shows `channel` where we publish something else, from what pushes recorded on
 * the listing (and the channel's own report, when there is one), in this order:
 * 1. the last push failed (last_push_error): `push_pending`, its retry is due;
 * 2. nothing was ever pushed: `never_pushed` (the channel shows its own quantity), unless the
 *    channel reported exactly it: `changed_on_channel`;
 * 3. the channel shows our last push: `missed_push` (our stock moved and no push followed);
 * 4. the channel reported this very quantity itself: `changed_on_channel`;
 * 5. Shopify applies a push when it answers, so what we pushed was there and something else
 *    changed it: `changed_on_channel`;
 * 6. Amazon applies a patch asynchronously: within AMAZON_PROCESSING_MS of our push,
 *    `push_pending`; later, `unknown` (dropped by Amazon, or changed in Seller Central).
 */
export const probableCause = (input: {
  platform: Platform;
  channel: number;
  listing: Pick<Listing, 'last_pushed_quantity' | 'last_pushed_at' | 'last_push_error'>;
  reported?: ReportedQuantity | undefined;
  now: Date;
}): ProbableCause => {
  const { listing } = input;
  const reportedIt = input.reported?.quantity === input.channel;
  if (listing.last_push_error) return 'push_pending';
  const pushed = listing.last_pushed_quantity;
  if (pushed === null || pushed === undefined) return reportedIt ? 'changed_on_channel' : 'never_pushed';
  if (input.channel === pushed) return 'missed_push';
  if (reportedIt || input.platform === 'shopify') return 'changed_on_channel';
  const pushedAt = listing.last_pushed_at ? Date.parse(listing.last_pushed_at) : Number.NaN;
  return input.now.getTime() - pushedAt < AMAZON_PROCESSING_MS ? 'push_pending' : 'unknown';
};

const explain = (cause: ProbableCause, facts: { channel: number; listing: Listing; reported?: ReportedQuantity | undefined }): string => {
  const { listing, channel } = facts;
  switch (cause) {
    case 'push_pending':
      return listing.last_push_error
        ? `our last push failed (${listing.last_push_error}) and waits for its retry`
        : `Amazon accepted our push of ${listing.last_pushed_quantity ?? '?'} at ${listing.last_pushed_at ?? '?'} and may not have applied it yet`;
    case 'never_pushed':
      return 'nothing was pushed to this listing yet: the channel shows its own quantity';
    case 'missed_push':
      return `the channel still shows ${channel}, our last push: our stock moved since and was not pushed`;
    case 'changed_on_channel':
      return facts.reported?.quantity === channel
        ? `the channel reported ${channel} itself at ${facts.reported.reported_at}: changed on the channel`
        : `the channel shows ${channel}, which we never pushed (our last push was ${listing.last_pushed_quantity ?? 'none'}): changed on the channel`;
    default:
      return `Amazon shows ${channel}, not our last push of ${listing.last_pushed_quantity ?? '?'} (${listing.last_pushed_at ?? '?'}): dropped by Amazon or changed in Seller Central`;
  }
};

// ---------------------------------------------------------------------------------------------
// One chunk

interface ChunkEnv {
  tenantId: string;
  run: StoredReconciliation;
  channel: Channel;
  session: ChannelSession;
  rule: ConflictRule;
  deadline: number;
  reported: ReadonlyMap<string, ReportedQuantity>;
}

/** A platform call that throws (the store unreachable, an SDK surprise) is a failed read or push; only a fixed message leaves, never the SDK's error, which could carry the request. */
const platformCall = async <T>(call: () => Promise<T>, failed: (message: string) => T, env: ChunkEnv): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    log.warn('reconciliation: a platform call threw', { tenant_id: env.tenantId, channel_id: env.channel.channel_id, error: errorName(error) ?? 'unknown' });
    return failed('the channel could not be reached');
  }
};

const readFailed = (message: string): ReadOutcome => ({ status: 'failed', message, requests: 0 });
const pushFailed = (message: string): PushOutcome => ({ status: 'failed', retryable: true, message, requests: 0 });

/** The key an adjustment of a run, SKU and warehouse is made under: a repeated delivery replays it (for the key's 24 h) rather than adjusting again. */
const adjustmentIdempotency = (tenantId: string, run: StoredReconciliation, skuId: string, warehouseId: string): Idempotency => {
  const parts = JSON.stringify([tenantId, run.channel_id, run.reconciliation_id, skuId, warehouseId]);
  // The fingerprint is fixed per key, so a repeat replays whatever the first delivery adjusted, even if it would compute another quantity now.
  return { key: `reconcile.${createHash('sha256').update(parts).digest('hex').slice(0, 48)}`, fingerprint: fingerprint('channel_reconciliation', parts) };
};

/** Splits a change of what the connection's warehouses make available into adjustments: up at the first warehouse, down from the fullest first, never below zero. */
const adjustmentPlan = (channel: Channel, levels: readonly StockLevel[], delta: number): { warehouse_id: string; quantity: number; level: StockLevel | undefined }[] => {
  const byWarehouse = new Map(levels.map((level) => [level.warehouse_id, level]));
  if (delta > 0) {
    const [first] = channel.warehouse_ids;
    return first === undefined ? [] : [{ warehouse_id: first, quantity: delta, level: byWarehouse.get(first) }];
  }
  const order = new Map(channel.warehouse_ids.map((id, index) => [id, index]));
  const fullest = levels.filter((l) => l.available > 0).sort((a, b) => b.available - a.available || (order.get(a.warehouse_id) ?? 0) - (order.get(b.warehouse_id) ?? 0));
  const plan: { warehouse_id: string; quantity: number; level: StockLevel | undefined }[] = [];
  let left = -delta;
  for (const level of fullest) {
    if (left === 0) break;
    const take = Math.min(level.available, left);
    plan.push({ warehouse_id: level.warehouse_id, quantity: -take, level });
    left -= take;
  }
  return plan;
};

type Drift = Omit<Finding, 'action' | 'detail'> & { channel: number; difference: number };

/** ours_wins (or channel_wins where the channel shows our own last push): set the channel to ours, compared and swapped from what was read. */
const pushOurs = async (deps: ReconcileDeps, env: ChunkEnv, drift: Drift, why: string): Promise<Finding> => {
  const outcome = await platformCall(
    () => pushQuantity(deps, env.session, drift.sku_id, drift.ours, { force: true, seen: drift.channel, deadline: env.deadline, reference: `stockroom://reconciliations/${env.run.reconciliation_id}` }),
    pushFailed,
    env,
  );
  await countPush(deps, env.channel.channel_id, outcome);
  const rule = env.rule === 'ours_wins' ? 'ours_wins' : 'channel_wins, but the difference is ours not yet published';
  switch (outcome.status) {
    case 'pushed':
      return { ...drift, action: 'pushed', detail: `${why}; ${rule}: set to ${drift.ours} on the channel` };
    case 'unchanged':
      return { ...drift, action: 'none', detail: `${why}; by the time of the push the channel showed ${drift.ours} already` };
    case 'unmapped':
      return { ...drift, action: 'failed', detail: `${why}; the mapping changed during the run: nothing pushed` };
    case 'failed':
      return { ...drift, action: 'failed', detail: `${why}; the push failed: ${outcome.message}` };
  }
};

/**
 * channel_wins: our stock changed so that we publish the channel's quantity. What the warehouses
 * make available must become channel + buffer (for a channel at 0: at most the buffer); the change
 * is recorded as adjustments (reason channel_reconciliation, one ledger row each), up at the
 * connection's first warehouse, down from its fullest warehouses first, never taking available
 * below zero. A channel showing more than we hold is taken as it is: the rule declares it right.
 * Each adjustment lands only on the level version the comparison read.
 */
const adjustOurs = async (deps: ReconcileDeps, env: ChunkEnv, drift: Drift, levels: readonly StockLevel[], listing: Listing, why: string): Promise<Finding> => {
  const { channel, run } = env;
  const available = levels.reduce((sum, level) => sum + Math.max(0, level.available), 0);
  const target = drift.channel === 0 ? Math.min(available, channel.buffer) : drift.channel + channel.buffer;
  const delta = target - available;
  if (Math.abs(delta) > MAX_QUANTITY) return { ...drift, action: 'failed', detail: `${why}; channel_wins, but an adjustment of ${delta} is beyond ${MAX_QUANTITY}: nothing adjusted` };
  // The listing first records the channel's quantity as what the channel shows (it does: it was just read), so the push
  // the adjustment's level change sets off finds nothing to push, and no push bounces back to the channel.
  await recordOnListing(deps, listing, { pushed: drift.channel, seen: drift.channel, error: null });
  const done: string[] = [];
  for (const part of adjustmentPlan(channel, levels, delta)) {
    try {
      await updateStock(
        deps,
        {
          sku_id: drift.sku_id,
          warehouse_id: part.warehouse_id,
          transaction_type: 'adjustment',
          quantity: part.quantity,
          reason: 'channel_reconciliation',
          reference: `reconciliation ${run.reconciliation_id}`,
          note: `${channel.platform} channel ${channel.channel_id} showed ${drift.channel} where we published ${drift.ours}`,
          ...(part.level ? { expected_version: part.level.version } : {}),
        },
        adjustmentIdempotency(deps.ctx.caller.tenantId, run, drift.sku_id, part.warehouse_id),
      );
      done.push(`${part.quantity > 0 ? '+' : ''}${part.quantity} at ${part.warehouse_id}`);
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      const soFar = done.length ? ` (adjusted ${done.join(', ')} before it)` : '';
      const reason = error.code === 'VERSION_CONFLICT' ? 'our stock changed while reconciling' : error.message;
      return { ...drift, action: 'failed', detail: `${why}; channel_wins: the adjustment at ${part.warehouse_id} was refused: ${reason}${soFar}; the next run looks again` };
    }
  }
  return { ...drift, action: 'adjusted', detail: `${why}; channel_wins: adjusted ${done.join(', ')} (reason channel_reconciliation), so we publish ${drift.channel}` };
};

const notMapped = (base: Pick<Finding, 'sku_id' | 'ours' | 'recorded_at'>): Finding => ({
  ...base,
  channel: null,
  difference: null,
  probable_cause: 'not_mapped',
  action: 'none',
  detail: 'the SKU has no mapping on this channel: map it (PUT /api/channels/{channel_id}/listings/{sku_id}) to reconcile it',
});

/** One SKU compared and settled: its finding, or 'in_agreement' (counted, not recorded). */
const reconcileSku = async (deps: ReconcileDeps, env: ChunkEnv, skuId: string, listing: Listing | undefined): Promise<Finding | 'in_agreement'> => {
  const { channel } = env;
  const selling = new Set(channel.warehouse_ids);
  const levels = (await levelsOfSku(deps, skuId)).filter((level) => selling.has(level.warehouse_id));
  const ours = publishedQuantity(channel, levels);
  const base = { sku_id: skuId, ours, recorded_at: deps.ctx.now().toISOString() };
  if (listing?.status !== 'mapped') return notMapped(base);
  const read = await platformCall(() => readChannelQuantity(deps, env.session, skuId, env.deadline), readFailed, env);
  if (read.status === 'unmapped') return notMapped(base);
  if (read.status === 'failed') return { ...base, channel: null, difference: null, probable_cause: 'read_failed', action: 'failed', detail: `the channel could not be read: ${read.message}` };
  if (read.quantity === null) {
    const where = channel.platform === 'shopify' ? 'the inventory item is not stocked at the mapped location on the shop' : 'Amazon has no such listing (or no DEFAULT fulfillment availability) for the seller SKU';
    return { ...base, channel: null, difference: null, probable_cause: 'not_on_channel', action: 'reported', detail: `${where}: check the mapping` };
  }
  if (read.quantity === ours) return 'in_agreement';
  const reported = env.reported.get(skuId);
  const cause = probableCause({ platform: channel.platform, channel: read.quantity, listing, reported, now: deps.ctx.now() });
  const drift: Drift = { ...base, channel: read.quantity, difference: read.quantity - ours, probable_cause: cause };
  const why = explain(cause, { channel: read.quantity, listing, reported });
  if (env.rule === 'report_only') return { ...drift, action: 'reported', detail: `${why}; report_only: nothing changed` };
  if (env.rule === 'ours_wins' || cause === 'missed_push' || cause === 'push_pending') return pushOurs(deps, env, drift, why);
  return adjustOurs(deps, env, drift, levels, listing, why);
};

const tally = (counts: Counts, result: Finding | 'in_agreement'): void => {
  if (result === 'in_agreement') {
    counts.checked += 1;
    counts.in_agreement += 1;
    return;
  }
  if (result.probable_cause === 'not_mapped') {
    counts.skipped += 1;
    return;
  }
  if (result.probable_cause !== 'read_failed') counts.checked += 1;
  if (result.difference !== null && result.difference !== 0) {
    counts.drifted += 1;
    counts.total_abs_difference += Math.abs(result.difference);
    countMetric(METRIC_NAMES.syncDrift, Math.abs(result.difference));
  }
  if (result.action === 'pushed' || result.action === 'adjusted' || result.action === 'reported' || result.action === 'failed') counts[result.action] += 1;
};

/** A status move someone else (another delivery) already made is not an error here. */
/** How long a delivery holds a chunk: its time budget and a margin (the consumer's timeout is 300 s). */
const CHUNK_LEASE_MS = CHUNK_BUDGET_MS + 60_000;

/** Another delivery of the same message is working this chunk: this one is retried later. */
export class ChunkBusy extends Error {
  constructor(reconciliationId: string, chunk: number) {
    super(`reconciliation ${reconciliationId} chunk ${chunk} is being worked by another delivery`);
    this.name = 'ChunkBusy';
  }
}

const moved = async (write: Promise<unknown>): Promise<boolean> => {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionFailed) return false;
    throw error;
  }
};

const failRun = async (deps: Deps, run: StoredReconciliation, error: string): Promise<ReconciliationResponse> => {
  const now = deps.ctx.now().toISOString();
  await moved(writeOne(deps.db, reconciliationTransition(deps.db, deps.ctx.caller.tenantId, run, { from: ['requested', 'running'], set: { status: 'failed', error, completed_at: now, updated_at: now } })));
  return presentRun((await findReconciliation(deps, run.channel_id, run.reconciliation_id)) ?? run);
};

/** The SKUs of a chunk, with their listings, and whether another chunk follows (and where its listings start). */
const chunkOf = async (deps: Deps, run: StoredReconciliation, chunk: number): Promise<{ skus: { sku_id: string; listing: Listing | undefined }[]; next: { cursor?: string } | undefined }> => {
  if (run.sku_ids) {
    const skuIds = run.sku_ids.slice(chunk * CHUNK_SKUS, (chunk + 1) * CHUNK_SKUS);
    const skus = await Promise.all(skuIds.map(async (skuId) => ({ sku_id: skuId, listing: await readListing(deps, run.channel_id, skuId) })));
    return { skus, next: (chunk + 1) * CHUNK_SKUS < run.sku_ids.length ? {} : undefined };
  }
  const page = await mappedListingsPage(deps, run.channel_id, { cursor: run.cursor, limit: CHUNK_SKUS });
  return { skus: page.items.map((listing) => ({ sku_id: listing.sku_id, listing })), next: page.next_cursor === null ? undefined : { cursor: page.next_cursor } };
};


/**
 * The consumer (ChannelReconciliationRequested): reconciles one chunk of a run's SKUs, records the
 * findings, and counts the chunk into the run while moving it to the next chunk (or completing it),
 * once. A delivery for a chunk the run has moved past, or for a finished run, does nothing.
 */
export const reconcileChunk = async (deps: ReconcileDeps, ref: { channel_id: string; reconciliation_id: string; chunk: number }): Promise<ReconciliationResponse | undefined> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  const found = await findReconciliation(deps, ref.channel_id, ref.reconciliation_id);
  if (!found) {
    log.warn('reconciliation to run does not exist', { tenant_id: tenantId, channel_id: ref.channel_id, reconciliation_id: ref.reconciliation_id });
    return undefined;
  }
  if (found.status === 'done' || found.status === 'failed' || found.chunk !== ref.chunk) return presentRun(found);
  const channel = await getItem(db, keys.channel(tenantId, ref.channel_id), decodeChannel);
  if (!channel) return failRun(deps, found, 'the connection was removed');
  let run = found;
  if (run.status === 'requested') {
    const now = ctx.now().toISOString();
    await moved(writeOne(db, reconciliationTransition(db, tenantId, run, { from: ['requested'], set: { status: 'running', started_at: now, conflict_rule: channel.conflict_rule, updated_at: now } })));
    // Read back: a delivery racing this one may have started it, with the rule as it read it then.
    run = (await findReconciliation(deps, run.channel_id, run.reconciliation_id)) ?? run;
  }
  // One delivery works a chunk at a time (SQS may deliver a message twice, even at once): the lease
  // is taken on the run item, and a delivery that finds it held fails, to be delivered again later,
  // when the chunk is done (a no-op) or the holder died and its lease ran out.
  const claimed = await moved(
    writeOne(db, reconciliationTransition(db, tenantId, run, { from: ['running'], atChunk: ref.chunk, leaseFreeAt: Date.now(), set: { lease_until: Date.now() + CHUNK_LEASE_MS } })),
  );
  if (!claimed) {
    const now = await findReconciliation(deps, run.channel_id, run.reconciliation_id);
    if (!now || now.status === 'done' || now.status === 'failed' || now.chunk !== ref.chunk) return now ? presentRun(now) : undefined;
    throw new ChunkBusy(ref.reconciliation_id, ref.chunk);
  }
  let session: ChannelSession | undefined;
  try {
    session = await openSession(deps, channel);
  } catch {
    // Stored credentials that do not parse; neither the issues (which could quote a value) nor the secret are logged.
    session = undefined;
  }
  if (!session) return failRun(deps, run, 'the connection has no usable stored credentials: replace them with PATCH /api/channels/{channel_id}');
  const env: ChunkEnv = {
    tenantId,
    run,
    channel,
    session,
    rule: run.conflict_rule ?? channel.conflict_rule,
    deadline: Date.now() + CHUNK_BUDGET_MS,
    reported: new Map((await (deps.reported ?? readReportedQuantities)(deps, channel.channel_id)).map((report) => [report.sku_id, report])),
  };
  const { skus, next } = await chunkOf(deps, run, ref.chunk);
  const counts = zeroCounts();
  for (const { sku_id, listing } of skus) {
    const result = await reconcileSku(deps, env, sku_id, listing);
    tally(counts, result);
    if (result !== 'in_agreement') await writeOne(db, findingPut(db, tenantId, run, result, ctx.now()));
  }
  const now = ctx.now().toISOString();
  await moved(
    writeOne(
      db,
      reconciliationTransition(db, tenantId, run, {
        from: ['running'],
        atChunk: ref.chunk,
        set: next ? { chunk: ref.chunk + 1, ...(next.cursor ? { cursor: next.cursor } : {}), updated_at: now } : { status: 'done', completed_at: now, updated_at: now },
        add: counts,
        remove: [...(next ? [] : ['cursor']), 'lease_until'],
      }),
    ),
  );
  const after = await findReconciliation(deps, run.channel_id, run.reconciliation_id);
  return after ? presentRun(after) : undefined;
};
