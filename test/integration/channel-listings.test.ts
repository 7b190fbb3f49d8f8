import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import type { Role } from '../../functions/identity/roles';
import { locationGid, ShopifyAdminFake } from '../fakes/shopify-admin';
import { ok, startTestApi, type Client, type Response, type TestApi } from '../support/api';
import { captureOutput } from '../support/capture';

/**
 * The listing map (issue 11, scope item 2) over HTTP on DynamoDB Local, with discovery against the
 * Shopify Admin fake (api_base_url, local mode): mapped, unmapped and ambiguous found by exact SKU,
 * manual mappings never overwritten, per-platform validation, tenancy and roles, the platform's
 * failures per SKU, and no credential in any answer.
 */
process.env[LOCAL_MODE_ENV] = '1';

const ACCESS_TOKEN = 'shpat_LISTING_SECRET_9999';
const WEBHOOK_SECRET = 'whsec_LISTING_SECRET_8888';
const LWA_SECRET = 'lwa_LISTING_SECRET_7777';
const REFRESH_TOKEN = 'Atzr|LISTING_SECRET_6666';
const LWA_CLIENT = 'amzn1.application-oa2-client.LISTINGCLIENT';
const SECRETS = [ACCESS_TOKEN, WEBHOOK_SECRET, LWA_SECRET, REFRESH_TOKEN, LWA_CLIENT];

let t: TestApi;
let fake: ShopifyAdminFake;
beforeAll(async () => {
  t = await startTestApi();
  fake = await ShopifyAdminFake.start(ACCESS_TOKEN);
});
afterAll(async () => {
  await t.close();
  await fake.stop();
});

/** Every answer body and every stdout/stderr line (the request log included) while the tests ran. */
const { answered, logged } = captureOutput();
afterAll(() => {
  expect(answered.length).toBeGreaterThan(50);
  expect(logged.length).toBeGreaterThan(0);
  for (const text of [...answered, ...logged]) for (const secret of SECRETS) expect({ leaks: secret, in: text.includes(secret) }).toEqual({ leaks: secret, in: false });
});

const recorded = async (options: { tenantId?: string; role?: Role } = {}): Promise<Client> => {
  const c = await t.client(options);
  const keep = async <T>(res: Promise<Response<T>>): Promise<Response<T>> => {
    const r = await res;
    answered.push(JSON.stringify(r.body));
    return r;
  };
  return {
    ...c,
    get: (path, headers) => keep(c.get(path, headers)),
    post: (path, body, headers) => keep(c.post(path, body, headers)),
    patch: (path, body, headers) => keep(c.patch(path, body, headers)),
    put: (path, body, headers) => keep(c.put(path, body, headers)),
    delete: (path, headers) => keep(c.delete(path, headers)),
  };
};

/** The tenant's own Shopify shop: a shop belongs to one connection across all tenants, so each tenant's channel needs its own. */
const shopOf = (c: Client): string => `${c.tenantId}.myshopify.com`;

/** A tenant with the given SKUs, one warehouse, a Shopify channel on the fake and an Amazon channel. */
const tenantWith = async (skuIds: string[]): Promise<Client> => {
  const a = await recorded();
  ok(await a.post('/api/products', { product_id: 'prod-1', name: 'Widget' }), 201);
  for (const id of skuIds) ok(await a.post('/api/skus', { sku_id: id, product_id: 'prod-1', name: id }), 201);
  ok(await a.post('/api/warehouses', { warehouse_id: 'wh-1', name: 'wh-1', latitude: 40, longitude: -74 }), 201);
  ok(await a.post('/api/channels', {
    channel_id: 'shop', platform: 'shopify', warehouse_ids: ['wh-1'], api_base_url: fake.url,
    credentials: { shop_domain: shopOf(a), access_token: ACCESS_TOKEN, webhook_secret: WEBHOOK_SECRET },
  }), 201);
  ok(await a.post('/api/channels', {
    channel_id: 'amz', platform: 'amazon', warehouse_ids: ['wh-1'],
    credentials: { seller_id: 'A1LISTING', marketplace_ids: ['ATVPDKIKX0DER'], lwa_client_id: LWA_CLIENT, lwa_client_secret: LWA_SECRET, refresh_token: REFRESH_TOKEN },
  }), 201);
  return a;
};

const byOutcome = (results: { sku_id: string; outcome: string }[]) => Object.fromEntries(results.map((r) => [r.sku_id, r.outcome]));

describe('listing discovery against the Shopify fake', () => {
  test('mapped (one location), ambiguous (several locations; several variants), unmapped; GET shows them and the unmapped SKUs', async () => {
    const one = fake.addVariant('LM-ONE', { '11': 4 });
    // A longer SKU the fake's prefix search also returns: the exact filter keeps it out.
    fake.addVariant('LM-ONE-XL', { '11': 1 });
    const multi = fake.addVariant('LM-MULTI', { '11': 1, '12': 2 });
    const dupA = fake.addVariant('LM-DUP', { '11': 1 });
    const dupB = fake.addVariant('LM-DUP', { '12': 1 });
    const a = await tenantWith(['LM-DUP', 'LM-MISSING', 'LM-MULTI', 'LM-NEVER', 'LM-ONE']);

    const found = ok(await a.post('/api/channels/shop/listings/discover', { sku_ids: ['LM-ONE', 'LM-MULTI', 'LM-DUP', 'LM-MISSING'] }));
    expect(found).toMatchObject({ channel_id: 'shop', truncated: false, stopped: null });
    expect(byOutcome(found.results)).toEqual({ 'LM-ONE': 'mapped', 'LM-MULTI': 'ambiguous', 'LM-DUP': 'ambiguous', 'LM-MISSING': 'unmapped' });

    const listing = ok(await a.get('/api/channels/shop/listings'));
    expect(listing).toMatchObject({ channel_id: 'shop', platform: 'shopify', next_cursor: null });
    const bySku = Object.fromEntries(listing.listings.map((l: { sku_id: string }) => [l.sku_id, l]));
    expect(bySku['LM-ONE']).toEqual({
      channel_id: 'shop', sku_id: 'LM-ONE', platform: 'shopify', status: 'mapped', source: 'discovered',
      inventory_item_id: one.inventoryItemId, location_id: locationGid('11'), last_pushed_quantity: null, updated_at: expect.any(String), version: 1,
    });
    expect(bySku['LM-MULTI']).toMatchObject({ status: 'ambiguous', inventory_item_id: multi.inventoryItemId, location_id: null, candidate_location_ids: [locationGid('11'), locationGid('12')] });
    expect(bySku['LM-DUP']).toMatchObject({ status: 'ambiguous', inventory_item_id: null, candidate_inventory_item_ids: [dupA.inventoryItemId, dupB.inventoryItemId] });
    expect(bySku['LM-MISSING']).toMatchObject({ status: 'unmapped', source: 'discovered', inventory_item_id: null });
    // LM-NEVER was never looked up: no mapping, reported as unmapped all the same.
    expect(bySku['LM-NEVER']).toBeUndefined();
    expect(listing.unmapped_sku_ids).toEqual(['LM-MISSING', 'LM-NEVER']);
    expect(listing.ambiguous_sku_ids).toEqual(['LM-DUP', 'LM-MULTI']);

    // Paged over the tenant's SKUs.
    const first = ok(await a.get('/api/channels/shop/listings?limit=2'));
    expect(first.listings.map((l: { sku_id: string }) => l.sku_id)).toEqual(['LM-DUP', 'LM-MISSING']);
    expect(first.unmapped_sku_ids).toEqual(['LM-MISSING']);
    const second = ok(await a.get(`/api/channels/shop/listings?limit=2&cursor=${encodeURIComponent(first.next_cursor)}`));
    expect(second.listings.map((l: { sku_id: string }) => l.sku_id)).toEqual(['LM-MULTI']);
    expect(second.unmapped_sku_ids).toEqual(['LM-NEVER']);

    // Without sku_ids every SKU of the tenant is looked up; discovered mappings are rewritten (version 2).
    const all = ok(await a.post('/api/channels/shop/listings/discover', {}));
    expect(all.results.map((r: { sku_id: string }) => r.sku_id)).toEqual(['LM-DUP', 'LM-MISSING', 'LM-MULTI', 'LM-NEVER', 'LM-ONE']);
    expect(all.results.find((r: { sku_id: string }) => r.sku_id === 'LM-ONE').listing).toMatchObject({ status: 'mapped', version: 2 });
  });

  test('a manual mapping is never overwritten by discovery; a hand-set location settles an ambiguous SKU', async () => {
    const v = fake.addVariant('MAN-1', { '21': 3 });
    const multi = fake.addVariant('MAN-MULTI', { '21': 1, '22': 1 });
    const a = await tenantWith(['MAN-1', 'MAN-MULTI']);
    const manual = ok(await a.put('/api/channels/shop/listings/MAN-1', { inventory_item_id: 'gid://shopify/InventoryItem/999999', location_id: 'gid://shopify/Location/77' }));
    expect(manual).toMatchObject({ status: 'mapped', source: 'manual', inventory_item_id: 'gid://shopify/InventoryItem/999999', location_id: 'gid://shopify/Location/77', last_pushed_quantity: null, version: 1 });
    ok(await a.post('/api/channels/shop/listings/discover', { sku_ids: ['MAN-MULTI'] }));
    const settled = ok(await a.put('/api/channels/shop/listings/MAN-MULTI', { inventory_item_id: multi.inventoryItemId, location_id: locationGid('22') }));
    expect(settled).toMatchObject({ status: 'mapped', source: 'manual', version: 2 });

    const again = ok(await a.post('/api/channels/shop/listings/discover', { sku_ids: ['MAN-1', 'MAN-MULTI'] }));
    expect(byOutcome(again.results)).toEqual({ 'MAN-1': 'kept_manual', 'MAN-MULTI': 'kept_manual' });
    const list = ok(await a.get('/api/channels/shop/listings'));
    expect(list.listings).toEqual([manual, settled]);
    expect(list.unmapped_sku_ids).toEqual([]);
    expect(list.ambiguous_sku_ids).toEqual([]);
    expect(v.inventoryItemId).not.toBe(manual.inventory_item_id);
  });

  test('throttled: reported per SKU, nothing stored, and discovery stops early; a down store too; never a 500', async () => {
    fake.addVariant('THR-A', { '31': 1 });
    const a = await tenantWith(['THR-A', 'THR-B', 'THR-C']);
    fake.throttle({ currentlyAvailable: 0, restoreRate: 0 });
    try {
      const out = ok(await a.post('/api/channels/shop/listings/discover', {}));
      expect(byOutcome(out.results)).toEqual({ 'THR-A': 'throttled', 'THR-B': 'skipped', 'THR-C': 'skipped' });
      expect(out.stopped).toMatch(/throttled/i);
    } finally {
      fake.throttle({ currentlyAvailable: 1000, restoreRate: 50 });
    }
    expect(ok(await a.get('/api/channels/shop/listings')).listings).toEqual([]);

    fake.fail(1);
    const failed = ok(await a.post('/api/channels/shop/listings/discover', { sku_ids: ['THR-A', 'THR-B'] }));
    // A 503 is one SKU's error; the next SKU is still looked up.
    expect(byOutcome(failed.results)).toEqual({ 'THR-A': 'error', 'THR-B': 'unmapped' });
    expect(failed.results[0].detail).toMatch(/503/);

    await fake.down();
    try {
      const down = ok(await a.post('/api/channels/shop/listings/discover', { sku_ids: ['THR-A', 'THR-C'] }));
      expect(byOutcome(down.results)).toEqual({ 'THR-A': 'error', 'THR-C': 'skipped' });
      expect(down.stopped).toMatch(/reached/);
    } finally {
      await fake.up();
    }
  });

  test('credentials the store refuses stop discovery with a per-SKU error', async () => {
    const a = await tenantWith(['CRED-1', 'CRED-2']);
    ok(await a.patch('/api/channels/shop', { credentials: { shop_domain: shopOf(a), access_token: 'shpat_wrong_one', webhook_secret: WEBHOOK_SECRET } }));
    const out = ok(await a.post('/api/channels/shop/listings/discover', {}));
    expect(byOutcome(out.results)).toEqual({ 'CRED-1': 'error', 'CRED-2': 'skipped' });
    expect(out.stopped).toMatch(/401/);
    expect(JSON.stringify(out)).not.toContain('shpat_wrong_one');
  });
});

describe('manual mappings and validation', () => {
  test('Amazon: seller_sku defaults to the sku_id, product_type is required; discovery is Shopify only (400)', async () => {
    const a = await tenantWith(['AMZ-1', 'AMZ-2']);
    expect(ok(await a.put('/api/channels/amz/listings/AMZ-1', { product_type: 'LUGGAGE' }))).toMatchObject({ platform: 'amazon', status: 'mapped', source: 'manual', seller_sku: 'AMZ-1', product_type: 'LUGGAGE' });
    expect(ok(await a.put('/api/channels/amz/listings/AMZ-2', { seller_sku: 'my sku 2', product_type: 'PRODUCT' }))).toMatchObject({ seller_sku: 'my sku 2', version: 1 });
    const discover = await a.post('/api/channels/amz/listings/discover', {});
    expect(discover.status).toBe(400);
    expect(discover.body.error.message).toMatch(/Shopify only; set seller_sku and product_type by hand/);
    const list = ok(await a.get('/api/channels/amz/listings'));
    expect(list).toMatchObject({ platform: 'amazon', unmapped_sku_ids: [], ambiguous_sku_ids: [] });
    expect(list.listings).toHaveLength(2);
  });

  test('deleting a connection deletes its listings: one made again under the same id starts with no mapping', async () => {
    const a = await tenantWith(['DEL-1', 'DEL-2']);
    ok(await a.put('/api/channels/amz/listings/DEL-1', { product_type: 'LUGGAGE' }));
    ok(await a.put('/api/channels/amz/listings/DEL-2', { product_type: 'LUGGAGE' }));
    expect(ok(await a.get('/api/channels/amz/listings')).listings).toHaveLength(2);
    ok(await a.delete('/api/channels/amz'));
    expect((await a.get('/api/channels/amz/listings')).status).toBe(404);
    ok(await a.post('/api/channels', {
      channel_id: 'amz', platform: 'amazon', warehouse_ids: ['wh-1'],
      credentials: { seller_id: 'A1LISTING', marketplace_ids: ['ATVPDKIKX0DER'], lwa_client_id: LWA_CLIENT, lwa_client_secret: LWA_SECRET, refresh_token: REFRESH_TOKEN },
    }), 201);
    expect(ok(await a.get('/api/channels/amz/listings'))).toMatchObject({ listings: [], unmapped_sku_ids: ['DEL-1', 'DEL-2'] });
  });

  test('PUT bodies are validated per platform (400, nothing written); unknown SKU or channel is 404', async () => {
    const a = await tenantWith(['VAL-1']);
    const item = 'gid://shopify/InventoryItem/5';
    const location = 'gid://shopify/Location/6';
    const shopifyBad: unknown[] = [
      {},
      { inventory_item_id: item },
      { inventory_item_id: '5', location_id: location },
      { inventory_item_id: item, location_id: 'gid://shopify/InventoryItem/6' },
      { inventory_item_id: 'gid://shopify/InventoryItem/abc', location_id: location },
      { inventory_item_id: item, location_id: location, extra: 1 },
      { product_type: 'LUGGAGE' },
      { seller_sku: 'X', product_type: 'LUGGAGE' },
    ];
    for (const body of shopifyBad) expect({ body, status: (await a.put('/api/channels/shop/listings/VAL-1', body)).status }).toEqual({ body, status: 400 });
    const amazonBad: unknown[] = [
      {},
      { seller_sku: 'X' },
      { product_type: 'luggage' },
      { product_type: 'LUGGAGE', seller_sku: '' },
      { product_type: 'LUGGAGE', seller_sku: ' padded' },
      { product_type: 'LUGGAGE', seller_sku: 'x'.repeat(41) },
      { inventory_item_id: item, location_id: location },
    ];
    for (const body of amazonBad) expect({ body, status: (await a.put('/api/channels/amz/listings/VAL-1', body)).status }).toEqual({ body, status: 400 });
    expect(ok(await a.get('/api/channels/shop/listings')).listings).toEqual([]);
    expect(ok(await a.get('/api/channels/amz/listings')).listings).toEqual([]);

    expect((await a.put('/api/channels/shop/listings/NOPE', { inventory_item_id: item, location_id: location })).status).toBe(404);
    expect((await a.put('/api/channels/nope/listings/VAL-1', { inventory_item_id: item, location_id: location })).status).toBe(404);
    expect((await a.get('/api/channels/nope/listings')).status).toBe(404);
    expect((await a.post('/api/channels/nope/listings/discover', {})).status).toBe(404);
    expect((await a.post('/api/channels/shop/listings/discover', { sku_ids: ['VAL-1', 'NOPE'] })).status).toBe(404);
    expect((await a.post('/api/channels/shop/listings/discover', { sku_ids: [] })).status).toBe(400);
    expect((await a.post('/api/channels/shop/listings/discover', { sku_ids: Array.from({ length: 201 }, (_, i) => `s-${i}`) })).status).toBe(400);
    expect((await a.post('/api/channels/shop/listings/discover', { sku_ids: ['VAL-1', 'VAL-1'] })).status).toBe(400);
  });

  test("another tenant's channel is 404 everywhere; a manager reads but cannot write (403)", async () => {
    fake.addVariant('TEN-1', { '41': 1 });
    const a = await tenantWith(['TEN-1']);
    ok(await a.put('/api/channels/shop/listings/TEN-1', { inventory_item_id: 'gid://shopify/InventoryItem/1', location_id: 'gid://shopify/Location/1' }));
    const b = await recorded();
    ok(await b.post('/api/products', { product_id: 'prod-1', name: 'Other' }), 201);
    ok(await b.post('/api/skus', { sku_id: 'TEN-1', product_id: 'prod-1', name: 'TEN-1' }), 201);
    expect((await b.get('/api/channels/shop/listings')).status).toBe(404);
    expect((await b.put('/api/channels/shop/listings/TEN-1', { inventory_item_id: 'gid://shopify/InventoryItem/2', location_id: 'gid://shopify/Location/2' })).status).toBe(404);
    const before = fake.server.requests('productVariants').length;
    expect((await b.post('/api/channels/shop/listings/discover', {})).status).toBe(404);
    expect(fake.server.requests('productVariants').length).toBe(before);

    const manager = await recorded({ tenantId: a.tenantId, role: 'manager' });
    expect(ok(await manager.get('/api/channels/shop/listings')).listings).toHaveLength(1);
    expect((await manager.put('/api/channels/shop/listings/TEN-1', { inventory_item_id: 'gid://shopify/InventoryItem/3', location_id: 'gid://shopify/Location/3' })).status).toBe(403);
    expect((await manager.post('/api/channels/shop/listings/discover', {})).status).toBe(403);
    const clerk = await recorded({ tenantId: a.tenantId, role: 'clerk' });
    expect((await clerk.get('/api/channels/shop/listings')).status).toBe(403);
    expect(ok(await a.get('/api/channels/shop/listings')).listings[0]).toMatchObject({ inventory_item_id: 'gid://shopify/InventoryItem/1', version: 1 });
  });
});
