import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { pollAmazonConnections, pollConnection, readCheckpoint, WINDOW_LAG_MS, type PollHooks, type PollRunSummary, type PollSettings } from '../../functions/channels/amazon-poll';
import { inboundPage, type InboundRecord } from '../../functions/channels/inbound';
import type { Channel } from '../../functions/channels/store';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import { systemContext } from '../../functions/platform/context';
import { keys } from '../../functions/platform/keys';
import { credentialStoreFromEnv, type CredentialStore } from '../../functions/platform/secrets';
import { ORDERS_BURST, ORDERS_RATE, SpApiFake, type FulfillmentStatus } from '../fakes/sp-api';
import { ok, startTestApi, type Client, type TestApi } from '../support/api';
import { testDb } from '../support/domain';

/**
 * The Amazon order poll (issue 11, scope item 4) end to end: tenants, catalogue, stock, Amazon
 * connections and listings made through the API on DynamoDB Local; orders placed, cancelled and
 * paged by the SP-API fake over real HTTP (searchOrders v2026-01-01 wire format, its own rate
 * limiter); the poll run as the schedule runs it (every connection from the system index, each as
 * the system for its tenant), kept to this file's tenants. The fake and the poll share one clock
 * the tests move, so windows, the two-minute rule, token ages and both buckets agree.
 */
process.env[LOCAL_MODE_ENV] = '1';

const MIN = 60_000;
const MARKETPLACE = 'ATVPDKIKX0DER';
const APP = { clientId: 'amzn1.application-oa2-client.POLLAPP', clientSecret: 'poll-app-secret', refreshToken: 'Atzr|poll-default' };

let t: TestApi;
let fake: SpApiFake;
let credentials: CredentialStore;
const db = testDb();
let clock = Date.now();
/** Moves the shared clock on (never back). */
const tick = (ms: number): void => {
  clock += ms;
};

beforeAll(async () => {
  t = await startTestApi();
  credentials = credentialStoreFromEnv();
  fake = await SpApiFake.start(APP, { now: () => clock });
});
afterAll(async () => {
  await t.close();
  await fake.stop();
  db.client.destroy();
});

let sellers = 0;
interface Seller {
  api: Client;
  tenantId: string;
  sellerId: string;
  channel: Channel;
  /** Our order id of an Amazon order. */
  orderIdOf: (amazonOrderId: string) => string;
  place: (items: Record<string, number>, status?: FulfillmentStatus) => string;
}

/**
 * A tenant with SKUs (stock in wh-1), an Amazon connection on the fake for a seller of its own, and
 * each SKU listed under the seller SKU `AMZ-<sku>` (so the map, not the sku_id, is what matches).
 */
const seller = async (stock: Record<string, number> = { 'sku-1': 20 }, options: { refreshToken?: string } = {}): Promise<Seller> => {
  sellers += 1;
  const sellerId = `A${sellers}POLL${Date.now().toString(36).toUpperCase()}`;
  const refreshToken = options.refreshToken ?? `Atzr|${sellerId}`;
  if (!options.refreshToken) fake.addSeller(sellerId, refreshToken);
  const api = await t.client();
  ok(await api.post('/api/products', { product_id: 'prod-1', name: 'Widget' }), 201);
  ok(await api.post('/api/warehouses', { warehouse_id: 'wh-1', name: 'wh-1', latitude: 40, longitude: -74 }), 201);
  for (const [skuId, quantity] of Object.entries(stock)) {
    ok(await api.post('/api/skus', { sku_id: skuId, product_id: 'prod-1', name: skuId }), 201);
    if (quantity > 0) ok(await api.post('/api/inventory/update', { sku_id: skuId, warehouse_id: 'wh-1', transaction_type: 'restock', quantity }));
  }
  const channel = ok<Channel>(
    await api.post('/api/channels', {
      channel_id: 'amz',
      platform: 'amazon',
      warehouse_ids: ['wh-1'],
      api_base_url: fake.url,
      credentials: { seller_id: sellerId, marketplace_ids: [MARKETPLACE], lwa_client_id: APP.clientId, lwa_client_secret: APP.clientSecret, refresh_token: refreshToken },
    }),
    201,
  );
  for (const skuId of Object.keys(stock)) ok(await api.put(`/api/channels/amz/listings/${skuId}`, { product_type: 'PRODUCT', seller_sku: `AMZ-${skuId}` }));
  // Orders come after the connection (the poll starts where its credentials were stored).
  clock = Math.max(clock, Date.now()) + 1000;
  return {
    api,
    tenantId: api.tenantId,
    sellerId,
    channel,
    orderIdOf: (amazonOrderId) => `amz.amz.${amazonOrderId}`,
    place: (items, status) => fake.placeOrder({ sellerId, status, items: Object.entries(items).map(([sellerSku, quantity]) => ({ sellerSku, quantity })) }),
  };
};

/** The schedule's run, kept to these sellers' tenants; the clock moved past the two-minute lag first. */
const run = async (of: Seller[], options: { settings?: Partial<PollSettings>; hooks?: PollHooks; lag?: boolean } = {}): Promise<PollRunSummary> => {
  if (options.lag !== false) tick(WINDOW_LAG_MS + 1000);
  const tenants = new Set(of.map((s) => s.tenantId));
  return pollAmazonConnections({
    db,
    credentials,
    now: () => new Date(clock),
    deadline: Date.now() + 60_000,
    requestId: `test-${clock}`,
    include: (c) => tenants.has(c.tenantId),
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
};
const outcomeOf = (summary: PollRunSummary, s: Seller) => summary.polls.find((p) => p.tenant_id === s.tenantId);

const deps = (s: Seller) => ({ db, ctx: systemContext({ tenantId: s.tenantId, actor: 'system:test', requestId: 'test' }) });
const checkpoint = (s: Seller) => readCheckpoint(deps(s), 'amz');
const inbound = async (s: Seller): Promise<Map<string, InboundRecord>> => new Map((await inboundPage(deps(s), 'amz')).items.map((r) => [r.external_id, r]));
const level = async (s: Seller, skuId = 'sku-1') => {
  const body = ok(await s.api.get(`/api/inventory/sku/${skuId}`));
  return body.levels.find((l: { warehouse_id: string }) => l.warehouse_id === 'wh-1') as { on_hand: number; reserved: number; available: number };
};
/** Ledger rows of one type on sku-1, by the order they belong to. */
const ledger = async (s: Seller, type: 'allocation' | 'release', skuId = 'sku-1'): Promise<string[]> => {
  const body = ok(await s.api.get(`/api/inventory/sku/${skuId}/movements?limit=200`));
  return (body.movements as { type: string; reference?: string }[]).filter((m) => m.type === type).map((m) => m.reference ?? '').sort();
};
const orderStatus = async (s: Seller, amazonOrderId: string): Promise<string> => {
  const res = await s.api.get(`/api/orders/status/${s.orderIdOf(amazonOrderId)}`);
  return res.status === 404 ? 'absent' : (ok(res).status as string);
};
const no429 = (since: number) => expect(fake.server.requests('searchOrders', since).filter((r) => r.status === 429)).toEqual([]);

describe('Amazon order poll', () => {
  afterEach(() => fake.throttleOrders({ rate: ORDERS_RATE, burst: ORDERS_BURST }));

  test('Amazon poll: two pages of orders, a crash between pages, and a restart: every order allocated exactly once', async () => {
    const s = await seller({ 'sku-1': 20 });
    const ids = [1, 2, 3, 4].map((q) => s.place({ 'AMZ-sku-1': q }));
    const since = Date.now();
    const settings = { pageSize: 2 };
    const before = await checkpoint(s);
    expect(before).toBeUndefined();

    // Run 1 applies page 1, stores its checkpoint, and is killed before asking for page 2.
    const crash = new Error('killed between pages');
    const first = await run([s], { settings, hooks: { checkpointStored: () => Promise.reject(crash) } });
    expect(outcomeOf(first, s)).toMatchObject({ outcome: 'failed', error: 'killed between pages' });
    const between = await checkpoint(s);
    expect(between).toMatchObject({ pages_done: 1, next_token: expect.any(String), before: expect.any(String), after: s.channel.credentials.updated_at });
    expect([await orderStatus(s, ids[0]!), await orderStatus(s, ids[2]!)]).toEqual(['allocated', 'absent']);

    // Run 2 resumes at the stored token, applies page 2, and is killed before storing that: the checkpoint stays.
    const second = await run([s], { settings, hooks: { pageApplied: () => Promise.reject(new Error('killed before the checkpoint')) } });
    expect(outcomeOf(second, s)).toMatchObject({ outcome: 'failed' });
    expect(await checkpoint(s)).toMatchObject({ pages_done: 1, next_token: between?.next_token, after: between?.after });

    // The restart reads page 2 again: nothing is allocated twice, and the window closes.
    const third = await run([s], { settings });
    expect(outcomeOf(third, s)).toMatchObject({ outcome: 'caught_up', pages: 1, orders: { allocated: 2, failed: 0, cancelled: 0, skipped: 0 } });

    for (const id of ids) expect(await orderStatus(s, id)).toBe('allocated');
    expect(await level(s)).toMatchObject({ on_hand: 20, reserved: 10, available: 10 });
    expect(await ledger(s, 'allocation')).toEqual(ids.map(s.orderIdOf).sort());
    const records = await inbound(s);
    expect([...records.values()].map((r) => [r.external_id, r.status, r.deliveries])).toEqual(expect.arrayContaining(ids.map((id) => [id, 'allocated', 1])));
    expect(records.size).toBe(4);
    const after = await checkpoint(s);
    expect(after).toMatchObject({ next_token: null, before: null, pages_done: 0, last_error: null, after: between?.before });
    // Page 1, page 2, page 2 again; no 429.
    expect(fake.orderRequests(since)).toBe(3);
    no429(since);

    // Nothing new: the next run reads one empty page and moves on.
    const idle = await run([s], { settings });
    expect(outcomeOf(idle, s)).toMatchObject({ outcome: 'caught_up', pages: 1, orders: { allocated: 0 } });
    expect(await level(s)).toMatchObject({ reserved: 10 });
  });

  test('cancelled orders release stock once, also when seen in two runs, read twice after a crash, or never seen placed', async () => {
    const s = await seller({ 'sku-1': 20 });
    const a = s.place({ 'AMZ-sku-1': 3 });
    const b = s.place({ 'AMZ-sku-1': 2 });
    expect(outcomeOf(await run([s]), s)).toMatchObject({ outcome: 'caught_up', orders: { allocated: 2 } });
    expect(await level(s)).toMatchObject({ reserved: 5, available: 15 });

    fake.cancelOrder(a, clock);
    expect(outcomeOf(await run([s]), s)).toMatchObject({ orders: { cancelled: 1 } });
    expect(await orderStatus(s, a)).toBe('cancelled');
    expect(await level(s)).toMatchObject({ reserved: 2, available: 18 });

    // Amazon touches the cancelled order again (another window sees it): nothing more is released.
    fake.touchOrder(a, clock);
    expect(outcomeOf(await run([s]), s)).toMatchObject({ orders: { cancelled: 1 } });
    expect(await level(s)).toMatchObject({ reserved: 2, available: 18 });

    // B's cancellation is applied, then the run dies before its checkpoint: the page is read again.
    fake.cancelOrder(b, clock);
    expect(outcomeOf(await run([s], { hooks: { pageApplied: () => Promise.reject(new Error('killed')) } }), s)).toMatchObject({ outcome: 'failed' });
    expect(await level(s)).toMatchObject({ reserved: 0, available: 20 });
    expect(outcomeOf(await run([s]), s)).toMatchObject({ outcome: 'caught_up', orders: { cancelled: 1 } });
    expect(await level(s)).toMatchObject({ on_hand: 20, reserved: 0, available: 20 });
    expect(await ledger(s, 'release')).toEqual([s.orderIdOf(a), s.orderIdOf(b)].sort());

    // Placed and cancelled before any run saw it: recorded cancelled, never allocated.
    const c = s.place({ 'AMZ-sku-1': 4 });
    fake.cancelOrder(c, clock);
    // Allocated by a delivery that died before recording it, then cancelled on Amazon: its units still come back.
    const d = s.place({ 'AMZ-sku-1': 1 });
    ok(await s.api.post('/api/orders/allocate', { order_id: s.orderIdOf(d), lines: [{ sku_id: 'sku-1', quantity: 1 }], ship_to: { latitude: 0, longitude: 0 }, strategy: 'priority', allow_split: true, warehouse_ids: ['wh-1'] }), 201);
    tick(1000);
    fake.cancelOrder(d, clock);
    expect(outcomeOf(await run([s]), s)).toMatchObject({ outcome: 'caught_up', orders: { cancelled: 2, allocated: 0 } });
    expect(await orderStatus(s, c)).toBe('absent');
    expect(await orderStatus(s, d)).toBe('cancelled');
    expect(await level(s)).toMatchObject({ on_hand: 20, reserved: 0, available: 20 });
    expect(await ledger(s, 'release')).toEqual([s.orderIdOf(a), s.orderIdOf(b), s.orderIdOf(d)].sort());
    const records = await inbound(s);
    expect([a, b, c, d].map((id) => records.get(id)?.status)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
  });

  test('an order for stock we do not have, or for a seller SKU no listing maps, is recorded failed with its reason; PENDING allocates, a pre-order waits', async () => {
    const s = await seller({ 'sku-1': 5, 'sku-2': 5 });
    const tooMany = s.place({ 'AMZ-sku-1': 9 });
    const unknown = s.place({ 'NOT-LISTED': 1 });
    const mixed = s.place({ 'AMZ-sku-2': 1, 'NOT-LISTED-EITHER': 2 });
    // Our sku_id is not what Amazon calls it: the map is, so this is unmapped too.
    const bySkuId = s.place({ 'sku-2': 1 });
    const pending = s.place({ 'AMZ-sku-2': 2 }, 'PENDING');
    const preorder = s.place({ 'AMZ-sku-2': 1 }, 'PENDING_AVAILABILITY');
    const summary = await run([s]);
    expect(outcomeOf(summary, s)).toMatchObject({ outcome: 'caught_up', orders: { allocated: 1, failed: 4, cancelled: 0, skipped: 1 } });
    const records = await inbound(s);
    expect(records.get(tooMany)).toMatchObject({ status: 'failed', error_code: 'INSUFFICIENT_STOCK', reason: expect.stringMatching(/.+/) });
    expect(records.get(unknown)).toMatchObject({ status: 'failed', error_code: 'UNMAPPED_SKU', reason: expect.stringContaining('NOT-LISTED') });
    expect(records.get(mixed)).toMatchObject({ status: 'failed', error_code: 'UNMAPPED_SKU', reason: expect.stringContaining('NOT-LISTED-EITHER') });
    expect(records.get(bySkuId)).toMatchObject({ status: 'failed', error_code: 'UNMAPPED_SKU' });
    expect(records.get(pending)).toMatchObject({ status: 'allocated', lines: [{ sku_id: 'sku-2', quantity: 2 }] });
    expect(records.has(preorder)).toBe(false);
    expect(await level(s)).toMatchObject({ reserved: 0, available: 5 });
    expect(await level(s, 'sku-2')).toMatchObject({ reserved: 2, available: 3 });
    expect(await checkpoint(s)).toMatchObject({ next_token: null, last_error: null });

    // The payment clears (PENDING -> UNSHIPPED): nothing more; the pre-order is released and allocates now.
    fake.setStatus(pending, 'UNSHIPPED', clock);
    fake.setStatus(preorder, 'UNSHIPPED', clock);
    expect(outcomeOf(await run([s]), s)).toMatchObject({ orders: { allocated: 2 } });
    expect(await level(s, 'sku-2')).toMatchObject({ reserved: 3, available: 2 });
    expect(await ledger(s, 'allocation', 'sku-2')).toEqual([s.orderIdOf(pending), s.orderIdOf(preorder)].sort());
  });

  test('the checkpoint does not advance when a run fails (Amazon down, 503, 429), and the next run picks up every order', async () => {
    const s = await seller({ 'sku-1': 20 });
    const ids = [1, 2, 3].map((q) => s.place({ 'AMZ-sku-1': q }));
    expect(await checkpoint(s)).toBeUndefined();

    await fake.down();
    expect(outcomeOf(await run([s]), s)).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/no response/) });
    await fake.up();
    const downed = await checkpoint(s);
    expect(downed).toMatchObject({ after: s.channel.credentials.updated_at, next_token: null, pages_done: 0, last_success_at: null, last_error: { message: expect.stringMatching(/no response/) } });

    fake.fail(1);
    // The LWA token is cached per client, and each run makes its client: the 503 lands on the token request or the search, either way a failure.
    expect(outcomeOf(await run([s]), s)).toMatchObject({ outcome: 'failed' });
    expect(await checkpoint(s)).toMatchObject({ after: s.channel.credentials.updated_at, next_token: null, last_success_at: null });

    fake.throttleOrders({ empty: true });
    const since = Date.now();
    const throttled = await run([s]);
    expect(outcomeOf(throttled, s)).toMatchObject({ outcome: 'throttled', error: 'SP-API HTTP 429: QuotaExceeded' });
    expect(await checkpoint(s)).toMatchObject({ after: s.channel.credentials.updated_at, next_token: null, bucket: { tokens: 0, rate: ORDERS_RATE }, last_error: { message: 'SP-API HTTP 429: QuotaExceeded' } });
    for (const id of ids) expect(await orderStatus(s, id)).toBe('absent');

    // Straight after, the poll's own bucket is empty too: it does not ask.
    expect(outcomeOf(await run([s], { lag: false }), s)).toMatchObject({ outcome: 'paced', pages: 0 });
    expect(fake.orderRequests(since)).toBe(1);

    // 180 s later both buckets hold one request: the window is read whole.
    tick(180_000);
    expect(outcomeOf(await run([s]), s)).toMatchObject({ outcome: 'caught_up', orders: { allocated: 3 } });
    for (const id of ids) expect(await orderStatus(s, id)).toBe('allocated');
    expect(await level(s)).toMatchObject({ reserved: 6 });
    expect(await checkpoint(s)).toMatchObject({ next_token: null, last_error: null, last_success_at: expect.any(String) });
  });

  test('pacing: a backlog of 25 pages is read 5 pages a run, never past the burst of 20, the rest as the bucket refills, with no 429', async () => {
    const s = await seller({ 'sku-1': 100 });
    const ids = Array.from({ length: 50 }, () => s.place({ 'AMZ-sku-1': 1 }));
    const since = Date.now();
    const first = await run([s], { settings: { pageSize: 2 } });
    expect(outcomeOf(first, s)).toMatchObject({ outcome: 'more', pages: 5 });
    const second = await run([s], { settings: { pageSize: 2, maxPages: 100 }, lag: false });
    expect(outcomeOf(second, s)).toMatchObject({ outcome: 'paced', pages: 15 });
    expect(fake.orderRequests(since)).toBe(20);
    expect(outcomeOf(await run([s], { settings: { pageSize: 2, maxPages: 100 }, lag: false }), s)).toMatchObject({ outcome: 'paced', pages: 0 });
    expect(fake.orderRequests(since)).toBe(20);
    // Five requests' worth of refill (5 / 0.0056 s).
    tick(Math.ceil((5 / ORDERS_RATE) * 1000));
    const last = await run([s], { settings: { pageSize: 2, maxPages: 100 }, lag: false });
    expect(outcomeOf(last, s)).toMatchObject({ outcome: 'caught_up', pages: 5 });
    expect(fake.orderRequests(since)).toBe(25);
    no429(since);
    expect(await level(s)).toMatchObject({ reserved: 50, available: 50 });
    expect((await ledger(s, 'allocation')).length).toBe(50);
    expect(new Set(await ledger(s, 'allocation'))).toEqual(new Set(ids.map(s.orderIdOf)));
  });

  test('a seller whose x-amzn-RateLimit-Limit says more is paced at that rate', async () => {
    fake.throttleOrders({ rate: 1, burst: 20 });
    const s = await seller({ 'sku-1': 100 });
    for (let i = 0; i < 31; i++) s.place({ 'AMZ-sku-1': 1 });
    const since = Date.now();
    expect(outcomeOf(await run([s], { settings: { pageSize: 1, maxPages: 100 } }), s)).toMatchObject({ outcome: 'paced', pages: 20 });
    expect((await checkpoint(s))?.bucket.rate).toBe(1);
    // Ten seconds refill ten requests at the seller's rate, not 0.056.
    tick(10_000);
    expect(outcomeOf(await run([s], { settings: { pageSize: 1, maxPages: 100 }, lag: false }), s)).toMatchObject({ outcome: 'paced', pages: 10 });
    tick(10_000);
    expect(outcomeOf(await run([s], { settings: { pageSize: 1, maxPages: 100 }, lag: false }), s)).toMatchObject({ outcome: 'caught_up', pages: 1 });
    no429(since);
    expect(await level(s)).toMatchObject({ reserved: 31 });
  });

  test('a refused (tampered, rotated or expired) next token restarts the window from the checkpoint without losing or doubling orders', async () => {
    const s = await seller({ 'sku-1': 100 });
    const settings = { pageSize: 2, maxPages: 1 };
    const batch1 = Array.from({ length: 6 }, () => s.place({ 'AMZ-sku-1': 1 }));
    expect(outcomeOf(await run([s], { settings }), s)).toMatchObject({ outcome: 'more', pages: 1 });
    const resumed = await checkpoint(s);
    expect(resumed?.next_token).toEqual(expect.any(String));

    // Tampered in the table.
    await db.client.send(new UpdateCommand({ TableName: db.table, Key: { pk: keys.channelRecords(s.tenantId, 'amz', 'POLL'), sk: 'CHECKPOINT' }, UpdateExpression: 'SET next_token = :t', ExpressionAttributeValues: { ':t': `${resumed?.next_token}tampered` } }));
    const since = Date.now();
    const restarted = await run([s], { settings: { pageSize: 2, maxPages: 10 } });
    // Page 1 again (answered as allocated), then the four not read yet.
    expect(outcomeOf(restarted, s)).toMatchObject({ outcome: 'caught_up', pages: 3, orders: { allocated: 6 } });
    // The refused request, then the window again from `after`: three pages.
    expect(fake.orderRequests(since)).toBe(4);
    const after1 = await checkpoint(s);
    expect(after1).toMatchObject({ next_token: null, before: null, last_error: null });
    expect(Date.parse(after1?.after ?? '')).toBeGreaterThan(Date.parse(resumed?.before ?? ''));

    // Amazon stops honouring the tokens it gave.
    const batch2 = Array.from({ length: 4 }, () => s.place({ 'AMZ-sku-1': 1 }));
    expect(outcomeOf(await run([s], { settings }), s)).toMatchObject({ outcome: 'more' });
    fake.invalidateTokens();
    expect(outcomeOf(await run([s], { settings: { pageSize: 2, maxPages: 10 }, lag: false }), s)).toMatchObject({ outcome: 'caught_up', pages: 2, orders: { allocated: 4 } });

    // A token older than Amazon's 24 hours, with orders placed meanwhile.
    const batch3 = Array.from({ length: 4 }, () => s.place({ 'AMZ-sku-1': 1 }));
    expect(outcomeOf(await run([s], { settings }), s)).toMatchObject({ outcome: 'more' });
    tick(25 * 60 * MIN);
    const late = s.place({ 'AMZ-sku-1': 1 });
    const expired = await run([s], { settings: { pageSize: 2, maxPages: 10 } });
    expect(outcomeOf(expired, s)).toMatchObject({ outcome: 'caught_up', pages: 3, orders: { allocated: 5 } });

    const all = [...batch1, ...batch2, ...batch3, late];
    expect(await ledger(s, 'allocation')).toEqual(all.map(s.orderIdOf).sort());
    expect(await level(s)).toMatchObject({ reserved: all.length });
    for (const id of all) expect(await orderStatus(s, id)).toBe('allocated');
  });

  test("tenants are isolated: each connection sees its own seller's orders, and one failing seller does not stop the others", async () => {
    const a = await seller({ 'sku-1': 10 });
    const b = await seller({ 'sku-1': 10 });
    const broken = await seller({ 'sku-1': 10 }, { refreshToken: 'Atzr|revoked' });
    const ofA = a.place({ 'AMZ-sku-1': 2 });
    const ofB = b.place({ 'AMZ-sku-1': 3 });
    const summary = await run([a, b, broken]);
    expect(summary.connections).toBe(3);
    expect(outcomeOf(summary, a)).toMatchObject({ outcome: 'caught_up', orders: { allocated: 1 } });
    expect(outcomeOf(summary, b)).toMatchObject({ outcome: 'caught_up', orders: { allocated: 1 } });
    expect(outcomeOf(summary, broken)).toMatchObject({ outcome: 'failed' });
    expect(summary.outcomes).toEqual({ caught_up: 2, failed: 1 });
    // The same channel id and sku in both tenants; each holds only its own seller's order.
    expect(await level(a)).toMatchObject({ reserved: 2 });
    expect(await level(b)).toMatchObject({ reserved: 3 });
    expect([await orderStatus(a, ofA), await orderStatus(a, ofB)]).toEqual(['allocated', 'absent']);
    expect([await orderStatus(b, ofB), await orderStatus(b, ofA)]).toEqual(['allocated', 'absent']);
    expect([...(await inbound(a)).keys()]).toEqual([ofA]);
    expect([...(await inbound(b)).keys()]).toEqual([ofB]);
    expect(await checkpoint(broken)).toMatchObject({ last_error: { message: expect.any(String) }, last_success_at: null });
    expect(JSON.stringify(await checkpoint(broken))).not.toContain(APP.clientSecret);
  });

  test('two overlapping runs of one connection allocate each order once and move the checkpoint once per page', async () => {
    const s = await seller({ 'sku-1': 50 });
    const ids = Array.from({ length: 6 }, () => s.place({ 'AMZ-sku-1': 1 }));
    tick(WINDOW_LAG_MS + 1000);
    const poll = () => pollConnection({ db, ctx: systemContext({ tenantId: s.tenantId, actor: 'system:amazon-order-poll', requestId: 'overlap', now: () => new Date(clock) }), credentials, settings: { pageSize: 2 } }, s.channel);
    const outcomes = await Promise.all([poll(), poll()]);
    expect(outcomes.some((o) => o.outcome === 'caught_up')).toBe(true);
    expect(outcomes.every((o) => o.outcome === 'caught_up' || o.outcome === 'overlap')).toBe(true);
    expect(await ledger(s, 'allocation')).toEqual(ids.map(s.orderIdOf).sort());
    expect(await level(s)).toMatchObject({ reserved: 6 });
    expect(await checkpoint(s)).toMatchObject({ next_token: null, before: null });
  });
});
