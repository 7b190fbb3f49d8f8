import { getAvailability, LocalLwaAuth, listingsClient, patchAvailability } from '../../functions/channels/amazon/client';
import { findVariantsBySku, setAvailable, shopifyClient } from '../../functions/channels/shopify/client';
import { locationGid, ShopifyAdminFake } from '../fakes/shopify-admin';
import { ordersClient, searchOrders, type SearchOrdersInput } from '../../functions/channels/amazon/orders';
import { SpApiFake } from '../fakes/sp-api';

/** The official clients (issue 11, scope item 6) against the wire-format fakes (item 7). */
const SHOP = { shop_domain: 'demo.myshopify.com', access_token: 'shpat_secret_value_123', api_version: '2026-04' };
const LWA = { lwa_client_id: 'amzn1.application-oa2-client.abc', lwa_client_secret: 'lwa-secret-value-456', refresh_token: 'Atzr|refresh-secret-789' };
const SECRETS = [SHOP.access_token, LWA.lwa_client_secret, LWA.refresh_token, LWA.lwa_client_id];
const noSecrets = (value: unknown) => {
  const text = JSON.stringify(value) ?? '';
  for (const s of SECRETS) expect(text).not.toContain(s);
};

describe('Shopify Admin client against the fake', () => {
  let fake: ShopifyAdminFake;
  const loc = locationGid('1');
  beforeAll(async () => {
    fake = await ShopifyAdminFake.start(SHOP.access_token);
  });
  afterAll(() => fake.stop());
  const client = () => shopifyClient({ api_base_url: fake.url }, SHOP);
  const input = (itemId: string, quantity: number, from: number | null, key: string) => ({
    inventoryItemId: itemId, locationId: loc, quantity, changeFromQuantity: from, idempotencyKey: key, reason: 'correction', referenceDocumentUri: 'stockroom://tenants/t/skus/s?v=1',
  });

  test('sku lookup: mapped, unmapped, ambiguous (exact match only)', async () => {
    const a = fake.addVariant('ABC-1', { '1': 5 });
    fake.addVariant('ABC-10', { '1': 2 });
    fake.addVariant('DUP', { '1': 1 });
    fake.addVariant('DUP', { '1': 1 });
    const mapped = await findVariantsBySku(client(), 'ABC-1');
    expect(mapped).toMatchObject({ status: 'mapped', variant: { inventoryItemId: a.inventoryItemId, levels: [{ locationId: loc, available: 5 }] } });
    expect(mapped.status === 'mapped' && mapped.cost?.throttleStatus.maximumAvailable).toBe(1000);
    expect(await findVariantsBySku(client(), 'NOPE')).toMatchObject({ status: 'unmapped' });
    expect(await findVariantsBySku(client(), 'DUP')).toMatchObject({ status: 'ambiguous' });
  });

  test('setAvailable applies; a stale changeFromQuantity leaves the fake unchanged', async () => {
    const v = fake.addVariant('SET-1', { '1': 5 });
    const applied = await setAvailable(client(), input(v.inventoryItemId, 7, 5, 'k-set-1'));
    expect(applied).toMatchObject({ status: 'applied', delta: 2 });
    expect(applied.cost?.requestedQueryCost).toBeGreaterThan(0);
    expect(fake.getQuantity(v.inventoryItemId, loc)).toBe(7);
    fake.setQuantity(v.inventoryItemId, loc, 9); // drift
    const stale = await setAvailable(client(), input(v.inventoryItemId, 3, 7, 'k-set-2'));
    expect(stale).toMatchObject({ status: 'stale', userErrors: [{ code: 'CHANGE_FROM_QUANTITY_STALE' }] });
    expect(fake.getQuantity(v.inventoryItemId, loc)).toBe(9);
  });

  test('the same idempotency key twice applies once; with other input it is a mismatch', async () => {
    const v = fake.addVariant('IDEM-1', { '1': 1 });
    const before = fake.applied;
    const first = await setAvailable(client(), input(v.inventoryItemId, 4, 1, 'k-idem'));
    const again = await setAvailable(client(), input(v.inventoryItemId, 4, 1, 'k-idem'));
    expect(first).toMatchObject({ status: 'applied', delta: 3 });
    expect(again).toMatchObject({ status: 'applied', delta: 3 });
    expect(fake.applied - before).toBe(1);
    expect(fake.getQuantity(v.inventoryItemId, loc)).toBe(4);
    const other = await setAvailable(client(), input(v.inventoryItemId, 6, 4, 'k-idem'));
    expect(other).toMatchObject({ status: 'error', userErrors: [{ code: 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH' }] });
    expect(fake.getQuantity(v.inventoryItemId, loc)).toBe(4);
  });

  test('THROTTLED in a 200 is a throttled outcome with the throttleStatus; nothing changes', async () => {
    const v = fake.addVariant('THR-1', { '1': 1 });
    fake.throttle({ currentlyAvailable: 0, restoreRate: 50 });
    const out = await setAvailable(client(), input(v.inventoryItemId, 8, 1, 'k-thr'));
    expect(out).toMatchObject({ status: 'throttled', throttleStatus: { maximumAvailable: 1000, restoreRate: 50 } });
    expect(out.status === 'throttled' && out.throttleStatus!.currentlyAvailable).toBeLessThan(10);
    expect(fake.getQuantity(v.inventoryItemId, loc)).toBe(1);
    fake.throttle({ currentlyAvailable: 1000 });
  });

  test('a wrong token is rejected (401) and failures carry no credential', async () => {
    const wrong = await findVariantsBySku(shopifyClient({ api_base_url: fake.url }, { ...SHOP, access_token: 'shpat_wrong' }), 'ABC-1');
    expect(wrong).toMatchObject({ status: 'error', httpStatus: 401 });
    fake.fail(1);
    const failed = await findVariantsBySku(client(), 'ABC-1');
    expect(failed).toMatchObject({ status: 'error', httpStatus: 503 });
    await fake.down();
    const down = await findVariantsBySku(client(), 'ABC-1');
    await fake.up();
    expect(down.status).toBe('error');
    for (const out of [wrong, failed, down]) noSecrets(out.status === 'error' ? out.message : out);
    expect(await findVariantsBySku(client(), 'ABC-1')).toMatchObject({ status: 'mapped' });
  });
});

describe('SP-API Listings client against the fake', () => {
  let fake: SpApiFake;
  const seller = 'A1SELLER';
  const marketplaceIds = ['ATVPDKIKX0DER'];
  beforeAll(async () => {
    fake = await SpApiFake.start({ clientId: LWA.lwa_client_id, clientSecret: LWA.lwa_client_secret, refreshToken: LWA.refresh_token });
  });
  afterAll(() => fake.stop());

  test('patchAvailability is accepted and read back; the LWA token is fetched once and cached', async () => {
    fake.setQuantity(seller, 'SKU-1', 2);
    const before = fake.tokenRequests;
    const client = listingsClient({ api_base_url: fake.url }, LWA, { marketplaceIds });
    const out = await patchAvailability(client, { sellerId: seller, sku: 'SKU-1', marketplaceIds, productType: 'PRODUCT', quantity: 7 });
    expect(out).toMatchObject({ status: 'accepted' });
    expect(fake.getQuantity(seller, 'SKU-1')).toBe(7);
    expect(await getAvailability(client, { sellerId: seller, sku: 'SKU-1', marketplaceIds })).toEqual({ status: 'found', quantity: 7 });
    expect(await getAvailability(client, { sellerId: seller, sku: 'NOPE', marketplaceIds })).toEqual({ status: 'not_found' });
    expect(fake.tokenRequests - before).toBe(1);
  });

  test('LocalLwaAuth caches until expires_in and refreshes after', async () => {
    let now = Date.now();
    const auth = new LocalLwaAuth(`${fake.url}/auth/o2/token`, LWA, () => now);
    const a = await Promise.all([auth.getAccessToken(), auth.getAccessToken()]);
    expect(a[0]).toBe(a[1]);
    expect(await auth.getAccessToken()).toBe(a[0]);
    expect(auth.requests).toBe(1);
    now += 3600_000;
    expect(await auth.getAccessToken()).not.toBe(a[0]);
    expect(auth.requests).toBe(2);
  });

  test('429 is surfaced as throttled with x-amzn-RateLimit-Limit; the bucket holds 5 a second', async () => {
    fake.setQuantity(seller, 'SKU-2', 0);
    const client = listingsClient({ api_base_url: fake.url }, LWA, { marketplaceIds });
    const since = Date.now();
    const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => patchAvailability(client, { sellerId: seller, sku: 'SKU-2', marketplaceIds, productType: 'PRODUCT', quantity: i })));
    const throttled = outs.filter((o) => o.status === 'throttled');
    expect(outs.filter((o) => o.status === 'accepted').length).toBeLessThanOrEqual(5);
    expect(throttled.length).toBeGreaterThanOrEqual(3);
    expect(throttled[0]).toMatchObject({ httpStatus: 429, rateLimit: 5 });
    expect(fake.server.requests('patchListingsItem', since).filter((r) => r.status === 200).length).toBeLessThanOrEqual(5);
  });

  test('a wrong access token is 403, a wrong refresh token fails LWA; no error carries a credential', async () => {
    fake.setQuantity(seller, 'SKU-1', 7);
    const bad = listingsClient({ api_base_url: fake.url }, { ...LWA, refresh_token: 'Atzr|wrong' }, { marketplaceIds });
    let thrown: unknown;
    try {
      await patchAvailability(bad, { sellerId: seller, sku: 'SKU-1', marketplaceIds, productType: 'PRODUCT', quantity: 1 });
    } catch (error) {
      thrown = error;
    }
    const out = thrown === undefined ? undefined : thrown instanceof Error ? thrown.message : String(thrown);
    noSecrets(out);
    expect(fake.server.requests('token').at(-1)?.status).toBe(400);
    const client = listingsClient({ api_base_url: fake.url }, LWA, { marketplaceIds });
    expect(await getAvailability(client, { sellerId: seller, sku: 'SKU-1', marketplaceIds })).toMatchObject({ status: 'found' });
    fake.tokens.clear(); // the client's cached token is now unknown to the fake
    const rejected = await getAvailability(client, { sellerId: seller, sku: 'SKU-1', marketplaceIds });
    expect(rejected).toMatchObject({ status: 'error', httpStatus: 403 });
    noSecrets(rejected);
    const warm = listingsClient({ api_base_url: fake.url }, LWA, { marketplaceIds });
    await getAvailability(warm, { sellerId: seller, sku: 'SKU-1', marketplaceIds });
    fake.fail(1);
    const failed = await getAvailability(warm, { sellerId: seller, sku: 'SKU-1', marketplaceIds });
    expect(failed).toMatchObject({ status: 'error', httpStatus: 503 });
    noSecrets(failed);
  });
});

describe('SP-API Orders client (searchOrders v2026-01-01) against the fake', () => {
  let fake: SpApiFake;
  let clock = Date.now();
  const marketplaceIds = ['ATVPDKIKX0DER'];
  const MIN = 60_000;
  beforeAll(async () => {
    fake = await SpApiFake.start({ clientId: LWA.lwa_client_id, clientSecret: LWA.lwa_client_secret, refreshToken: LWA.refresh_token }, { now: () => clock });
  });
  afterAll(() => fake.stop());
  const client = (refresh = LWA.refresh_token) => ordersClient({ api_base_url: fake.url }, { ...LWA, refresh_token: refresh }, marketplaceIds);
  const window = (fromMinutesAgo: number, toMinutesAgo = 3): SearchOrdersInput => ({
    lastUpdatedAfter: new Date(clock - fromMinutesAgo * MIN).toISOString(),
    lastUpdatedBefore: new Date(clock - toMinutesAgo * MIN).toISOString(),
    marketplaceIds,
    maxResultsPerPage: 2,
  });

  test('pages of maxResultsPerPage in lastUpdatedTime order, bounds inclusive; FBA, other marketplaces and other sellers left out; status with FULFILLMENT', async () => {
    clock += 60 * MIN;
    fake.addSeller('A2OTHER', 'Atzr|other-seller');
    const at = (minutesAgo: number) => clock - minutesAgo * MIN;
    const ids = [30, 25, 20, 15, 10].map((m) => fake.placeOrder({ items: [{ sellerSku: 'SKU-A', quantity: m / 5 }], at: at(m) }));
    fake.placeOrder({ items: [{ sellerSku: 'SKU-A', quantity: 1 }], at: at(22), fulfilledBy: 'AMAZON' });
    fake.placeOrder({ items: [{ sellerSku: 'SKU-A', quantity: 1 }], at: at(21), marketplaceId: 'A1F83G8C2ARO7P' });
    fake.placeOrder({ sellerId: 'A2OTHER', items: [{ sellerSku: 'SKU-A', quantity: 1 }], at: at(19) });
    fake.placeOrder({ items: [{ sellerSku: 'SKU-A', quantity: 1 }], at: at(40) });
    fake.cancelOrder(ids[1]!, at(12));
    const input = window(30, 10);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await searchOrders(client(), { ...input, paginationToken: token });
      if (page.status !== 'page') throw new Error(page.message);
      pages += 1;
      expect(page.orders.length).toBeLessThanOrEqual(2);
      seen.push(...page.orders.map((o) => `${o.orderId}:${o.fulfillmentStatus}`));
      token = page.nextToken ?? undefined;
    } while (token);
    // 30, 20, 15 placed; 25 cancelled at 12; 10 on the bound.
    expect(seen).toEqual([`${ids[0]}:UNSHIPPED`, `${ids[2]}:UNSHIPPED`, `${ids[3]}:UNSHIPPED`, `${ids[1]}:CANCELLED`, `${ids[4]}:UNSHIPPED`]);
    expect(pages).toBe(3);
    const other = await searchOrders(client('Atzr|other-seller'), input);
    expect(other.status === 'page' && other.orders.map((o) => o.items)).toEqual([[{ orderItemId: expect.any(String), quantityOrdered: 1, sellerSku: 'SKU-A' }]]);
  });

  test('a tampered token, one for other parameters and one older than 24 hours are 400 InvalidInput; so is a window ending under two minutes ago', async () => {
    clock += 60 * MIN;
    for (const m of [9, 8, 7]) fake.placeOrder({ items: [{ sellerSku: 'SKU-B', quantity: 1 }], at: clock - m * MIN });
    const input = window(10);
    const first = await searchOrders(client(), input);
    if (first.status !== 'page' || !first.nextToken) throw new Error('expected a second page');
    const tampered = `${first.nextToken.slice(0, -2)}${first.nextToken.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await searchOrders(client(), { ...input, paginationToken: tampered })).toMatchObject({ status: 'error', httpStatus: 400, message: 'SP-API HTTP 400: InvalidInput' });
    expect(await searchOrders(client(), { ...window(11), paginationToken: first.nextToken })).toMatchObject({ status: 'error', httpStatus: 400 });
    expect(await searchOrders(client(), { ...input, lastUpdatedBefore: new Date(clock - MIN).toISOString() })).toMatchObject({ status: 'error', httpStatus: 400 });
    expect(await searchOrders(client(), { ...input, paginationToken: first.nextToken })).toMatchObject({ status: 'page', nextToken: null });
    clock += 24 * 60 * MIN + 1;
    expect(await searchOrders(client(), { ...input, paginationToken: first.nextToken })).toMatchObject({ status: 'error', httpStatus: 400 });
  });

  test('the bucket holds 20, then 429 with x-amzn-RateLimit-Limit 0.0056 and nothing read; it refills at 0.0056/s; failures carry no credential', async () => {
    fake.addSeller('A3BURST', 'Atzr|burst-seller');
    const burst = client('Atzr|burst-seller');
    const input = window(10);
    const outs = [];
    for (let i = 0; i < 22; i++) outs.push(await searchOrders(burst, input));
    expect(outs.filter((o) => o.status === 'page')).toHaveLength(20);
    expect(outs.slice(20)).toEqual([
      { status: 'throttled', message: 'SP-API HTTP 429: QuotaExceeded', httpStatus: 429, rateLimit: 0.0056 },
      { status: 'throttled', message: 'SP-API HTTP 429: QuotaExceeded', httpStatus: 429, rateLimit: 0.0056 },
    ]);
    clock += 180_000; // 180 s x 0.0056 = 1.008 requests
    expect(await searchOrders(burst, window(10))).toMatchObject({ status: 'page' });
    expect(await searchOrders(burst, window(10))).toMatchObject({ status: 'throttled' });
    const warm = client();
    expect(await searchOrders(warm, window(10))).toMatchObject({ status: 'page' });
    fake.fail(1);
    const failed = await searchOrders(warm, window(10));
    expect(failed).toMatchObject({ status: 'error', httpStatus: 503 });
    await fake.down();
    const down = await searchOrders(warm, window(10));
    await fake.up();
    expect(down).toMatchObject({ status: 'error', message: 'SP-API request failed: no response' });
    for (const out of [...outs, failed, down]) noSecrets(out);
  });
});
