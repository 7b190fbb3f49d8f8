import type { SQSEvent } from 'aws-lambda';
import { createProduct, createSku } from '../../functions/inventory/catalog';
import { handler as reconcileHandler } from '../../functions/channels/handlers/reconcile-channel';
import { receiveChannelOrder } from '../../functions/channels/inbound';
import { putListing } from '../../functions/channels/listings';
import type { ConflictRule } from '../../functions/channels/model';
import { openSession, pushQuantity } from '../../functions/channels/publish';
import { CHUNK_SKUS, probableCause, reconcileChunk, RECONCILER, requestScheduledReconciliations, scheduledReconciliationId } from '../../functions/channels/reconcile';
import { findReconciliation } from '../../functions/channels/reconcile-store';
import { readChannel } from '../../functions/channels/connections';
import { eventsFromRecord } from '../../functions/events/mapper';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import { systemContext } from '../../functions/platform/context';
import { keys } from '../../functions/platform/keys';
import { putItem, writeOne } from '../../functions/platform/writes';
import { locationGid, ShopifyAdminFake } from '../fakes/shopify-admin';
import { SpApiFake } from '../fakes/sp-api';
import { ok, startTestApi, type Client, type TestApi } from '../support/api';
import { contextFor, testDb } from '../support/domain';
import { sqsRecord, streamRecord } from '../support/events';
import { allMovements, reconcile as ledgerAddsUp } from '../support/ledger';
import { levelsOf } from '../support/levels';
import { startLocalPipeline } from '../support/pipeline';

/**
 * Reconciliation (issue 11, scope item 5) on DynamoDB Local against the Shopify Admin and SP-API
 * fakes over real HTTP (api_base_url, local mode): drift injected on a fake behind our back is
 * found and settled under each conflict rule, and recorded per SKU with its probable cause; the
 * consumer delivered twice adjusts once; sku_ids limits a run; tenancy and bad bodies; the
 * 15-minute schedule; the channels' status; and the whole path through the local pipeline.
 */
process.env[LOCAL_MODE_ENV] = '1';

const SHOP_TOKEN = 'shpat_RECONCILE_SECRET_1111';
const LWA = { clientId: 'amzn1.application-oa2-client.RECONCILE', clientSecret: 'lwa_RECONCILE_SECRET_2222', refreshToken: 'Atzr|RECONCILE_SECRET_3333' };
const LOC = locationGid('1');

const db = testDb();
let t: TestApi;
let shopify: ShopifyAdminFake;
let amazon: SpApiFake;
beforeAll(async () => {
  t = await startTestApi();
  shopify = await ShopifyAdminFake.start(SHOP_TOKEN);
  amazon = await SpApiFake.start(LWA);
});
afterAll(async () => {
  await t.close();
  await shopify.stop();
  await amazon.stop();
});

interface Tenant {
  c: Client;
  channelId: string;
  /** Shopify: each SKU's inventory item on the fake. */
  items: Record<string, string>;
  /** Amazon: the connection's seller id on the fake. */
  sellerId: string;
}

interface TenantOptions {
  platform?: 'shopify' | 'amazon';
  rule: ConflictRule;
  buffer?: number;
  /** sku -> warehouse -> units restocked (warehouses in connection order). */
  stock: Record<string, Record<string, number>>;
  /** sku -> what the channel shows at first (SKUs left out are not mapped). */
  shows: Record<string, number>;
}

/** A tenant with SKUs and stock, one connection on a fake, and the SKUs in `shows` mapped to listings the fake holds. */
const tenantWith = async (options: TenantOptions): Promise<Tenant> => {
  const platform = options.platform ?? 'shopify';
  const c = await t.client();
  const compact = c.tenantId.replace(/[^a-z0-9]/g, '');
  ok(await c.post('/api/products', { product_id: 'prod-1', name: 'Widget' }), 201);
  const warehouses = [...new Set(Object.values(options.stock).flatMap((levels) => Object.keys(levels)))];
  for (const [i, id] of warehouses.entries()) ok(await c.post('/api/warehouses', { warehouse_id: id, name: id, latitude: 40 + i, longitude: -74 }), 201);
  for (const [sku, levels] of Object.entries(options.stock)) {
    ok(await c.post('/api/skus', { sku_id: sku, product_id: 'prod-1', name: sku }), 201);
    for (const [wh, quantity] of Object.entries(levels)) if (quantity > 0) ok(await c.post('/api/inventory/update', { sku_id: sku, warehouse_id: wh, transaction_type: 'restock', quantity }));
  }
  const channelId = platform === 'shopify' ? 'shop' : 'amz';
  const sellerId = `A${compact.slice(-20).toUpperCase()}`;
  ok(await c.post('/api/channels', {
    channel_id: channelId, platform, warehouse_ids: warehouses, buffer: options.buffer ?? 0, conflict_rule: options.rule, api_base_url: platform === 'shopify' ? shopify.url : amazon.url,
    credentials: platform === 'shopify'
      ? { shop_domain: `rc-${compact.slice(-24)}.myshopify.com`, access_token: SHOP_TOKEN, webhook_secret: 'whsec_reconcile' }
      : { seller_id: sellerId, marketplace_ids: ['ATVPDKIKX0DER'], lwa_client_id: LWA.clientId, lwa_client_secret: LWA.clientSecret, refresh_token: LWA.refreshToken },
  }), 201);
  const items: Record<string, string> = {};
  for (const [sku, quantity] of Object.entries(options.shows)) {
    if (platform === 'shopify') {
      const variant = shopify.addVariant(`${compact}-${sku}`, { '1': quantity });
      items[sku] = variant.inventoryItemId;
      ok(await c.put(`/api/channels/${channelId}/listings/${sku}`, { inventory_item_id: variant.inventoryItemId, location_id: LOC }));
    } else {
      amazon.setQuantity(sellerId, sku, quantity);
      ok(await c.put(`/api/channels/${channelId}/listings/${sku}`, { product_type: 'PRODUCT' }));
    }
  }
  return { c, channelId, items, sellerId };
};

const shows = (tenant: Tenant, sku: string): number | null | undefined => {
  const item = tenant.items[sku];
  return item !== undefined ? shopify.getQuantity(item, LOC) : amazon.getQuantity(tenant.sellerId, sku);
};
const drift = (tenant: Tenant, sku: string, quantity: number): void => {
  const item = tenant.items[sku];
  if (item !== undefined) shopify.setQuantity(item, LOC, quantity);
  else amazon.setQuantity(tenant.sellerId, sku, quantity);
};

/** The SQS message the reconcile consumer gets for a chunk of a run. */
const message = (tenantId: string, channelId: string, reconciliationId: string, chunk: number): SQSEvent => ({
  Records: [
    sqsRecord(`m-${reconciliationId}-${chunk}`, {
      source: 'stockroom',
      'detail-type': 'ChannelReconciliationRequested',
      detail: { event_id: `ChannelReconciliationRequested:${reconciliationId}:${chunk}`, schema_version: 1, tenant_id: tenantId, occurred_at: new Date().toISOString(), channel_id: channelId, reconciliation_id: reconciliationId, chunk },
    }),
  ],
});

const stored = (tenantId: string, channelId: string, reconciliationId: string) =>
  findReconciliation({ db, ctx: systemContext({ tenantId, actor: RECONCILER, requestId: 'test' }) }, channelId, reconciliationId);

/** Delivers the run's chunks to the consumer, as the stream would, until it is finished. */
const consume = async (tenantId: string, channelId: string, reconciliationId: string): Promise<void> => {
  for (let round = 0; round < 10; round++) {
    const run = await stored(tenantId, channelId, reconciliationId);
    if (!run || run.status === 'done' || run.status === 'failed') return;
    expect(await reconcileHandler(message(tenantId, channelId, reconciliationId, run.chunk))).toEqual({ batchItemFailures: [] });
  }
  throw new Error(`reconciliation ${reconciliationId} did not finish`);
};

/** POST /api/integration/sync for one connection, its chunks delivered, and the run with its findings. */
const syncAndRun = async (tenant: Tenant, body: Record<string, unknown> = {}) => {
  const answer = ok(await tenant.c.post('/api/integration/sync', { channel_id: tenant.channelId, ...body }), 202);
  expect(answer.reconciliations).toHaveLength(1);
  const [run] = answer.reconciliations;
  expect(run).toMatchObject({ channel_id: tenant.channelId, status: 'requested', trigger: 'api', conflict_rule: null });
  await consume(tenant.c.tenantId, tenant.channelId, run.reconciliation_id);
  return ok(await tenant.c.get(`/api/channels/${tenant.channelId}/reconciliations/${run.reconciliation_id}`));
};

const listingOf = async (tenant: Tenant, sku: string) => ok(await tenant.c.get(`/api/channels/${tenant.channelId}/listings`)).listings.find((l: { sku_id: string }) => l.sku_id === sku);
const availableOf = async (c: Client, sku: string): Promise<Record<string, number>> => Object.fromEntries((await levelsOf(c, sku)).map((l) => [l.warehouse_id, l.available]));
const reconciliationRows = async (c: Client, sku: string) => (await allMovements(c, sku)).filter((m) => m.reason === 'channel_reconciliation');

describe('drift injected on the Shopify fake is found, settled under each rule, and recorded', () => {
  test('ours_wins: the channel is set back to ours (compared and swapped from what was read); nothing changes here', async () => {
    const tenant = await tenantWith({ rule: 'ours_wins', stock: { 'sku-a': { 'wh-1': 10 } }, shows: { 'sku-a': 4 } });
    // Never pushed: the shop shows its own quantity.
    const first = await syncAndRun(tenant);
    expect(first).toMatchObject({ status: 'done', conflict_rule: 'ours_wins', summary: { checked: 1, drifted: 1, pushed: 1, total_abs_difference: 6, adjusted: 0, failed: 0 } });
    expect(first.findings).toEqual([
      { sku_id: 'sku-a', ours: 10, channel: 4, difference: -6, probable_cause: 'never_pushed', action: 'pushed', detail: expect.stringContaining('set to 10 on the channel'), recorded_at: expect.any(String) },
    ]);
    expect(shows(tenant, 'sku-a')).toBe(10);
    expect(await listingOf(tenant, 'sku-a')).toMatchObject({ last_pushed_quantity: 10, last_seen_quantity: 10 });

    // Now drift behind our back: the shop shows something we never pushed.
    drift(tenant, 'sku-a', 7);
    const second = await syncAndRun(tenant);
    expect(second.findings).toEqual([expect.objectContaining({ ours: 10, channel: 7, difference: -3, probable_cause: 'changed_on_channel', action: 'pushed' })]);
    expect(shows(tenant, 'sku-a')).toBe(10);
    // The push compared from the 7 it had just read: 7 -> 10, nothing else set.
    expect(shopify.history.get(`${tenant.items['sku-a']}|${LOC}`)).toEqual([10, 10]);
    expect(await availableOf(tenant.c, 'sku-a')).toEqual({ 'wh-1': 10 });
    expect(await reconciliationRows(tenant.c, 'sku-a')).toEqual([]);

    const third = await syncAndRun(tenant);
    expect(third).toMatchObject({ summary: { checked: 1, in_agreement: 1, drifted: 0, pushed: 0 }, findings: [] });
  });

  test('channel_wins: our stock is adjusted to the channel\'s with one channel_reconciliation ledger row; the shop is untouched; a second run finds nothing', async () => {
    const tenant = await tenantWith({ rule: 'channel_wins', buffer: 2, stock: { 'sku-a': { 'wh-1': 10 } }, shows: { 'sku-a': 8 } });
    expect((await syncAndRun(tenant)).summary).toMatchObject({ checked: 1, in_agreement: 1, drifted: 0 });
    drift(tenant, 'sku-a', 5);
    const run = await syncAndRun(tenant);
    expect(run).toMatchObject({ status: 'done', conflict_rule: 'channel_wins', summary: { checked: 1, drifted: 1, adjusted: 1, pushed: 0, total_abs_difference: 3 } });
    expect(run.findings).toEqual([
      expect.objectContaining({ sku_id: 'sku-a', ours: 8, channel: 5, difference: -3, probable_cause: 'never_pushed', action: 'adjusted', detail: expect.stringContaining('-3 at wh-1') }),
    ]);
    // 10 available less the buffer of 2 published 8; the shop's 5 means 7 available here.
    expect(await availableOf(tenant.c, 'sku-a')).toEqual({ 'wh-1': 7 });
    const rows = await reconciliationRows(tenant.c, 'sku-a');
    expect(rows).toEqual([
      expect.objectContaining({ type: 'adjustment', warehouse_id: 'wh-1', deltas: expect.objectContaining({ on_hand: -3, available: -3 }), reference: `reconciliation ${run.reconciliation_id}`, actor: RECONCILER }),
    ]);
    expect(await ledgerAddsUp(tenant.c, 'sku-a')).toEqual([]);
    expect(shows(tenant, 'sku-a')).toBe(5);
    expect(shopify.history.get(`${tenant.items['sku-a']}|${LOC}`)).toBeUndefined();
    // The listing records the channel's quantity, so the push the level change sets off finds nothing to push.
    expect(await listingOf(tenant, 'sku-a')).toMatchObject({ last_pushed_quantity: 5, last_seen_quantity: 5 });

    const again = await syncAndRun(tenant);
    expect(again).toMatchObject({ summary: { checked: 1, in_agreement: 1, drifted: 0, adjusted: 0 }, findings: [] });
    expect(await reconciliationRows(tenant.c, 'sku-a')).toHaveLength(1);
  });

  test('channel_wins takes a decrease from the fullest warehouses first, never below zero; a channel still showing our last push is pushed, not adjusted', async () => {
    const tenant = await tenantWith({ rule: 'channel_wins', stock: { 'sku-a': { 'wh-1': 3, 'wh-2': 10 }, 'sku-b': { 'wh-1': 5 } }, shows: { 'sku-a': 13, 'sku-b': 5 } });
    drift(tenant, 'sku-a', 1);
    // sku-b: our stock moves after a push the shop shows, so the shop still shows our last push: ours is not published yet.
    const channel = await readChannel({ db, ctx: contextFor(tenant.c.tenantId) }, tenant.channelId);
    const deps = { db, ctx: contextFor(tenant.c.tenantId) };
    const session = await openSession(deps, channel);
    // The shop shows 5 already: nothing is set, and the listing records 5 as pushed.
    expect(await pushQuantity(deps, session!, 'sku-b', 5, { force: true, deadline: Date.now() + 10_000, reference: 'stockroom://test' })).toMatchObject({ status: 'unchanged' });
    expect(await listingOf(tenant, 'sku-b')).toMatchObject({ last_pushed_quantity: 5 });
    ok(await tenant.c.post('/api/inventory/update', { sku_id: 'sku-b', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 4 }));

    const run = await syncAndRun(tenant);
    const bySku = Object.fromEntries(run.findings.map((f: { sku_id: string }) => [f.sku_id, f]));
    expect(bySku['sku-a']).toMatchObject({ ours: 13, channel: 1, difference: -12, action: 'adjusted', detail: expect.stringContaining('-10 at wh-2, -2 at wh-1') });
    expect(await availableOf(tenant.c, 'sku-a')).toEqual({ 'wh-1': 1, 'wh-2': 0 });
    expect(await reconciliationRows(tenant.c, 'sku-a')).toHaveLength(2);
    expect(bySku['sku-b']).toMatchObject({ ours: 9, channel: 5, probable_cause: 'missed_push', action: 'pushed' });
    expect(shows(tenant, 'sku-b')).toBe(9);
    expect(await availableOf(tenant.c, 'sku-b')).toEqual({ 'wh-1': 9 });
    expect(await reconciliationRows(tenant.c, 'sku-b')).toEqual([]);
  });

  test('report_only: the finding is recorded with its cause, and nothing changes anywhere', async () => {
    const tenant = await tenantWith({ rule: 'report_only', stock: { 'sku-a': { 'wh-1': 6 } }, shows: { 'sku-a': 6 } });
    drift(tenant, 'sku-a', 9);
    const movementsBefore = await allMovements(tenant.c, 'sku-a');
    const listingBefore = await listingOf(tenant, 'sku-a');
    const run = await syncAndRun(tenant);
    expect(run).toMatchObject({ status: 'done', conflict_rule: 'report_only', summary: { checked: 1, drifted: 1, reported: 1, pushed: 0, adjusted: 0, total_abs_difference: 3 } });
    expect(run.findings).toEqual([expect.objectContaining({ ours: 6, channel: 9, difference: 3, probable_cause: 'never_pushed', action: 'reported', detail: expect.stringContaining('report_only: nothing changed') })]);
    expect(shows(tenant, 'sku-a')).toBe(9);
    expect(shopify.history.get(`${tenant.items['sku-a']}|${LOC}`)).toBeUndefined();
    expect(await allMovements(tenant.c, 'sku-a')).toEqual(movementsBefore);
    expect(await listingOf(tenant, 'sku-a')).toEqual(listingBefore);
  });

  test('what the shop itself reported (its inventory_levels/update webhook) is the evidence a drift names', async () => {
    const tenant = await tenantWith({ rule: 'report_only', stock: { 'sku-a': { 'wh-1': 4 } }, shows: { 'sku-a': 2 } });
    drift(tenant, 'sku-a', 3);
    const [run] = ok(await tenant.c.post('/api/integration/sync', { channel_id: tenant.channelId }), 202).reconciliations;
    const deps = {
      db,
      ctx: systemContext({ tenantId: tenant.c.tenantId, actor: RECONCILER, requestId: 'test' }),
      reported: () => Promise.resolve([{ sku_id: 'sku-a', quantity: 3, reported_at: '2026-01-01T00:00:00.000Z' }]),
    };
    expect(await reconcileChunk(deps, { channel_id: tenant.channelId, reconciliation_id: run.reconciliation_id, chunk: 0 })).toMatchObject({ status: 'done', summary: { drifted: 1, reported: 1 } });
    expect(ok(await tenant.c.get(`/api/channels/${tenant.channelId}/reconciliations/${run.reconciliation_id}`)).findings).toEqual([
      expect.objectContaining({ ours: 4, channel: 3, probable_cause: 'changed_on_channel', detail: expect.stringContaining('the channel reported 3 itself at 2026-01-01T00:00:00.000Z') }),
    ]);
  });

  test('a listing the shop does not stock, and a shop that cannot be reached, are findings of their own; the run still completes', async () => {
    const tenant = await tenantWith({ rule: 'ours_wins', stock: { 'sku-a': { 'wh-1': 2 }, 'sku-b': { 'wh-1': 2 } }, shows: { 'sku-a': 2 } });
    // sku-b mapped to a location the item is not stocked at.
    ok(await tenant.c.put(`/api/channels/${tenant.channelId}/listings/sku-b`, { inventory_item_id: tenant.items['sku-a'], location_id: locationGid('99') }));
    const run = await syncAndRun(tenant);
    expect(run.findings).toEqual([expect.objectContaining({ sku_id: 'sku-b', channel: null, difference: null, probable_cause: 'not_on_channel', action: 'reported' })]);
    await shopify.down();
    try {
      const down = await syncAndRun(tenant, { sku_ids: ['sku-a'] });
      expect(down).toMatchObject({ status: 'done', summary: { checked: 0, failed: 1 } });
      expect(down.findings).toEqual([expect.objectContaining({ sku_id: 'sku-a', channel: null, probable_cause: 'read_failed', action: 'failed' })]);
    } finally {
      await shopify.up();
    }
  });
});

describe('drift injected on the SP-API fake', () => {
  test('ours_wins: Amazon is patched back to ours', async () => {
    const tenant = await tenantWith({ platform: 'amazon', rule: 'ours_wins', stock: { 'sku-a': { 'wh-1': 12 } }, shows: { 'sku-a': 12 } });
    drift(tenant, 'sku-a', 3);
    const run = await syncAndRun(tenant);
    expect(run).toMatchObject({ platform: 'amazon', summary: { drifted: 1, pushed: 1 } });
    expect(run.findings).toEqual([expect.objectContaining({ ours: 12, channel: 3, difference: -9, probable_cause: 'never_pushed', action: 'pushed' })]);
    expect(shows(tenant, 'sku-a')).toBe(12);
    // Amazon applies a patch later than it accepts it: a difference right after our push is taken for that.
    drift(tenant, 'sku-a', 4);
    expect((await syncAndRun(tenant)).findings).toEqual([expect.objectContaining({ channel: 4, probable_cause: 'push_pending', action: 'pushed' })]);
  });

  test('channel_wins: Amazon showing more than we hold is taken as it is, up at the connection\'s first warehouse', async () => {
    const tenant = await tenantWith({ platform: 'amazon', rule: 'channel_wins', stock: { 'sku-a': { 'wh-1': 0, 'wh-2': 4 } }, shows: { 'sku-a': 4 } });
    drift(tenant, 'sku-a', 10);
    const run = await syncAndRun(tenant);
    expect(run.findings).toEqual([expect.objectContaining({ ours: 4, channel: 10, difference: 6, action: 'adjusted', detail: expect.stringContaining('+6 at wh-1') })]);
    expect(await availableOf(tenant.c, 'sku-a')).toEqual({ 'wh-1': 6, 'wh-2': 4 });
    expect(await reconciliationRows(tenant.c, 'sku-a')).toHaveLength(1);
    expect(shows(tenant, 'sku-a')).toBe(10);
    expect((await syncAndRun(tenant)).summary).toMatchObject({ in_agreement: 1, drifted: 0, adjusted: 0 });
  });

  test('report_only on Amazon changes nothing', async () => {
    const tenant = await tenantWith({ platform: 'amazon', rule: 'report_only', stock: { 'sku-a': { 'wh-1': 5 } }, shows: { 'sku-a': 1 } });
    const run = await syncAndRun(tenant);
    expect(run.findings).toEqual([expect.objectContaining({ ours: 5, channel: 1, action: 'reported' })]);
    expect(shows(tenant, 'sku-a')).toBe(1);
    expect(await availableOf(tenant.c, 'sku-a')).toEqual({ 'wh-1': 5 });
  });
});

describe('a run delivered more than once', () => {
  test('the consumer invoked twice with the same message, one after the other and at once (one works the chunk, the other is told to come back), adjusts once and counts once', async () => {
    const tenant = await tenantWith({ rule: 'channel_wins', stock: { 'sku-a': { 'wh-1': 10 } }, shows: { 'sku-a': 10 } });
    drift(tenant, 'sku-a', 6);
    const [first] = ok(await tenant.c.post('/api/integration/sync', { channel_id: tenant.channelId }), 202).reconciliations;
    const once = message(tenant.c.tenantId, tenant.channelId, first.reconciliation_id, 0);
    expect(await reconcileHandler(once)).toEqual({ batchItemFailures: [] });
    expect(await reconcileHandler(once)).toEqual({ batchItemFailures: [] });
    expect(ok(await tenant.c.get(`/api/channels/${tenant.channelId}/reconciliations/${first.reconciliation_id}`))).toMatchObject({ status: 'done', summary: { adjusted: 1, drifted: 1 } });
    expect(await availableOf(tenant.c, 'sku-a')).toEqual({ 'wh-1': 6 });
    expect(await reconciliationRows(tenant.c, 'sku-a')).toHaveLength(1);

    drift(tenant, 'sku-a', 2);
    const [second] = ok(await tenant.c.post('/api/integration/sync', { channel_id: tenant.channelId }), 202).reconciliations;
    const twice = message(tenant.c.tenantId, tenant.channelId, second.reconciliation_id, 0);
    // At once: one delivery works the chunk; the other finds it held and fails, to be delivered again (then a no-op).
    const together = await Promise.all([reconcileHandler(twice), reconcileHandler(twice)]);
    const failures = together.flatMap((r) => r.batchItemFailures);
    expect(failures.length).toBeLessThanOrEqual(1);
    if (failures.length === 1) expect(await reconcileHandler(twice)).toEqual({ batchItemFailures: [] });
    expect(ok(await tenant.c.get(`/api/channels/${tenant.channelId}/reconciliations/${second.reconciliation_id}`))).toMatchObject({ status: 'done', summary: { adjusted: 1 } });
    expect(await availableOf(tenant.c, 'sku-a')).toEqual({ 'wh-1': 2 });
    expect(await reconciliationRows(tenant.c, 'sku-a')).toHaveLength(2);
    expect(await ledgerAddsUp(tenant.c, 'sku-a')).toEqual([]);
  });

  test('a POST repeated with the same Idempotency-Key answers the same runs and requests no other', async () => {
    const tenant = await tenantWith({ rule: 'report_only', stock: { 'sku-a': { 'wh-1': 1 } }, shows: { 'sku-a': 1 } });
    const headers = { 'idempotency-key': 'sync-once' };
    const first = ok(await tenant.c.post('/api/integration/sync', { platform_name: 'shopify' }, headers), 202);
    const again = ok(await tenant.c.post('/api/integration/sync', { platform_name: 'shopify' }, headers), 202);
    expect(again).toEqual(first);
    expect((await tenant.c.post('/api/integration/sync', { channel_id: tenant.channelId }, headers)).status).toBe(422);
  });
});

describe('what a run covers, and who may ask for one', () => {
  test('sku_ids limits the run to those SKUs; a named SKU without a mapping is skipped', async () => {
    const tenant = await tenantWith({ rule: 'ours_wins', stock: { 'sku-a': { 'wh-1': 5 }, 'sku-b': { 'wh-1': 5 }, 'sku-c': { 'wh-1': 5 } }, shows: { 'sku-a': 1, 'sku-b': 1 } });
    const run = await syncAndRun(tenant, { sku_ids: ['sku-b', 'sku-c'] });
    expect(run).toMatchObject({ sku_ids: ['sku-b', 'sku-c'], summary: { checked: 1, drifted: 1, pushed: 1, skipped: 1 } });
    expect(run.findings.map((f: { sku_id: string; probable_cause: string }) => [f.sku_id, f.probable_cause])).toEqual([['sku-b', 'never_pushed'], ['sku-c', 'not_mapped']]);
    expect(shows(tenant, 'sku-a')).toBe(1);
    expect(shows(tenant, 'sku-b')).toBe(5);
  });

  test('another tenant\'s channel or run is 404; an unknown SKU or a platform with no connection is 404; nothing is written', async () => {
    const a = await tenantWith({ rule: 'ours_wins', stock: { 'sku-a': { 'wh-1': 1 } }, shows: { 'sku-a': 0 } });
    const [run] = ok(await a.c.post('/api/integration/sync', { channel_id: a.channelId }), 202).reconciliations;
    const b = await t.client();
    ok(await b.post('/api/products', { product_id: 'prod-1', name: 'Mine' }), 201);
    ok(await b.post('/api/skus', { sku_id: 'sku-a', product_id: 'prod-1', name: 'mine' }), 201);
    for (const body of [{ channel_id: a.channelId }, { channel_id: a.channelId, sku_ids: ['sku-a'] }, { platform_name: 'shopify' }]) {
      expect({ body, status: (await b.post('/api/integration/sync', body)).status }).toEqual({ body, status: 404 });
    }
    expect((await b.get(`/api/channels/${a.channelId}/reconciliations/${run.reconciliation_id}`)).status).toBe(404);
    expect((await a.c.get(`/api/channels/${a.channelId}/reconciliations/01JNOSUCHRUN000000000000000`)).status).toBe(404);
    expect((await a.c.post('/api/integration/sync', { channel_id: a.channelId, sku_ids: ['sku-a', 'sku-nope'] })).status).toBe(404);
    expect((await a.c.post('/api/integration/sync', { platform_name: 'amazon' })).status).toBe(404);
    expect(ok(await b.get('/api/integration/status')).channels).toEqual([]);
    // A's only run is the one it asked for.
    expect(ok(await a.c.get('/api/integration/status')).channels[0].reconciliation_in_progress).toEqual({ reconciliation_id: run.reconciliation_id, status: 'requested', requested_at: run.requested_at });
  });

  test('bad bodies are 400 with every failing field, and write nothing', async () => {
    const tenant = await tenantWith({ rule: 'ours_wins', stock: { 'sku-a': { 'wh-1': 1 } }, shows: { 'sku-a': 1 } });
    const bad = [
      {},
      { platform_name: 'shopify', channel_id: tenant.channelId },
      { platform_name: 'ebay' },
      { channel_id: 'bad#id' },
      { channel_id: tenant.channelId, sku_ids: [] },
      { channel_id: tenant.channelId, sku_ids: ['sku-a', 'sku-a'] },
      { channel_id: tenant.channelId, sku_ids: Array.from({ length: 201 }, (_, i) => `sku-${i}`) },
      { channel_id: tenant.channelId, surprise: true },
    ];
    for (const body of bad) {
      const res = await tenant.c.post('/api/integration/sync', body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
    }
    const [status] = ok(await tenant.c.get('/api/integration/status')).channels;
    expect(status).toMatchObject({ last_reconciliation: null, reconciliation_in_progress: null });
  });

  test('a run whose connection was removed before it ran fails with the reason', async () => {
    const tenant = await tenantWith({ rule: 'ours_wins', stock: { 'sku-a': { 'wh-1': 1 } }, shows: { 'sku-a': 0 } });
    const [run] = ok(await tenant.c.post('/api/integration/sync', { channel_id: tenant.channelId }), 202).reconciliations;
    ok(await tenant.c.delete(`/api/channels/${tenant.channelId}`));
    await consume(tenant.c.tenantId, tenant.channelId, run.reconciliation_id);
    expect(await stored(tenant.c.tenantId, tenant.channelId, run.reconciliation_id)).toMatchObject({ status: 'failed', error: 'the connection was removed' });
    expect(shows(tenant, 'sku-a')).toBe(0);
  });

  test('a viewer may not ask for a run; a manager may', async () => {
    const tenant = await tenantWith({ rule: 'report_only', stock: { 'sku-a': { 'wh-1': 1 } }, shows: { 'sku-a': 1 } });
    const viewer = await t.client({ tenantId: tenant.c.tenantId, role: 'viewer' });
    const manager = await t.client({ tenantId: tenant.c.tenantId, role: 'manager' });
    expect((await viewer.post('/api/integration/sync', { channel_id: tenant.channelId })).status).toBe(403);
    expect((await viewer.get('/api/integration/status')).status).toBe(403);
    expect((await manager.post('/api/integration/sync', { channel_id: tenant.channelId })).status).toBe(202);
    expect((await manager.get('/api/integration/status')).status).toBe(200);
  });
});

describe('the 15-minute schedule', () => {
  test('requests one run per connection across tenants, once per slot, and none while a connection\'s last run is still pending', async () => {
    const one = await tenantWith({ rule: 'report_only', stock: { 'sku-a': { 'wh-1': 1 } }, shows: { 'sku-a': 1 } });
    const two = await tenantWith({ platform: 'amazon', rule: 'report_only', stock: { 'sku-a': { 'wh-1': 1 } }, shows: { 'sku-a': 1 } });
    ok(await two.c.post('/api/channels', {
      channel_id: 'shop', platform: 'shopify', warehouse_ids: ['wh-1'], api_base_url: shopify.url,
      credentials: { shop_domain: `rc2-${two.c.tenantId.replace(/[^a-z0-9]/g, '').slice(-24)}.myshopify.com`, access_token: SHOP_TOKEN, webhook_secret: 'whsec_reconcile' },
    }), 201);
    const ours = new Set([one.c.tenantId, two.c.tenantId]);
    // The table is shared by every test file: the walk is kept to this test's tenants.
    const only = (tenantId: string) => ours.has(tenantId);
    const slot = Math.floor(Date.now() / 900_000) * 900_000;
    const at = new Date(slot + 60_000);
    const id = scheduledReconciliationId(slot);
    expect(id).toMatch(/^[0-9A-Z]{10}-scheduled$/);
    // The connection index is read eventually consistently: a just-created connection may take a moment to show.
    let requested = 0;
    for (let tries = 0; requested < 3 && tries < 20; tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      const tick = await requestScheduledReconciliations(db, at, { only });
      requested += tick.requested;
    }
    expect(requested).toBe(3);
    const runs = [
      await stored(one.c.tenantId, 'shop', id),
      await stored(two.c.tenantId, 'amz', id),
      await stored(two.c.tenantId, 'shop', id),
    ];
    expect(runs).toEqual([0, 1, 2].map(() => expect.objectContaining({ reconciliation_id: id, trigger: 'schedule', status: 'requested', requested_by: RECONCILER, slot: new Date(slot).toISOString() })));
    // The same slot again (a retried tick): nothing more.
    expect(await requestScheduledReconciliations(db, new Date(slot + 120_000), { only })).toEqual({ connections: 3, requested: 0 });
    // The next slot while the runs are still pending: none either.
    expect(await requestScheduledReconciliations(db, new Date(slot + 900_000), { only })).toEqual({ connections: 3, requested: 0 });
    // Once they ran, the next slot requests the next runs.
    await consume(one.c.tenantId, 'shop', id);
    await consume(two.c.tenantId, 'amz', id);
    await consume(two.c.tenantId, 'shop', id);
    expect(await requestScheduledReconciliations(db, new Date(slot + 900_000), { only })).toEqual({ connections: 3, requested: 3 });
    const next = scheduledReconciliationId(slot + 900_000);
    expect(next > id).toBe(true);
    expect(await stored(one.c.tenantId, 'shop', next)).toMatchObject({ status: 'requested', trigger: 'schedule' });
    // The status shows the finished run as the last, and the next as in progress.
    const [status] = ok(await one.c.get('/api/integration/status')).channels;
    expect(status).toMatchObject({ last_reconciliation: { reconciliation_id: id, status: 'done', trigger: 'schedule' }, reconciliation_in_progress: { reconciliation_id: next, status: 'requested' } });
  });
});

describe('GET /api/integration/status', () => {
  test('per channel: the last push and its lag, failed pushes, listings awaiting a push, failed inbound orders, the order poll, and the last reconciliation\'s drift', async () => {
    const tenant = await tenantWith({ rule: 'ours_wins', stock: { 'sku-a': { 'wh-1': 8 }, 'sku-b': { 'wh-1': 2 } }, shows: { 'sku-a': 3, 'sku-b': 2 } });
    const run = await syncAndRun(tenant);
    expect(run.summary).toMatchObject({ drifted: 1, pushed: 1, total_abs_difference: 5 });
    const deps = { db, ctx: contextFor(tenant.c.tenantId) };
    const channel = await readChannel(deps, tenant.channelId);
    // A push that fails (the shop is down) leaves sku-b waiting for a push.
    await shopify.down();
    try {
      expect(await pushQuantity(deps, (await openSession(deps, channel))!, 'sku-b', 1, { deadline: Date.now() + 5_000, reference: 'stockroom://test' })).toMatchObject({ status: 'failed' });
    } finally {
      await shopify.up();
    }
    // Inbound orders: one allocated, one refused for stock.
    await receiveChannelOrder(deps, channel, { external_id: '1001', lines: [{ sku_id: 'sku-a', quantity: 1 }] });
    const refused = await receiveChannelOrder(deps, channel, { external_id: '1002', lines: [{ sku_id: 'sku-b', quantity: 50 }] });
    expect(refused).toMatchObject({ status: 'failed', error_code: 'INSUFFICIENT_STOCK' });

    const status = ok(await tenant.c.get('/api/integration/status'));
    expect(status.as_of).toEqual(expect.any(String));
    expect(status.channels).toEqual([
      {
        channel_id: tenant.channelId,
        platform: 'shopify',
        conflict_rule: 'ours_wins',
        last_push_at: expect.any(String),
        sync_lag_ms: null,
        pushes: { pushed: 1, unchanged: 0, failed: 0, last_error: null, last_error_at: null },
        queue_depth: { listings_awaiting_push: 1, truncated: false, sku_ids: ['sku-b'] },
        failed_inbound_orders: {
          count: 1,
          truncated: false,
          latest: [{ external_id: '1002', order_id: refused.order_id, error_code: 'INSUFFICIENT_STOCK', reason: expect.any(String), updated_at: expect.any(String) }],
        },
        order_poll: null,
        last_reconciliation: {
          reconciliation_id: run.reconciliation_id, status: 'done', trigger: 'api', requested_at: run.requested_at, completed_at: expect.any(String),
          drifted: 1, total_abs_difference: 5, summary: run.summary,
        },
        reconciliation_in_progress: null,
      },
    ]);
  });

  test('an Amazon connection shows its order poll checkpoint as the poller records it', async () => {
    const tenant = await tenantWith({ platform: 'amazon', rule: 'report_only', stock: { 'sku-a': { 'wh-1': 1 } }, shows: { 'sku-a': 1 } });
    const tenantId = tenant.c.tenantId;
    await writeOne(db, putItem(db, {
      name: 'poll checkpoint', key: { pk: keys.channelRecords(tenantId, tenant.channelId, 'POLL'), sk: 'CHECKPOINT' }, entity: 'channel-poll', tenantId,
      value: { last_updated_after: '2026-01-01T00:00:00Z', polled_at: '2026-01-01T00:05:00Z' },
    }));
    const [status] = ok(await tenant.c.get('/api/integration/status')).channels;
    expect(status.order_poll).toEqual({ last_updated_after: '2026-01-01T00:00:00Z', polled_at: '2026-01-01T00:05:00Z' });
  });
});

describe('the stream carries a run chunk by chunk', () => {
  const item = (over: Record<string, unknown>) => ({
    pk: 'T#t1#CHANNEL#shop#RECONCILE', sk: 'r1', entity: 'channel_reconciliation', tenant_id: 't1', channel_id: 'shop', reconciliation_id: 'r1',
    status: 'requested', chunk: 0, version: 1, updated_at: '2026-01-01T00:00:00.000Z', ...over,
  });
  const detailsOf = (record: ReturnType<typeof streamRecord>) => eventsFromRecord(record).map((e) => [e['detail-type'], (e.detail as { chunk: number }).chunk]);

  test('a new run asks for chunk 0, a chunk\'s end that leaves more asks for the next; starting and finishing ask for nothing', () => {
    expect(detailsOf(streamRecord('INSERT', item({})))).toEqual([['ChannelReconciliationRequested', 0]]);
    expect(detailsOf(streamRecord('MODIFY', item({ status: 'running', version: 2 }), item({})))).toEqual([]);
    expect(detailsOf(streamRecord('MODIFY', item({ status: 'running', chunk: 1, version: 3 }), item({ status: 'running', version: 2 })))).toEqual([['ChannelReconciliationRequested', 1]]);
    expect(detailsOf(streamRecord('MODIFY', item({ status: 'done', chunk: 1, version: 4 }), item({ status: 'running', chunk: 1, version: 3 })))).toEqual([]);
    const [event] = eventsFromRecord(streamRecord('INSERT', item({})));
    expect(event?.detail).toMatchObject({ event_id: 'ChannelReconciliationRequested:T#t1#CHANNEL#shop#RECONCILE:r1:v1', tenant_id: 't1', channel_id: 'shop', reconciliation_id: 'r1' });
  });

  test(`through the local pipeline: POST /api/integration/sync -> stream -> consumer, over ${CHUNK_SKUS + 5} listings in two chunks -> done`, async () => {
    const tenant = await tenantWith({ rule: 'ours_wins', stock: { 'sku-a': { 'wh-1': 3 } }, shows: { 'sku-a': 1 } });
    const deps = { db, ctx: contextFor(tenant.c.tenantId) };
    // More listings than one chunk takes, all in agreement (0 here, 0 on the shop), made through the domain functions for speed.
    await createProduct(deps, { product_id: 'bulk', name: 'Bulk' });
    const compact = tenant.c.tenantId.replace(/[^a-z0-9]/g, '');
    for (let i = 0; i < CHUNK_SKUS + 4; i++) {
      const sku = `bulk-${String(i).padStart(3, '0')}`;
      await createSku(deps, { sku_id: sku, product_id: 'bulk', name: sku });
      const variant = shopify.addVariant(`${compact}-${sku}`, { '1': 0 });
      await putListing(deps, tenant.channelId, sku, { inventory_item_id: variant.inventoryItemId, location_id: LOC });
    }
    const pipeline = await startLocalPipeline(tenant.c.tenantId);
    try {
      const [run] = ok(await tenant.c.post('/api/integration/sync', { channel_id: tenant.channelId }), 202).reconciliations;
      let got = run;
      for (let round = 0; round < 20 && got.status !== 'done'; round++) {
        await pipeline.settle();
        got = ok(await tenant.c.get(`/api/channels/${tenant.channelId}/reconciliations/${run.reconciliation_id}`));
      }
      expect(got).toMatchObject({ status: 'done', summary: { checked: CHUNK_SKUS + 5, in_agreement: CHUNK_SKUS + 4, drifted: 1, pushed: 1 } });
      expect(got.findings).toEqual([expect.objectContaining({ sku_id: 'sku-a', ours: 3, channel: 1, action: 'pushed' })]);
      expect(shows(tenant, 'sku-a')).toBe(3);
      expect(Object.values(pipeline.consumers.queues).flatMap((q) => q.deadLetters)).toEqual([]);
    } finally {
      await pipeline.stop();
    }
  }, 120_000);
});

describe('probable cause', () => {
  interface PushState {
    last_pushed_quantity: number | null;
    last_pushed_at: string;
    last_push_error: string | null;
  }
  const listing = (over: Partial<PushState> = {}): PushState => ({ last_pushed_quantity: 5, last_pushed_at: '2026-01-01T00:00:00.000Z', last_push_error: null, ...over });
  const now = new Date('2026-01-01T01:00:00.000Z');
  test.each([
    ['a failed push waits for its retry', { listing: listing({ last_push_error: 'HTTP 503' }) }, 'push_pending'],
    ['never pushed', { listing: listing({ last_pushed_quantity: null }) }, 'never_pushed'],
    ['never pushed, but the channel reported it', { listing: listing({ last_pushed_quantity: null }), reported: { sku_id: 's', quantity: 7, reported_at: 'x' } }, 'changed_on_channel'],
    ['the channel shows our last push', { channel: 5 }, 'missed_push'],
    ['Shopify shows what we never pushed', {}, 'changed_on_channel'],
    ['Amazon, soon after our push', { platform: 'amazon', now: new Date('2026-01-01T00:05:00.000Z') }, 'push_pending'],
    ['Amazon, long after our push', { platform: 'amazon' }, 'unknown'],
    ['Amazon, reported', { platform: 'amazon', reported: { sku_id: 's', quantity: 7, reported_at: 'x' } }, 'changed_on_channel'],
  ] as [string, Partial<Parameters<typeof probableCause>[0]>, string][])('%s', (_name, over, cause) => {
    expect(probableCause({ platform: 'shopify', channel: 7, listing: listing(), now, ...over })).toBe(cause);
  });
});
