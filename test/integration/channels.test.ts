import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import type { Role } from '../../functions/identity/roles';
import { createChannel, patchChannel, readChannel } from '../../functions/channels/connections';
import { createChannelBody, patchChannelBody } from '../../functions/channels/schemas';
import { findShopRegistration } from '../../functions/channels/store';
import { createWarehouse } from '../../functions/inventory/catalog';
import { localEncryptedStore, memoryStore, type CredentialStore } from '../../functions/platform/secrets';
import { ok, startTestApi, type Client, type Response, type TestApi } from '../support/api';
import { captureOutput } from '../support/capture';
import { contextFor, testDb } from '../support/domain';
import { newShopDomain } from '../support/shops';

/**
 * Sales channel connections (issue 11, step 1) over HTTP on DynamoDB Local: CRUD, validation,
 * roles and tenancy, and that credentials are write-only: no response and no log line ever
 * carries a credential value, and the local store holds them encrypted only.
 */
process.env[LOCAL_MODE_ENV] = '1';

let t: TestApi;
const db = testDb();
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

/** Every credential value any test sends: none may ever come back or be logged. */
const SECRETS = [
  'shpat_SECRET_token_1111',
  'whsec_SECRET_2222',
  'shpat_SECRET_rotated_3333',
  'whsec_SECRET_rotated_4444',
  'amzn1.application-oa2-client.SECRETCLIENT5555',
  'lwa_SECRET_client_secret_6666',
  'Atzr|SECRET_refresh_7777',
];
const [accessToken, webhookSecret, rotatedToken, rotatedWebhookSecret, lwaClientId, lwaClientSecret, refreshToken] = SECRETS as [string, string, string, string, string, string, string];

/** A shop belongs to one connection across tenants: each connection a test makes gets its own shop unless it names one. */
const shopifyCredentials = (shopDomain = newShopDomain('acme')) => ({ shop_domain: shopDomain, access_token: accessToken, webhook_secret: webhookSecret });
const amazonCredentials = {
  seller_id: 'A2EUQ1WTGCTBG2',
  marketplace_ids: ['ATVPDKIKX0DER', 'A2EUQ1WTGCTBG2'],
  lwa_client_id: lwaClientId,
  lwa_client_secret: lwaClientSecret,
  refresh_token: refreshToken,
};

/** Every response body any test received (as JSON text) and every stdout/stderr line, checked for credential values at the end. */
const { answered, logged } = captureOutput();

/** A client whose every answer is recorded in `answered`. */
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

const withWarehouses = async (c: Client, ids = ['wh-1', 'wh-2', 'wh-3']): Promise<void> => {
  for (const id of ids) ok(await c.post('/api/warehouses', { warehouse_id: id, name: id, latitude: 40, longitude: -74 }), 201);
};

const shopifyBody = (extra: Record<string, unknown> = {}) => ({ channel_id: 'shop-1', platform: 'shopify', warehouse_ids: ['wh-1'], credentials: shopifyCredentials(), ...extra });
const amazonBody = (extra: Record<string, unknown> = {}) => ({ channel_id: 'amz-1', platform: 'amazon', warehouse_ids: ['wh-1', 'wh-2'], buffer: 3, conflict_rule: 'report_only', credentials: amazonCredentials, ...extra });

/** Every file under dir (recursively), with its path. */
const filesUnder = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))));
  return nested.flat();
};

describe('channel connections', () => {
  test('create both platforms, list, get, patch (buffer, warehouses, credentials), delete', async () => {
    const a = await recorded();
    await withWarehouses(a);
    const shopBody = shopifyBody();
    const shop = await a.post('/api/channels', shopBody);
    expect(shop.status).toBe(201);
    expect(shop.body).toEqual({
      channel_id: 'shop-1',
      platform: 'shopify',
      warehouse_ids: ['wh-1'],
      buffer: 0,
      conflict_rule: 'ours_wins',
      account: { shop_domain: shopBody.credentials.shop_domain, api_version: '2026-04' },
      credentials: { stored: true, fields: ['shop_domain', 'access_token', 'webhook_secret', 'api_version'], updated_at: expect.any(String) },
      version: 1,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const amazon = ok(await a.post('/api/channels', amazonBody()), 201);
    expect(amazon).toMatchObject({
      channel_id: 'amz-1',
      platform: 'amazon',
      warehouse_ids: ['wh-1', 'wh-2'],
      buffer: 3,
      conflict_rule: 'report_only',
      account: { seller_id: 'A2EUQ1WTGCTBG2', marketplace_ids: ['ATVPDKIKX0DER', 'A2EUQ1WTGCTBG2'] },
      credentials: { stored: true, fields: ['seller_id', 'marketplace_ids', 'lwa_client_id', 'lwa_client_secret', 'refresh_token'] },
    });
    // A generated id, as for other entities.
    const generated = ok(await a.post('/api/channels', shopifyBody({ channel_id: undefined })), 201);
    expect(generated.channel_id).toMatch(/^[0-9A-Z]{26}$/);

    const store = localEncryptedStore(t.channelSecretsDir);
    expect(await store.get(a.tenantId, 'shop-1')).toEqual({ ...shopBody.credentials, api_version: '2026-04' });
    expect(await store.get(a.tenantId, 'amz-1')).toEqual(amazonCredentials);

    const list = ok(await a.get('/api/channels'));
    expect(list.channels.map((c: { channel_id: string }) => c.channel_id).sort()).toEqual(['amz-1', generated.channel_id, 'shop-1'].sort());
    expect(ok(await a.get('/api/channels/shop-1'))).toEqual(shop.body);
    const paged = ok(await a.get('/api/channels?limit=1'));
    expect(paged.channels).toHaveLength(1);
    expect(paged.next_cursor).toEqual(expect.any(String));

    const patched = ok(await a.patch('/api/channels/shop-1', { buffer: 5, warehouse_ids: ['wh-2', 'wh-3'], conflict_rule: 'channel_wins' }));
    expect(patched).toMatchObject({ buffer: 5, warehouse_ids: ['wh-2', 'wh-3'], conflict_rule: 'channel_wins', version: 2, credentials: shop.body.credentials });
    const rotated = { shop_domain: newShopDomain('acme'), access_token: rotatedToken, webhook_secret: rotatedWebhookSecret, api_version: '2026-07' };
    const replaced = ok(await a.patch('/api/channels/shop-1', { credentials: rotated }));
    expect(replaced).toMatchObject({ version: 3, buffer: 5, account: { shop_domain: rotated.shop_domain, api_version: '2026-07' } });
    expect(replaced.credentials.updated_at >= shop.body.credentials.updated_at).toBe(true);
    expect(await store.get(a.tenantId, 'shop-1')).toEqual(rotated);
    // The other platform's credential set is refused: a connection's platform cannot change.
    const wrong = await a.patch('/api/channels/shop-1', { credentials: amazonCredentials });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details.fields).toEqual([expect.objectContaining({ path: 'credentials' })]);
    expect(ok(await a.get('/api/channels/shop-1')).version).toBe(3);

    const removed = ok(await a.delete('/api/channels/shop-1'));
    expect(removed.channel_id).toBe('shop-1');
    expect((await a.get('/api/channels/shop-1')).status).toBe(404);
    expect((await a.delete('/api/channels/shop-1')).status).toBe(404);
    expect(await store.get(a.tenantId, 'shop-1')).toBeUndefined();
    expect(await store.get(a.tenantId, 'amz-1')).toEqual(amazonCredentials);
  });

  test('a retry with the same Idempotency-Key answers the first answer; a duplicate id is 409', async () => {
    const a = await recorded();
    await withWarehouses(a);
    const body = shopifyBody();
    const first = ok(await a.post('/api/channels', body, { 'idempotency-key': 'k-1' }), 201);
    expect(ok(await a.post('/api/channels', body, { 'idempotency-key': 'k-1' }), 201)).toEqual(first);
    // The same id for the same shop: the connection exists (its own shop claim passes), so the answer is ALREADY_EXISTS.
    const duplicate = await a.post('/api/channels', shopifyBody({ credentials: { ...body.credentials, access_token: rotatedToken } }));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('ALREADY_EXISTS');
    // The 409 stored nothing: the connection keeps its own credentials.
    expect(await localEncryptedStore(t.channelSecretsDir).get(a.tenantId, 'shop-1')).toMatchObject({ access_token: accessToken });
  });

  test('the local store keeps credentials encrypted: no file holds a credential value, the key file is 0600', async () => {
    const a = await recorded();
    await withWarehouses(a);
    ok(await a.post('/api/channels', shopifyBody()), 201);
    ok(await a.post('/api/channels', amazonBody()), 201);
    const files = await filesUnder(t.channelSecretsDir);
    expect(files.filter((f) => f.includes(a.tenantId))).toHaveLength(2);
    for (const file of files) {
      const text = await readFile(file, 'latin1');
      for (const secret of SECRETS) expect({ file, leaks: text.includes(secret) }).toEqual({ file, leaks: false });
    }
    expect((await stat(join(t.channelSecretsDir, 'key'))).mode & 0o777).toBe(0o600);
  });

  test('invalid bodies are 400 and write nothing', async () => {
    const a = await recorded();
    await withWarehouses(a);
    const cases: unknown[] = [
      shopifyBody({ platform: 'ebay' }),
      shopifyBody({ platform: 'amazon' }),
      shopifyBody({ credentials: { shop_domain: 'acme.myshopify.com', access_token: accessToken } }),
      amazonBody({ credentials: { ...amazonCredentials, refresh_token: undefined } }),
      amazonBody({ credentials: { ...amazonCredentials, marketplace_ids: [] } }),
      amazonBody({ credentials: { ...amazonCredentials, marketplace_ids: Array.from({ length: 21 }, (_, i) => `M${i}`) } }),
      shopifyBody({ credentials: { ...shopifyCredentials(), shop_domain: 'acme.example.com' } }),
      shopifyBody({ credentials: { ...shopifyCredentials(), api_version: '2026-13' } }),
      shopifyBody({ credentials: { ...shopifyCredentials(), access_token: 12345 } }),
      shopifyBody({ credentials: { ...shopifyCredentials(), extra: 'x' } }),
      shopifyBody({ warehouse_ids: [] }),
      shopifyBody({ warehouse_ids: Array.from({ length: 51 }, (_, i) => `wh-${i}`) }),
      shopifyBody({ warehouse_ids: ['wh-1', 'wh-1'] }),
      shopifyBody({ warehouse_ids: 'wh-1' }),
      shopifyBody({ buffer: -1 }),
      shopifyBody({ buffer: 1.5 }),
      shopifyBody({ buffer: '2' }),
      shopifyBody({ conflict_rule: 'theirs' }),
      shopifyBody({ unknown_field: true }),
      shopifyBody({ channel_id: 'has#hash' }),
      shopifyBody({ api_base_url: 'http://example.com' }),
      shopifyBody({ api_base_url: 'http://10.0.0.1:8080' }),
      shopifyBody({ api_base_url: 'http://user:pw@127.0.0.1:8080' }),
      shopifyBody({ api_base_url: 'ftp://127.0.0.1' }),
      shopifyBody({ api_base_url: 'not a url' }),
    ];
    for (const body of cases) {
      const res = await a.post('/api/channels', body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
    }
    const offLoopback = await a.post('/api/channels', shopifyBody({ api_base_url: 'http://example.com' }));
    expect(offLoopback.body.error.details.fields).toEqual([{ in: 'body', path: 'api_base_url', message: expect.stringMatching(/loopback/) }]);
    ok(await a.post('/api/channels', shopifyBody()), 201);
    for (const body of [{}, { buffer: -2 }, { buffer: 0.5 }, { platform: 'amazon' }, { credentials: { access_token: accessToken } }, { api_base_url: 'http://example.com:1' }]) {
      const res = await a.patch('/api/channels/shop-1', body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect(ok(await a.get('/api/channels')).channels).toHaveLength(1);
    expect(ok(await a.get('/api/channels/shop-1')).version).toBe(1);
  });

  test('api_base_url: on loopback in local mode it is kept; outside local mode it is refused with a 400 that says why', async () => {
    const a = await recorded();
    await withWarehouses(a);
    for (const [id, url] of [['l-1', 'http://127.0.0.1:4010'], ['l-2', 'http://localhost:4011/root'], ['l-3', 'https://[::1]:4012']] as const) {
      expect(ok(await a.post('/api/channels', shopifyBody({ channel_id: id, api_base_url: url })), 201).api_base_url).toBe(url);
    }
    expect(ok(await a.patch('/api/channels/l-1', { api_base_url: 'http://127.0.0.2:9' })).api_base_url).toBe('http://127.0.0.2:9');
    expect(ok(await a.patch('/api/channels/l-1', { api_base_url: null })).api_base_url).toBeUndefined();
    process.env[LOCAL_MODE_ENV] = '0';
    try {
      const res = await a.post('/api/channels', shopifyBody({ channel_id: 'aws-1', api_base_url: 'http://127.0.0.1:4010' }));
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields).toEqual([{ in: 'body', path: 'api_base_url', message: expect.stringMatching(/only in local mode/) }]);
      expect((await a.patch('/api/channels/l-2', { api_base_url: 'http://127.0.0.1:1' })).status).toBe(400);
      // Without api_base_url a connection is fine outside local mode.
      ok(await a.post('/api/channels', shopifyBody({ channel_id: 'aws-2' })), 201);
    } finally {
      process.env[LOCAL_MODE_ENV] = '1';
    }
    expect((await a.get('/api/channels/aws-1')).status).toBe(404);
  });

  test('an unknown warehouse, or another tenant\'s, is 404 on create and patch', async () => {
    const a = await recorded();
    const b = await recorded();
    await withWarehouses(a, ['wh-1']);
    await withWarehouses(b, ['wh-b']);
    for (const ids of [['nope'], ['wh-1', 'nope'], ['wh-b']]) {
      const res = await a.post('/api/channels', shopifyBody({ warehouse_ids: ids }));
      expect({ ids, status: res.status, code: res.body.error?.code }).toEqual({ ids, status: 404, code: 'NOT_FOUND' });
    }
    ok(await a.post('/api/channels', shopifyBody()), 201);
    expect((await a.patch('/api/channels/shop-1', { warehouse_ids: ['wh-b'] })).status).toBe(404);
    expect(ok(await a.get('/api/channels/shop-1')).warehouse_ids).toEqual(['wh-1']);
  });

  test('only admins write; managers read; clerks, purchasers and viewers neither', async () => {
    const admin = await recorded();
    await withWarehouses(admin);
    ok(await admin.post('/api/channels', shopifyBody()), 201);
    const store = localEncryptedStore(t.channelSecretsDir);
    for (const role of ['manager', 'clerk', 'purchaser', 'viewer', 'analyst'] as const) {
      const c = await recorded({ tenantId: admin.tenantId, role });
      expect({ role, status: (await c.post('/api/channels', shopifyBody({ channel_id: `by-${role}` }))).status }).toEqual({ role, status: 403 });
      expect({ role, status: (await c.patch('/api/channels/shop-1', { buffer: 9, credentials: { ...shopifyCredentials(), access_token: rotatedToken } })).status }).toEqual({ role, status: 403 });
      expect({ role, status: (await c.delete('/api/channels/shop-1')).status }).toEqual({ role, status: 403 });
      const read = role === 'manager' ? 200 : 403;
      expect({ role, list: (await c.get('/api/channels')).status, one: (await c.get('/api/channels/shop-1')).status }).toEqual({ role, list: read, one: read });
    }
    expect(ok(await admin.get('/api/channels/shop-1')).version).toBe(1);
    expect(await store.get(admin.tenantId, 'shop-1')).toMatchObject({ access_token: accessToken });
  });

  test("another tenant cannot read, change or delete a connection (404), and lists none of it", async () => {
    const a = await recorded();
    const b = await recorded();
    await withWarehouses(a);
    await withWarehouses(b);
    ok(await a.post('/api/channels', shopifyBody()), 201);
    expect((await b.get('/api/channels/shop-1')).status).toBe(404);
    expect((await b.patch('/api/channels/shop-1', { buffer: 1, credentials: { ...shopifyCredentials(), access_token: rotatedToken } })).status).toBe(404);
    expect((await b.delete('/api/channels/shop-1')).status).toBe(404);
    expect(ok(await b.get('/api/channels')).channels).toEqual([]);
    const store = localEncryptedStore(t.channelSecretsDir);
    expect(ok(await a.get('/api/channels/shop-1')).version).toBe(1);
    expect(await store.get(a.tenantId, 'shop-1')).toMatchObject({ access_token: accessToken });
    expect(await store.get(b.tenantId, 'shop-1')).toBeUndefined();
    // The same id in two tenants is two connections.
    ok(await b.post('/api/channels', shopifyBody()), 201);
  });

  test('a shop belongs to one connection: a second one for it, in the same tenant or another, is 409 and writes nothing; after DELETE it can be connected again', async () => {
    const a = await recorded();
    const b = await recorded();
    await withWarehouses(a);
    await withWarehouses(b);
    const store = localEncryptedStore(t.channelSecretsDir);
    const shop = newShopDomain('one');
    ok(await a.post('/api/channels', shopifyBody({ credentials: shopifyCredentials(shop) })), 201);
    for (const [who, c, id] of [['same tenant', a, 'shop-2'], ['other tenant', b, 'shop-1']] as const) {
      const again = await c.post('/api/channels', shopifyBody({ channel_id: id, credentials: { ...shopifyCredentials(shop), access_token: rotatedToken } }), { 'idempotency-key': `again-${id}` });
      expect({ who, status: again.status, code: again.body.error?.code, details: again.body.error?.details }).toEqual({ who, status: 409, code: 'CONFLICT', details: { shop_domain: shop } });
      // No connection, no secret, no idempotency record (the same key may be used again once the shop is free).
      expect({ who, get: (await c.get(`/api/channels/${id}`)).status }).toEqual({ who, get: 404 });
      expect({ who, secret: await store.get(c.tenantId, id) }).toEqual({ who, secret: undefined });
    }
    expect(ok(await a.get('/api/channels')).channels.map((c: { channel_id: string }) => c.channel_id)).toEqual(['shop-1']);
    expect(ok(await b.get('/api/channels')).channels).toEqual([]);
    expect(await store.get(a.tenantId, 'shop-1')).toMatchObject({ shop_domain: shop, access_token: accessToken });
    expect(await findShopRegistration(db, shop)).toMatchObject({ owner_tenant_id: a.tenantId, channel_id: 'shop-1' });

    ok(await a.delete('/api/channels/shop-1'));
    expect(await findShopRegistration(db, shop)).toBeUndefined();
    const moved = ok(await b.post('/api/channels', shopifyBody({ credentials: shopifyCredentials(shop) }), { 'idempotency-key': 'again-shop-1' }), 201);
    expect(moved.account.shop_domain).toBe(shop);
    expect(await findShopRegistration(db, shop)).toMatchObject({ owner_tenant_id: b.tenantId, channel_id: 'shop-1' });
    expect(await store.get(b.tenantId, 'shop-1')).toMatchObject({ shop_domain: shop });
  });

  test('a PATCH to another shop moves the registration; to a shop another connection holds it is 409, changes nothing and leaves the secret as it was', async () => {
    const a = await recorded();
    const b = await recorded();
    await withWarehouses(a);
    await withWarehouses(b);
    const store = localEncryptedStore(t.channelSecretsDir);
    const [first, second, third] = [newShopDomain('first'), newShopDomain('second'), newShopDomain('third')];
    ok(await a.post('/api/channels', shopifyBody({ channel_id: 'shop-1', credentials: shopifyCredentials(first) })), 201);
    ok(await a.post('/api/channels', shopifyBody({ channel_id: 'shop-2', credentials: shopifyCredentials(second) })), 201);

    const movedTo = { ...shopifyCredentials(third), access_token: rotatedToken, webhook_secret: rotatedWebhookSecret };
    const moved = ok(await a.patch('/api/channels/shop-1', { credentials: movedTo }));
    expect(moved).toMatchObject({ version: 2, account: { shop_domain: third } });
    expect(await findShopRegistration(db, first)).toBeUndefined();
    expect(await findShopRegistration(db, third)).toMatchObject({ owner_tenant_id: a.tenantId, channel_id: 'shop-1' });
    // The old shop is free for anyone, the new one taken.
    ok(await b.post('/api/channels', shopifyBody({ channel_id: 'b-1', credentials: shopifyCredentials(first) })), 201);
    expect((await b.post('/api/channels', shopifyBody({ channel_id: 'b-2', credentials: shopifyCredentials(third) }))).status).toBe(409);

    // A PATCH to the shop shop-2 holds: 409, and neither connection, registration nor secret changed.
    const taken = await a.patch('/api/channels/shop-1', { buffer: 7, credentials: { ...shopifyCredentials(second), access_token: 'shpat_never_stored' } });
    expect({ status: taken.status, code: taken.body.error?.code, details: taken.body.error?.details }).toEqual({ status: 409, code: 'CONFLICT', details: { shop_domain: second } });
    expect(ok(await a.get('/api/channels/shop-1'))).toEqual(moved);
    expect(await store.get(a.tenantId, 'shop-1')).toEqual({ ...movedTo, api_version: '2026-04' });
    expect(await store.get(a.tenantId, 'shop-2')).toMatchObject({ shop_domain: second, access_token: accessToken });
    expect(await findShopRegistration(db, second)).toMatchObject({ owner_tenant_id: a.tenantId, channel_id: 'shop-2' });
    expect(await findShopRegistration(db, third)).toMatchObject({ owner_tenant_id: a.tenantId, channel_id: 'shop-1' });
    // The same shop again (a credential rotation) claims nothing new and passes.
    expect(ok(await a.patch('/api/channels/shop-1', { credentials: { ...movedTo, access_token: accessToken } }))).toMatchObject({ version: 3, account: { shop_domain: third } });

    // Once shop-2 is gone its shop can be moved to.
    ok(await a.delete('/api/channels/shop-2'));
    expect(ok(await a.patch('/api/channels/shop-1', { credentials: shopifyCredentials(second) }))).toMatchObject({ version: 4, account: { shop_domain: second } });
    expect(await findShopRegistration(db, third)).toBeUndefined();
    expect(await findShopRegistration(db, second)).toMatchObject({ owner_tenant_id: a.tenantId, channel_id: 'shop-1' });
  });

  test('a PATCH whose new credentials cannot be stored gives its claim of the new shop up again and changes nothing', async () => {
    const ctx = contextFor();
    const held = memoryStore();
    const deps = { db, ctx, credentials: held, local: true };
    await createWarehouse({ db, ctx }, { warehouse_id: 'wh-1', name: 'wh-1', latitude: 40, longitude: -74, priority: 100, active: true });
    const [own, next] = [newShopDomain('own'), newShopDomain('next')];
    const created = await createChannel(deps, createChannelBody.parse(shopifyBody({ credentials: shopifyCredentials(own) })));
    const failing: CredentialStore = { ...held, put: () => Promise.reject(new Error('the store is down')) };
    await expect(patchChannel({ ...deps, credentials: failing }, 'shop-1', patchChannelBody.parse({ credentials: shopifyCredentials(next) }))).rejects.toThrow('the store is down');
    expect(await findShopRegistration(db, next)).toBeUndefined();
    expect(await findShopRegistration(db, own)).toMatchObject({ owner_tenant_id: ctx.caller.tenantId, channel_id: 'shop-1' });
    expect(await readChannel({ db, ctx }, 'shop-1')).toEqual(created);
    expect(await held.get(ctx.caller.tenantId, 'shop-1')).toMatchObject({ shop_domain: own });
  });

  test('no response and no log line carried a credential value', () => {
    expect(answered.length).toBeGreaterThan(50);
    // The capture works: the request log of these tests is in it.
    expect(logged.some((line) => line.includes('"route":"createChannel"'))).toBe(true);
    const leaks = (texts: string[]) => SECRETS.filter((secret) => texts.some((text) => text.includes(secret)));
    expect(leaks(answered)).toEqual([]);
    expect(leaks(logged)).toEqual([]);
  });
});
