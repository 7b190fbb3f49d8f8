import { randomUUID } from 'node:crypto';
import { readInbound } from '../../functions/channels/inbound';
import { readReportedQuantities } from '../../functions/channels/reported';
import { receiveShopifyWebhook, readWebhookDeliveries } from '../../functions/channels/webhooks';
import { createDocumentClient, type Db } from '../../functions/platform/db';
import { webhookHandler, type SignedHttpEvent } from '../../functions/platform/http';
import { localEncryptedStore } from '../../functions/platform/secrets';
import { tableName } from '../../functions/platform/table';
import { httpRoutes } from '../../functions/wiring';
import { lambdaContext } from '../../bin/local/lambda-context';
import { ShopifyWebhookSender, orderPayload, WEBHOOK_PATH, type Delivery, type OrderInput } from '../fakes/shopify-webhooks';
import { ok, startTestApi, type Client, type TestApi } from '../support/api';
import { captureOutput } from '../support/capture';
import { contextFor, testDb } from '../support/domain';
import { snapshotTenant, stateDiff } from '../support/fuzz';
import { allMovements } from '../support/ledger';
import { levelsOf } from '../support/levels';
import { newShopDomain } from '../support/shops';

/**
 * Shopify webhooks (issue 11, scope item 4) through the real local API on DynamoDB Local: signed by
 * the fake exactly as Shopify signs (test/fakes/shopify-webhooks.ts), verified over the raw bytes,
 * each delivery acted on once, unsigned or forged ones refused with nothing written, and no secret
 * in any answer or log line.
 */
let t: TestApi;
const db = testDb();
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

/** Every answer and every stdout/stderr line while the tests ran: no credential may be in any. */
const { answered, logged } = captureOutput();
/** Every credential value the tests store. */
const secrets: string[] = [];

/** Through the test API's contract-checked request: every webhook answer is held to the OpenAPI document too. */
const transport = async (path: string, init: { method: 'POST'; headers: Record<string, string>; body: Buffer }) => {
  const res = await t.request(path, init);
  answered.push(JSON.stringify(res.body));
  return { status: res.status, body: res.body };
};

const CHANNEL = 'shop';
const ITEM = { 'sku-1': 1001, 'sku-2': 1002 } as const;
const LOCATION = 2001;

interface Shop {
  c: Client;
  tenantId: string;
  shop: string;
  secret: string;
  sender: ShopifyWebhookSender;
}

/**
 * A tenant with SKUs sku-1 (10 in wh-1), sku-2 (5 in wh-2) and sku-3 (8 in wh-1, not mapped on the
 * channel), and a Shopify connection 'shop' selling wh-1 and wh-2, sku-1 and sku-2 mapped by hand.
 */
const connectedShop = async (): Promise<Shop> => {
  const c = await t.client();
  ok(await c.post('/api/products', { product_id: 'prod-1', name: 'Widget' }), 201);
  for (const id of ['sku-1', 'sku-2', 'sku-3']) ok(await c.post('/api/skus', { sku_id: id, product_id: 'prod-1', name: id }), 201);
  ok(await c.post('/api/warehouses', { warehouse_id: 'wh-1', name: 'wh-1', latitude: 40.7, longitude: -74 }), 201);
  ok(await c.post('/api/warehouses', { warehouse_id: 'wh-2', name: 'wh-2', latitude: 34, longitude: -118 }), 201);
  for (const [sku_id, warehouse_id, quantity] of [['sku-1', 'wh-1', 10], ['sku-2', 'wh-2', 5], ['sku-3', 'wh-1', 8]] as const) {
    ok(await c.post('/api/inventory/update', { sku_id, warehouse_id, transaction_type: 'restock', quantity }));
  }
  const shop = newShopDomain('hooks');
  const secret = `whsec_WEBHOOK_SECRET_${randomUUID()}`;
  const accessToken = `shpat_ACCESS_SECRET_${randomUUID()}`;
  secrets.push(secret, accessToken);
  ok(await c.post('/api/channels', { channel_id: CHANNEL, platform: 'shopify', warehouse_ids: ['wh-1', 'wh-2'], credentials: { shop_domain: shop, access_token: accessToken, webhook_secret: secret } }), 201);
  for (const [sku, item] of Object.entries(ITEM)) {
    ok(await c.put(`/api/channels/${CHANNEL}/listings/${sku}`, { inventory_item_id: `gid://shopify/InventoryItem/${item}`, location_id: `gid://shopify/Location/${LOCATION}` }));
  }
  return { c, tenantId: c.tenantId, shop, secret, sender: new ShopifyWebhookSender(shop, secret, transport) };
};

const orderIdOf = (externalId: number): string => `shp.${CHANNEL}.${externalId}`;
const depsOf = (tenantId: string) => ({ db, ctx: contextFor(tenantId) });
const reserved = async (c: Client, sku: string): Promise<number> => (await levelsOf(c, sku)).reduce((sum, level) => sum + level.reserved, 0);
const rowsOf = async (c: Client, sku: string, type: string, orderId: string) => (await allMovements(c, sku)).filter((m) => m.type === type && m.reference === orderId);

/** The body of a webhook answered 200; otherwise throws, showing the answer (for setup steps). */
const delivered = (res: { status: number; body: unknown }): unknown => {
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
};

let nextOrder = 5_000_000_000;
const newOrder = (lines: OrderInput['lines'], extra: Partial<OrderInput> = {}): OrderInput => ({ id: (nextOrder += 1), lines, ...extra });

describe('orders/create', () => {
  test('a signed order allocates once, delivered three times (a retry keeps its webhook id)', async () => {
    const s = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 2 }, { sku: 'sku-2', quantity: 1 }]);
    const delivery = s.sender.delivery('orders/create', orderPayload(order));
    const first = await s.sender.send(delivery);
    expect(first).toEqual({ status: 200, body: { topic: 'orders/create', webhook_id: delivery.webhookId, outcome: 'processed', detail: `order ${orderIdOf(order.id)} allocated` } });
    for (const _ of [1, 2]) {
      const again = await s.sender.send(delivery);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ outcome: 'duplicate' });
    }
    const allocated = ok(await s.c.get(`/api/orders/status/${orderIdOf(order.id)}`));
    expect(allocated).toMatchObject({ status: 'allocated', lines: [{ sku_id: 'sku-1', quantity: 2 }, { sku_id: 'sku-2', quantity: 1 }] });
    expect(allocated.allocations).toEqual([
      expect.objectContaining({ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 2 }),
      expect.objectContaining({ sku_id: 'sku-2', warehouse_id: 'wh-2', quantity: 1 }),
    ]);
    expect(await reserved(s.c, 'sku-1')).toBe(2);
    expect(await reserved(s.c, 'sku-2')).toBe(1);
    expect(await rowsOf(s.c, 'sku-1', 'allocation', orderIdOf(order.id))).toHaveLength(1);
    expect(await rowsOf(s.c, 'sku-2', 'allocation', orderIdOf(order.id))).toHaveLength(1);
    expect(await readInbound(depsOf(s.tenantId), CHANNEL, String(order.id))).toMatchObject({ status: 'allocated', order_id: orderIdOf(order.id), deliveries: 1 });
    // One delivery, known by its webhook id and by its event.
    const deliveries = await readWebhookDeliveries(depsOf(s.tenantId), CHANNEL);
    expect(deliveries).toHaveLength(2);
    for (const recorded of deliveries) expect(recorded).toMatchObject({ topic: 'orders/create', webhook_id: delivery.webhookId, event_id: delivery.eventId, shop_domain: s.shop, outcome: 'processed' });
  });

  test('three concurrent deliveries of one order allocate it once', async () => {
    const s = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 3 }]);
    const delivery = s.sender.delivery('orders/create', orderPayload(order));
    const answers = await Promise.all([1, 2, 3].map(() => s.sender.send(delivery)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(ok(await s.c.get(`/api/orders/status/${orderIdOf(order.id)}`)).status).toBe('allocated');
    expect(await reserved(s.c, 'sku-1')).toBe(3);
    expect(await rowsOf(s.c, 'sku-1', 'allocation', orderIdOf(order.id))).toHaveLength(1);
    // Concurrent ones under new webhook and event ids too (the order id is the idempotency).
    const more = await Promise.all([1, 2, 3].map(() => s.sender.orderCreated(order)));
    expect(more.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await reserved(s.c, 'sku-1')).toBe(3);
    expect(await rowsOf(s.c, 'sku-1', 'allocation', orderIdOf(order.id))).toHaveLength(1);
  });

  test('the same order re-sent under a new webhook id (same event, or a new one) allocates nothing more', async () => {
    const s = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 1 }]);
    const first = s.sender.delivery('orders/create', orderPayload(order));
    delivered(await s.sender.send(first));
    // Shopify re-sends an event under a new webhook id: known by its event id, answered at once.
    const resent = await s.sender.orderCreated(order, { eventId: first.eventId });
    expect(resent.body).toMatchObject({ outcome: 'duplicate' });
    // A new event for the same order (any other reason Shopify sends it again): the order id makes it the same order.
    const another = await s.sender.orderCreated(order);
    expect(another.body).toMatchObject({ outcome: 'processed', detail: `order ${orderIdOf(order.id)} allocated` });
    expect(await reserved(s.c, 'sku-1')).toBe(1);
    expect(await rowsOf(s.c, 'sku-1', 'allocation', orderIdOf(order.id))).toHaveLength(1);
  });

  test('an order for stock we do not have is recorded as failed with the reason and answered 200; an unmapped SKU likewise', async () => {
    const s = await connectedShop();
    const before = await levelsOf(s.c, 'sku-1');
    const short = newOrder([{ sku: 'sku-1', quantity: 11 }]);
    const answer = await s.sender.orderCreated(short);
    expect(answer).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'processed', detail: `order ${orderIdOf(short.id)} failed (INSUFFICIENT_STOCK)` }) });
    expect(await readInbound(depsOf(s.tenantId), CHANNEL, String(short.id))).toMatchObject({ status: 'failed', error_code: 'INSUFFICIENT_STOCK', reason: expect.stringMatching(/cannot be filled/) });
    expect((await s.c.get(`/api/orders/status/${orderIdOf(short.id)}`)).status).toBe(404);

    // sku-3 is stocked but not mapped on this connection; NOPE is no SKU of ours; a line without a SKU names its variant.
    for (const lines of [[{ sku: 'sku-3', quantity: 1 }], [{ sku: 'NOPE', quantity: 1 }, { sku: 'sku-1', quantity: 1 }], [{ sku: null, quantity: 1 }]]) {
      const order = newOrder(lines);
      const res = await s.sender.orderCreated(order);
      expect({ lines, res }).toEqual({ lines, res: { status: 200, body: expect.objectContaining({ outcome: 'processed', detail: `order ${orderIdOf(order.id)} failed (UNMAPPED_SKU)` }) } });
      expect(await readInbound(depsOf(s.tenantId), CHANNEL, String(order.id))).toMatchObject({ status: 'failed', error_code: 'UNMAPPED_SKU' });
    }
    expect((await readInbound(depsOf(s.tenantId), CHANNEL, String(nextOrder)))?.reason).toMatch(/no SKU: variant/);
    expect(await levelsOf(s.c, 'sku-1')).toEqual(before);
    expect(await reserved(s.c, 'sku-3')).toBe(0);
  });

  test('lines that need no shipping or have nothing left to ship are not allocated; an order of only those is ignored; no address means priority order', async () => {
    const s = await connectedShop();
    const digital = newOrder([{ sku: 'sku-1', quantity: 1, requires_shipping: false }, { sku: 'sku-2', quantity: 2, fulfillable_quantity: 0 }]);
    expect((await s.sender.orderCreated(digital)).body).toMatchObject({ outcome: 'ignored' });
    expect(await readInbound(depsOf(s.tenantId), CHANNEL, String(digital.id))).toBeUndefined();
    const mixed = newOrder([{ sku: 'sku-1', quantity: 2 }, { sku: 'sku-1', quantity: 1 }, { sku: 'sku-2', quantity: 1, requires_shipping: false }], { shipping: null });
    expect((await s.sender.orderCreated(mixed)).body).toMatchObject({ outcome: 'processed' });
    // Two lines of one SKU are one line of 3; the gift line is left out.
    expect(ok(await s.c.get(`/api/orders/status/${orderIdOf(mixed.id)}`))).toMatchObject({ status: 'allocated', lines: [{ sku_id: 'sku-1', quantity: 3 }], strategy: 'priority' });
    expect(await reserved(s.c, 'sku-2')).toBe(0);
  });

  test('a crash between the allocation and the delivery record is safe: the retry allocates nothing more', async () => {
    // Every write of the delivery record fails, as if the process died once the order was allocated.
    const s = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 4 }]);
    const delivery = s.sender.delivery('orders/create', orderPayload(order));
    const failing = dbFailingOn((input) => JSON.stringify(input).includes('channel-webhook'), 'the process died');
    await expect(receiveShopifyWebhook({ db: failing, credentials: localEncryptedStore(t.channelSecretsDir) }, requestOf(delivery))).rejects.toThrow('the process died');
    failing.client.destroy();
    expect(await reserved(s.c, 'sku-1')).toBe(4);
    expect(await readWebhookDeliveries(depsOf(s.tenantId), CHANNEL)).toEqual([]);
    // Shopify retries the same delivery: the order is there already, so nothing more is allocated.
    expect((await s.sender.send(delivery)).body).toMatchObject({ outcome: 'processed', detail: `order ${orderIdOf(order.id)} allocated` });
    expect(await reserved(s.c, 'sku-1')).toBe(4);
    expect(await rowsOf(s.c, 'sku-1', 'allocation', orderIdOf(order.id))).toHaveLength(1);
    expect(await readWebhookDeliveries(depsOf(s.tenantId), CHANNEL)).toHaveLength(2);
  });

  test('a throttled database is a 503 Shopify retries (in the error shape, with Retry-After), and the delivery is not recorded', async () => {
    const s = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 1 }]);
    const delivery = s.sender.delivery('orders/create', orderPayload(order));
    const throttled = dbFailingOn((_input, command) => command === 'TransactWriteItemsCommand', 'Rate exceeded', 'ThrottlingException');
    const handler = webhookHandler(httpRoutes.shopifyWebhook, (request) => receiveShopifyWebhook({ db: throttled, credentials: localEncryptedStore(t.channelSecretsDir) }, request));
    const result = await handler(eventOf(delivery), lambdaContext('shopifyWebhook', randomUUID()));
    throttled.client.destroy();
    expect(result).toMatchObject({ statusCode: 503, headers: expect.objectContaining({ 'retry-after': '2' }) });
    expect(JSON.parse(String(result.body))).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    expect(await readWebhookDeliveries(depsOf(s.tenantId), CHANNEL)).toEqual([]);
    expect(await reserved(s.c, 'sku-1')).toBe(0);
    // The retry, once the table answers again, allocates.
    expect((await s.sender.send(delivery)).body).toMatchObject({ outcome: 'processed' });
    expect(await reserved(s.c, 'sku-1')).toBe(1);
  });
});

describe('what does not verify is 401 with nothing written', () => {
  test('a bad, a missing or a malformed HMAC, one byte changed, an unknown shop, another shop\'s secret: 401 each, the tenant unchanged', async () => {
    const s = await connectedShop();
    const other = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 1 }]);
    const payload = orderPayload(order);
    const flipOne = (body: Buffer): Buffer => {
      const copy = Buffer.from(body);
      const at = copy.indexOf('"quantity":1') + '"quantity":'.length;
      copy[at] = '9'.charCodeAt(0);
      return copy;
    };
    const cases: Record<string, Delivery> = {
      'a wrong secret': s.sender.delivery('orders/create', payload, { secret: 'whsec_not_the_one' }),
      'no signature': s.sender.delivery('orders/create', payload, { signature: null }),
      'an empty signature': s.sender.delivery('orders/create', payload, { signature: '' }),
      'a signature that is not base64 of 32 bytes': s.sender.delivery('orders/create', payload, { signature: 'bm90IGEgZGlnZXN0' }),
      'a hex digest': s.sender.delivery('orders/create', payload, { signature: 'a'.repeat(64) }),
      'the body changed by one byte': s.sender.delivery('orders/create', payload, { tamper: flipOne }),
      'a byte appended': s.sender.delivery('orders/create', payload, { tamper: (body) => Buffer.concat([body, Buffer.from(' ')]) }),
      'an unknown shop': s.sender.delivery('orders/create', payload, { shop: newShopDomain('nobody') }),
      'no shop': s.sender.delivery('orders/create', payload, { without: ['x-shopify-shop-domain'] }),
      'a shop domain that is no shop': s.sender.delivery('orders/create', payload, { shop: 'evil.example.com' }),
      "the shop's name with another connected shop's secret": s.sender.delivery('orders/create', payload, { secret: other.secret }),
      "another connected shop's name with this one's signature": s.sender.delivery('orders/create', payload, { shop: other.shop }),
    };
    const before = await snapshotTenant(db, s.tenantId);
    const otherBefore = await snapshotTenant(db, other.tenantId);
    const bodies = new Set<string>();
    for (const [name, delivery] of Object.entries(cases)) {
      const res = await s.sender.send(delivery);
      expect({ name, status: res.status, code: (res.body as { error?: { code?: string } }).error?.code }).toEqual({ name, status: 401, code: 'UNAUTHORIZED' });
      bodies.add(JSON.stringify(res.body));
    }
    // The same answer whatever was wrong: it does not tell a prober which shops are connected.
    expect(bodies.size).toBe(1);
    expect(stateDiff(before, await snapshotTenant(db, s.tenantId))).toEqual([]);
    expect(stateDiff(otherBefore, await snapshotTenant(db, other.tenantId))).toEqual([]);
    expect((await s.c.get(`/api/orders/status/${orderIdOf(order.id)}`)).status).toBe(404);
    // A bearer token does not stand in for the signature.
    const withToken = s.sender.delivery('orders/create', payload, { signature: null });
    const token = await t.issuer.sign({ tenantId: s.tenantId, role: 'admin' });
    const res = await t.request(WEBHOOK_PATH, { method: 'POST', headers: { ...withToken.headers, authorization: `Bearer ${token}` }, body: withToken.body });
    expect(res.status).toBe(401);
    // And the right signature still works: the cases above were refused for what was wrong with them.
    expect((await s.sender.send(s.sender.delivery('orders/create', payload))).body).toMatchObject({ outcome: 'processed' });
  });

  test('a verified request without the delivery headers is 400 with nothing written; a topic we do not handle is 200 and recorded as ignored', async () => {
    const s = await connectedShop();
    const before = await snapshotTenant(db, s.tenantId);
    const payload = orderPayload(newOrder([{ sku: 'sku-1', quantity: 1 }]));
    const noId = await s.sender.deliver('orders/create', payload, { without: ['x-shopify-webhook-id'] });
    expect(noId.status).toBe(400);
    expect((noId.body as { error: { details: unknown } }).error.details).toEqual({ fields: [expect.objectContaining({ in: 'header', path: 'X-Shopify-Webhook-Id' })] });
    expect((await s.sender.deliver('orders/create', payload, { without: ['x-shopify-topic'] })).status).toBe(400);
    expect(stateDiff(before, await snapshotTenant(db, s.tenantId))).toEqual([]);
    const other = await s.sender.deliver('products/update', { id: 1, title: 'x' });
    expect(other).toEqual({ status: 200, body: expect.objectContaining({ topic: 'products/update', outcome: 'ignored' }) });
    const invalid = await s.sender.deliver('orders/create', { id: 'not a number', line_items: 'none' });
    expect(invalid.body).toMatchObject({ outcome: 'invalid', detail: expect.stringMatching(/^not a orders\/create payload: id, line_items/) });
    const notJson = await s.sender.deliver('orders/create', undefined, { rawBody: Buffer.from([0xff, 0xfe, 0x7b]) });
    expect(notJson.body).toMatchObject({ outcome: 'invalid', detail: 'the body is not JSON' });
    expect((await readWebhookDeliveries(depsOf(s.tenantId), CHANNEL)).map((d) => d.outcome).sort()).toEqual(['ignored', 'ignored', 'invalid', 'invalid', 'invalid', 'invalid']);
  });

  test('the exact bytes are verified: a body that is not UTF-8 text verifies when signed, and fails when one byte differs', async () => {
    const s = await connectedShop();
    const bytes = Buffer.concat([Buffer.from('{"id":1,"note":"'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('"}')]);
    expect((await s.sender.deliver('shop/update', undefined, { rawBody: bytes })).status).toBe(200);
    const changed = await s.sender.deliver('shop/update', undefined, { rawBody: bytes, tamper: (body) => Buffer.from(body).fill(0xa2, 17, 18) });
    expect(changed.status).toBe(401);
  });
});

describe('orders/cancelled', () => {
  test('a cancelled order gives its stock back once, whatever the number of deliveries', async () => {
    const s = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 2 }]);
    delivered(await s.sender.orderCreated(order));
    expect(await reserved(s.c, 'sku-1')).toBe(2);
    const cancel = s.sender.delivery('orders/cancelled', { ...orderPayload(order), cancelled_at: '2026-04-01T12:00:00Z' });
    expect((await s.sender.send(cancel)).body).toMatchObject({ outcome: 'processed', detail: `order ${orderIdOf(order.id)} cancelled` });
    expect((await s.sender.send(cancel)).body).toMatchObject({ outcome: 'duplicate' });
    // Cancelled again under a new webhook and event id: cancelling a cancelled order changes nothing.
    expect((await s.sender.orderCancelled(order)).body).toMatchObject({ outcome: 'processed' });
    expect(ok(await s.c.get(`/api/orders/status/${orderIdOf(order.id)}`)).status).toBe('cancelled');
    expect(await reserved(s.c, 'sku-1')).toBe(0);
    expect(await rowsOf(s.c, 'sku-1', 'release', orderIdOf(order.id))).toHaveLength(1);
    expect(await readInbound(depsOf(s.tenantId), CHANNEL, String(order.id))).toMatchObject({ status: 'cancelled' });
  });

  test('a cancel of an order never seen is recorded; the create that arrives after it allocates nothing', async () => {
    const s = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 2 }]);
    expect((await s.sender.orderCancelled(order)).body).toMatchObject({ outcome: 'processed', detail: `order ${orderIdOf(order.id)} cancelled` });
    expect(await readInbound(depsOf(s.tenantId), CHANNEL, String(order.id))).toMatchObject({ status: 'cancelled', lines: [] });
    expect((await s.sender.orderCreated(order)).status).toBe(200);
    expect((await s.c.get(`/api/orders/status/${orderIdOf(order.id)}`)).status).toBe(404);
    expect(await reserved(s.c, 'sku-1')).toBe(0);
    expect(await rowsOf(s.c, 'sku-1', 'allocation', orderIdOf(order.id))).toEqual([]);
    // An orders/create already carrying cancelled_at is its cancellation too.
    const late = newOrder([{ sku: 'sku-1', quantity: 1 }], { cancelled_at: '2026-04-02T00:00:00Z' });
    expect((await s.sender.orderCreated(late)).body).toMatchObject({ detail: `order ${orderIdOf(late.id)} cancelled` });
    expect(await reserved(s.c, 'sku-1')).toBe(0);
  });
});

describe('inventory_levels/update', () => {
  test('records the quantity Shopify reports for the mapped listing, newest only, and changes no stock', async () => {
    const s = await connectedShop();
    const before = await allMovements(s.c, 'sku-1');
    const levels = await levelsOf(s.c, 'sku-1');
    const report = (available: number | null, updatedAt: string, item: number = ITEM['sku-1'], locationId = LOCATION) =>
      s.sender.inventoryLevelUpdated({ inventoryItemId: item, locationId, available, updatedAt });
    expect((await report(7, '2026-04-01T10:00:00-04:00')).body).toMatchObject({ outcome: 'processed', detail: 'Shopify reports 7 of sku-1' });
    const reported = () => readReportedQuantities(depsOf(s.tenantId), CHANNEL);
    expect(await reported()).toEqual([{ sku_id: 'sku-1', quantity: 7, reported_at: '2026-04-01T14:00:00.000Z', source: 'webhook' }]);
    // Older (out of order, or the same time again) leaves the newer one; newer replaces it.
    expect((await report(3, '2026-04-01T13:59:59Z')).body).toMatchObject({ outcome: 'ignored' });
    expect((await report(3, '2026-04-01T14:00:00Z')).body).toMatchObject({ outcome: 'ignored' });
    expect((await reported())[0]?.quantity).toBe(7);
    expect((await report(6, '2026-04-01T14:00:01Z')).body).toMatchObject({ outcome: 'processed' });
    expect(await reported()).toEqual([{ sku_id: 'sku-1', quantity: 6, reported_at: '2026-04-01T14:00:01.000Z', source: 'webhook' }]);
    // An item or location mapped to no SKU, and an untracked quantity, record nothing.
    expect((await report(1, '2026-04-02T00:00:00Z', 999)).body).toMatchObject({ outcome: 'ignored' });
    expect((await report(1, '2026-04-02T00:00:00Z', ITEM['sku-1'], 3)).body).toMatchObject({ outcome: 'ignored' });
    expect((await report(null, '2026-04-02T00:00:00Z')).body).toMatchObject({ outcome: 'ignored' });
    expect((await report(2, 'yesterday')).body).toMatchObject({ outcome: 'invalid' });
    expect(await reported()).toHaveLength(1);
    // Nothing of the stock moved.
    expect(await allMovements(s.c, 'sku-1')).toEqual(before);
    expect(await levelsOf(s.c, 'sku-1')).toEqual(levels);
  });
});

describe('tenancy', () => {
  test("a shop of tenant B cannot allocate, cancel or record in tenant A, even naming A's SKUs and order ids", async () => {
    const a = await connectedShop();
    const b = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 2 }]);
    delivered(await a.sender.orderCreated(order));
    const aBefore = await snapshotTenant(db, a.tenantId);
    // B's shop has the same channel id, SKUs and mapping as A's: B's own webhooks act in B only.
    delivered(await b.sender.orderCancelled(order));
    delivered(await b.sender.inventoryLevelUpdated({ inventoryItemId: ITEM['sku-1'], locationId: LOCATION, available: 0, updatedAt: new Date().toISOString() }));
    const bOrder = newOrder([{ sku: 'sku-1', quantity: 1 }]);
    delivered(await b.sender.orderCreated(bOrder));
    // B signing a webhook in A's shop's name is refused.
    expect((await b.sender.orderCancelled(order, { shop: a.shop })).status).toBe(401);
    expect(stateDiff(aBefore, await snapshotTenant(db, a.tenantId))).toEqual([]);
    expect(ok(await a.c.get(`/api/orders/status/${orderIdOf(order.id)}`)).status).toBe('allocated');
    expect(await reserved(a.c, 'sku-1')).toBe(2);
    expect(await reserved(b.c, 'sku-1')).toBe(1);
    expect((await b.c.get(`/api/orders/status/${orderIdOf(order.id)}`)).status).toBe(404);
    expect(await readReportedQuantities(depsOf(a.tenantId), CHANNEL)).toEqual([]);
  });

  test('a shop whose connection moved to another shop, or was deleted, is unknown (401); a new secret is used at once', async () => {
    const s = await connectedShop();
    const order = newOrder([{ sku: 'sku-1', quantity: 1 }]);
    const moved = newShopDomain('moved');
    const newSecret = `whsec_ROTATED_SECRET_${randomUUID()}`;
    secrets.push(newSecret);
    ok(await s.c.patch(`/api/channels/${CHANNEL}`, { credentials: { shop_domain: moved, access_token: 'shpat_ROTATED_TOKEN_x', webhook_secret: newSecret } }));
    secrets.push('shpat_ROTATED_TOKEN_x');
    expect((await s.sender.orderCreated(order)).status).toBe(401);
    const movedSender = new ShopifyWebhookSender(moved, newSecret, transport);
    expect((await movedSender.orderCreated(order, { secret: s.secret })).status).toBe(401);
    expect((await movedSender.orderCreated(order)).body).toMatchObject({ outcome: 'processed' });
    ok(await s.c.delete(`/api/channels/${CHANNEL}`));
    expect((await movedSender.orderCreated(newOrder([{ sku: 'sku-1', quantity: 1 }]))).status).toBe(401);
  });
});

test('no answer and no log line carried a credential', () => {
  expect(answered.length).toBeGreaterThan(50);
  // The capture works: the request log and the webhook's own lines are in it.
  expect(logged.some((line) => line.includes('"route":"shopifyWebhook"'))).toBe(true);
  expect(logged.some((line) => line.includes('shopify webhook refused'))).toBe(true);
  expect(secrets.length).toBeGreaterThan(10);
  const leaks = (texts: string[]) => secrets.filter((secret) => texts.some((text) => text.includes(secret)));
  expect(leaks(answered)).toEqual([]);
  expect(leaks(logged)).toEqual([]);
});

// ---------- direct calls (what HTTP cannot stage: a failing table) ----------

/** A Db whose commands matching `fails` throw, as a process dying there or a throttled table would; the caller destroys its client. */
function dbFailingOn(fails: (input: unknown, command: string) => boolean, message: string, name = 'Error'): Db {
  const client = createDocumentClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (fails(args.input, context.commandName ?? '')) throw Object.assign(new Error(message), { name });
      return next(args);
    },
    { step: 'initialize', name: 'failOnce' },
  );
  return { client, table: tableName() };
}

/** A delivery as the webhook function receives it from the HTTP layer. */
const requestOf = (delivery: Delivery) => ({
  rawBody: delivery.body,
  headers: delivery.headers,
  requestId: randomUUID(),
  now: () => new Date(),
  deadline: Date.now() + 20_000,
});

/** A delivery as API Gateway hands it to the function (no authorizer; the body as base64). */
const eventOf = (delivery: Delivery): SignedHttpEvent => ({
  version: '2.0',
  routeKey: `POST ${WEBHOOK_PATH}`,
  rawPath: WEBHOOK_PATH,
  rawQueryString: '',
  headers: delivery.headers,
  body: delivery.body.toString('base64'),
  isBase64Encoded: true,
  requestContext: {
    accountId: '000000000000',
    apiId: 'test',
    domainName: 'localhost',
    domainPrefix: 'localhost',
    http: { method: 'POST', path: WEBHOOK_PATH, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'Shopify-Captain-Hook' },
    requestId: randomUUID(),
    routeKey: `POST ${WEBHOOK_PATH}`,
    stage: '$default',
    time: new Date().toISOString(),
    timeEpoch: Date.now(),
  },
});
