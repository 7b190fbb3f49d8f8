import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { ID_PATTERN } from '../platform/ids';
import { systemContext, type Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { AppError, validationFailed, type FieldIssue } from '../platform/errors';
import type { WebhookRequest } from '../platform/http';
import { keys, type Key } from '../platform/keys';
import { log } from '../platform/log';
import { channelSecretName, credentialStoreFromEnv, type CredentialStore } from '../platform/secrets';
import { batchGet, decodeWith, queryAll } from '../platform/storage';
import { TABLE } from '../platform/table';
import { ConditionFailed, putItem, when, writeOne } from '../platform/writes';
import { inTenantScope } from '../platform/tenant-guard';
import { cancelChannelOrder, receiveChannelOrder, type ChannelOrder, type ChannelOrderLine } from './inbound';
import { listingsAtShopifyTarget, mappedSkuIds } from './listings';
import { recordReportedQuantity } from './reported';
import {
  SHOPIFY_WEBHOOK_TOPICS,
  shopifyCredentials,
  shopifyInventoryLevelPayload,
  shopifyOrderPayload,
  WEBHOOK_OUTCOMES,
  type shopifyWebhookResponse,
  type ShopifyInventoryLevelPayload,
  type ShopifyOrderPayload,
} from './schemas';
import { findChannel, findShopRegistration, shopDomainOf, type Channel } from './store';

/**
 * Shopify's webhooks (issue 11, scope item 4): POST /api/integration/shopify/webhooks, with no token.
 *
 * Verified first, before anything is parsed or written: `X-Shopify-Shop-Domain` names the shop, its
 * registration (store.ts, one connection per shop across tenants) the tenant and connection, and
 * `X-Shopify-Hmac-Sha256` must be the base64 HMAC-SHA256 of the raw body with that connection's
 * `webhook_secret`, compared in constant time. A missing or wrong signature and a shop connected to
 * none are the same 401 (the answer does not say which), with nothing written.
 *
 * Then it acts as the system for that tenant (`system:shopify-webhook`). Each delivery is done once:
 * it is recorded (keys.channelRecords 'WEBHOOK', kept ~7 days by the table's TTL) by its
 * `X-Shopify-Webhook-Id` (the same on Shopify's retries) and by topic and `X-Shopify-Event-Id` (the
 * same event re-sent under a new webhook id), a recorded one is answered at once and does nothing.
 * The record is written only after the effect succeeded, and the effects are idempotent themselves
 * (an inbound order is allocated once by its order id; a reported quantity never replaces a newer
 * one), so a crash between the two only means the retry does the same effect again, to no change.
 *
 * What we cannot act on for good (an order we cannot fill, a SKU not mapped, a payload not the
 * topic's shape, a topic we do not handle) is answered 200 and recorded: Shopify retries any other
 * answer and, after enough failures, removes the subscription. What may work later (the database
 * throttled or down) is thrown, a 503 Shopify retries.
 */
export interface WebhookDeps {
  /** What the signature is verified with: the shop's registration and its connection (the function's own access). */
  db: Db;
  /**
   * What the verified delivery's work uses, called inside the tenant's scope: in AWS the tenant's session
   * (functions/platform/db.ts dbFromEnv), so IAM holds it to that tenant; `db` when absent.
   */
  tenantDb?: () => Db;
  /** Where the connection's webhook secret is read from; default from CHANNEL_SECRETS_ENV. */
  credentials?: CredentialStore;
}

export type WebhookAnswer = z.output<typeof shopifyWebhookResponse>;
type Outcome = Exclude<(typeof WEBHOOK_OUTCOMES)[number], 'duplicate'>;
type Effect = { outcome: Outcome; detail?: string };

const ACTOR = 'system:shopify-webhook';
/** Shopify retries a delivery for up to 48 hours (and an event may be re-sent later): a week covers both. */
export const WEBHOOK_DELIVERY_TTL_SECONDS = 7 * 24 * 60 * 60;

// ---------------------------------------------------------------------------------------------
// Verification

/** A SHA-256 digest in base64: 32 bytes, 43 characters and one `=`. Anything else cannot match. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/** Is `signature` (the header) the base64 HMAC-SHA256 of the raw body with `secret`? Constant time in the digest compare. */
export const shopifySignatureMatches = (secret: string, rawBody: Buffer, signature: string): boolean => {
  if (!SIGNATURE_PATTERN.test(signature)) return false;
  const given = Buffer.from(signature, 'base64');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
};

/** Why a webhook was refused: logged (with the shop), never answered; every one is the same 401. */
type Refusal = 'no signature' | 'malformed shop domain' | 'unknown shop' | 'registration names no connection of this shop' | 'no readable webhook secret' | 'bad signature';

const refuse = (reason: Refusal, shop: string | undefined): never => {
  log.warn('shopify webhook refused', { reason, shop_domain: shop?.slice(0, 255) });
  throw new AppError('UNAUTHORIZED', 'the webhook does not verify: X-Shopify-Hmac-Sha256 must be the signature of the body by a connected shop');
};

const validShopDomain = shopifyCredentials.shape.shop_domain;

/** How long a webhook secret read from the store is reused by this container: the reads are paid per call, and webhooks come in bursts. */
const SECRET_CACHE_MS = 5 * 60_000;
const SECRET_CACHE_MAX = 1_000;
/**
 * Secrets by connection, stamped with the connection's `credentials.updated_at`: every credential
 * change rewrites that stamp (the connection is read on every webhook anyway), so a replaced secret is
 * read again at once rather than after the cache's time.
 */
const secretCache = new Map<string, { stamp: string; secret: string; until: number }>();

const webhookSecretOf = async (store: CredentialStore, tenantId: string, channel: Channel): Promise<string | undefined> => {
  const name = channelSecretName('', tenantId, channel.channel_id);
  const cached = secretCache.get(name);
  if (cached && cached.stamp === channel.credentials.updated_at && cached.until > Date.now()) return cached.secret;
  secretCache.delete(name);
  const parsed = shopifyCredentials.safeParse(await store.get(tenantId, channel.channel_id));
  if (!parsed.success) return undefined;
  // The oldest entry goes first (a Map keeps insertion order), so the cache stays small in a busy container.
  if (secretCache.size >= SECRET_CACHE_MAX) secretCache.delete(secretCache.keys().next().value ?? '');
  secretCache.set(name, { stamp: channel.credentials.updated_at, secret: parsed.data.webhook_secret, until: Date.now() + SECRET_CACHE_MS });
  return parsed.data.webhook_secret;
};

interface Verified {
  tenantId: string;
  channel: Channel;
  shop: string;
}

const verify = async (deps: WebhookDeps, request: WebhookRequest): Promise<Verified> => {
  const signature = request.headers['x-shopify-hmac-sha256'];
  const shop = request.headers['x-shopify-shop-domain'];
  if (!signature || !shop) return refuse('no signature', shop);
  if (!validShopDomain.safeParse(shop).success) return refuse('malformed shop domain', shop);
  const registration = await findShopRegistration(deps.db, shop);
  if (!registration) return refuse('unknown shop', shop);
  const channel = await findChannel(deps.db, registration.owner_tenant_id, registration.channel_id);
  // A registration must name a Shopify connection of this very shop: one left behind by a change that stopped half-way does not.
  if (!channel || channel.platform !== 'shopify' || shopDomainOf(channel) !== shop) return refuse('registration names no connection of this shop', shop);
  const secret = await webhookSecretOf(deps.credentials ?? credentialStoreFromEnv(), registration.owner_tenant_id, channel);
  if (secret === undefined) {
    // Names only: never the stored value, nor the parse issues (they could quote it).
    log.error('a connected shop has no readable webhook secret', { tenant_id: registration.owner_tenant_id, channel_id: channel.channel_id });
    return refuse('no readable webhook secret', shop);
  }
  if (!shopifySignatureMatches(secret, request.rawBody, signature)) return refuse('bad signature', shop);
  return { tenantId: registration.owner_tenant_id, channel, shop };
};

// ---------------------------------------------------------------------------------------------
// Deliveries

export const webhookDelivery = z
  .object({
    topic: z.string(),
    webhook_id: z.string(),
    event_id: z.string().optional(),
    shop_domain: z.string(),
    outcome: z.enum(WEBHOOK_OUTCOMES),
    detail: z.string().optional(),
    received_at: z.string(),
    triggered_at: z.string().optional(),
  })
  .loose();
export type WebhookDelivery = z.output<typeof webhookDelivery>;
const decodeDelivery = decodeWith('webhook delivery', webhookDelivery);

/** The names a delivery is known by: its webhook id, and its topic and event id when Shopify sends one. */
const deliveryKeys = (deps: Deps, channelId: string, delivery: { topic: string; webhookId: string; eventId: string | undefined }): Key[] => {
  const pk = keys.channelRecords(deps.ctx.caller.tenantId, channelId, 'WEBHOOK');
  return [{ pk, sk: `webhook#${delivery.webhookId}` }, ...(delivery.eventId === undefined ? [] : [{ pk, sk: `event#${delivery.topic}#${delivery.eventId}` }])];
};

/** Each name of the delivery recorded, if not yet: a concurrent delivery of the same may have recorded it first, which is the same record. */
const recordDelivery = async (deps: Deps, at: readonly Key[], delivery: WebhookDelivery): Promise<void> => {
  const now = deps.ctx.now();
  await Promise.all(
    at.map(async (key) => {
      try {
        await writeOne(
          deps.db,
          putItem(deps.db, {
            name: 'webhook delivery',
            key,
            entity: 'channel-webhook',
            tenantId: deps.ctx.caller.tenantId,
            value: { ...delivery, [TABLE.ttlAttribute]: Math.floor(now.getTime() / 1000) + WEBHOOK_DELIVERY_TTL_SECONDS },
            when: when.absent(),
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionFailed)) throw error;
      }
    }),
  );
};

/** The deliveries of a connection still kept (newest ~7 days), each under every name it is known by. */
export const readWebhookDeliveries = (deps: Deps, channelId: string): Promise<WebhookDelivery[]> =>
  queryAll(deps.db, { partition: keys.channelRecords(deps.ctx.caller.tenantId, channelId, 'WEBHOOK') }, decodeDelivery);

/** A delivery name Shopify sends: printable, and short enough for a sort key. */
const DELIVERY_NAME = /^[\x21-\x7e]{1,200}$/;

const deliveryHeaders = (headers: WebhookRequest['headers']): { topic: string; webhookId: string; eventId: string | undefined } => {
  const issues: FieldIssue[] = [];
  const required = (name: string): string => {
    const value = headers[name.toLowerCase()];
    if (value === undefined || !DELIVERY_NAME.test(value)) issues.push({ in: 'header', path: name, message: 'is required (Shopify sends it with every webhook): 1-200 printable characters' });
    return value ?? '';
  };
  const topic = required('X-Shopify-Topic');
  const webhookId = required('X-Shopify-Webhook-Id');
  const eventId = headers['x-shopify-event-id'];
  if (eventId !== undefined && !DELIVERY_NAME.test(eventId)) issues.push({ in: 'header', path: 'X-Shopify-Event-Id', message: 'must be 1-200 printable characters' });
  if (issues.length) throw validationFailed(issues);
  return { topic, webhookId, eventId };
};

/**
 * POST /api/integration/shopify/webhooks: verify (401 otherwise), answer a delivery seen before at
 * once, act on the topic, then record the delivery.
 */
export const receiveShopifyWebhook = async (deps: WebhookDeps, request: WebhookRequest): Promise<WebhookAnswer> => {
  const verified = await verify(deps, request);
  // From here on the delivery is the verified tenant's: the DynamoDB client refuses any key outside it (tenant-guard.ts).
  return inTenantScope(verified.tenantId, () => receiveVerified({ ...deps, db: deps.tenantDb?.() ?? deps.db }, request, verified));
};

const receiveVerified = async (deps: WebhookDeps, request: WebhookRequest, { tenantId, channel, shop }: Verified): Promise<WebhookAnswer> => {
  const ctx = systemContext({ tenantId, actor: ACTOR, requestId: request.requestId, now: request.now, deadline: request.deadline });
  const domain: Deps = { db: deps.db, ctx };
  const delivery = deliveryHeaders(request.headers);
  const names = deliveryKeys(domain, channel.channel_id, delivery);
  const logged = { tenant_id: tenantId, channel_id: channel.channel_id, topic: delivery.topic, webhook_id: delivery.webhookId, event_id: delivery.eventId };
  const [earlier] = await batchGet(deps.db, names, decodeDelivery);
  if (earlier) {
    log.info('shopify webhook', { ...logged, outcome: 'duplicate' });
    return { topic: delivery.topic, webhook_id: delivery.webhookId, outcome: 'duplicate', detail: `handled at ${earlier.received_at} (${earlier.outcome})` };
  }
  const effect = await act(domain, channel, delivery.topic, request.rawBody);
  const triggeredAt = request.headers['x-shopify-triggered-at'];
  await recordDelivery(domain, names, {
    topic: delivery.topic,
    webhook_id: delivery.webhookId,
    ...(delivery.eventId === undefined ? {} : { event_id: delivery.eventId }),
    shop_domain: shop,
    outcome: effect.outcome,
    ...(effect.detail === undefined ? {} : { detail: effect.detail }),
    received_at: ctx.now().toISOString(),
    ...(triggeredAt === undefined ? {} : { triggered_at: triggeredAt.slice(0, 64) }),
  });
  log.info('shopify webhook', { ...logged, outcome: effect.outcome });
  return { topic: delivery.topic, webhook_id: delivery.webhookId, outcome: effect.outcome, ...(effect.detail === undefined ? {} : { detail: effect.detail }) };
};

// ---------------------------------------------------------------------------------------------
// Topics

const isHandledTopic = (topic: string): topic is (typeof SHOPIFY_WEBHOOK_TOPICS)[number] => SHOPIFY_WEBHOOK_TOPICS.some((handled) => handled === topic);

/** The paths of what does not fit (never the values: a payload is the shop's customer data). */
const invalid = (topic: string, error: z.ZodError): Effect => ({
  outcome: 'invalid',
  detail: `not a ${topic} payload: ${[...new Set(error.issues.map((issue) => issue.path.join('.') || '(body)'))].slice(0, 5).join(', ')}`,
});

const act = async (deps: Deps, channel: Channel, topic: string, rawBody: Buffer): Promise<Effect> => {
  if (!isHandledTopic(topic)) return { outcome: 'ignored', detail: `the topic ${topic} is not acted on` };
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { outcome: 'invalid', detail: 'the body is not JSON' };
  }
  if (topic === 'inventory_levels/update') {
    const level = shopifyInventoryLevelPayload.safeParse(body);
    return level.success ? inventoryLevelUpdated(deps, channel, level.data) : invalid(topic, level.error);
  }
  if (topic === 'orders/cancelled') {
    const cancelled = cancelledOrderPayload.safeParse(body);
    return cancelled.success ? orderCancelled(deps, channel, cancelled.data.id) : invalid(topic, cancelled.error);
  }
  const order = shopifyOrderPayload.safeParse(body);
  if (!order.success) return invalid(topic, order.error);
  // An orders/create that arrives once the order is cancelled (deliveries are not ordered) is its cancellation.
  if (order.data.cancelled_at) return orderCancelled(deps, channel, order.data.id);
  return orderCreated(deps, channel, order.data);
};

/** orders/cancelled carries the whole order; only its id matters, so a line we could not read does not stop a cancellation. */
const cancelledOrderPayload = shopifyOrderPayload.pick({ id: true, cancelled_at: true });

const orderCancelled = async (deps: Deps, channel: Channel, id: number): Promise<Effect> => {
  const record = await cancelChannelOrder(deps, channel, String(id));
  return { outcome: 'processed', detail: `order ${record.order_id} ${record.status}${record.error_code ? ` (${record.error_code})` : ''}` };
};

/** Where the order ships, when Shopify geocoded the address: the nearest warehouse can be told then; otherwise the connection's order of warehouses. */
const shipToOf = (address: ShopifyOrderPayload['shipping_address']): ChannelOrder['ship_to'] => {
  const latitude = address?.latitude;
  const longitude = address?.longitude;
  if (typeof latitude !== 'number' || typeof longitude !== 'number' || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return undefined;
  const country = address?.country_code;
  return { latitude, longitude, ...(country && /^[A-Z]{2}$/.test(country) ? { country } : {}) };
};

const orderCreated = async (deps: Deps, channel: Channel, order: ShopifyOrderPayload): Promise<Effect> => {
  const shippable = order.line_items.flatMap((line) => {
    // What is left to ship of the line (a line removed by an order edit, or fulfilled at the counter, has none); a line
    // that needs no shipping (a gift card, a digital good) takes nothing from a warehouse. Neither is allocated.
    const quantity = line.fulfillable_quantity ?? line.quantity;
    if (line.requires_shipping === false || quantity === 0) return [];
    const sku = line.sku?.trim();
    return [{ sku: sku === '' ? undefined : sku, quantity, name: sku || `(no SKU: variant ${line.variant_id ?? 'none'}, line ${line.id})` }];
  });
  if (shippable.length === 0) return { outcome: 'ignored', detail: `order ${order.id} has no line that ships from a warehouse` };
  // The Shopify SKU is our sku_id (discovery looks variants up by it), but only a SKU mapped on this connection is ours.
  const candidates = [...new Set(shippable.flatMap((line) => (line.sku !== undefined && ID_PATTERN.test(line.sku) ? [line.sku] : [])))];
  const mapped = candidates.length ? await mappedSkuIds(deps, channel.channel_id, candidates) : new Set<string>();
  const quantities = new Map<string, number>();
  const unmapped: NonNullable<ChannelOrder['unmapped']> = [];
  for (const line of shippable) {
    if (line.sku !== undefined && mapped.has(line.sku)) quantities.set(line.sku, (quantities.get(line.sku) ?? 0) + line.quantity);
    else unmapped.push({ platform_sku: line.name, quantity: line.quantity });
  }
  const lines: ChannelOrderLine[] = [...quantities].map(([sku_id, quantity]) => ({ sku_id, quantity }));
  const shipTo = shipToOf(order.shipping_address);
  const record = await receiveChannelOrder(deps, channel, {
    external_id: String(order.id),
    lines,
    ...(unmapped.length ? { unmapped } : {}),
    ...(shipTo ? { ship_to: shipTo } : {}),
  });
  return { outcome: 'processed', detail: `order ${record.order_id} ${record.status}${record.error_code ? ` (${record.error_code})` : ''}` };
};

const inventoryLevelUpdated = async (deps: Deps, channel: Channel, level: ShopifyInventoryLevelPayload): Promise<Effect> => {
  const available = level.available;
  if (available === null) return { outcome: 'ignored', detail: 'Shopify does not track this inventory item\'s quantity' };
  const reportedAt = new Date(level.updated_at);
  if (Number.isNaN(reportedAt.getTime())) return { outcome: 'invalid', detail: 'not an inventory_levels/update payload: updated_at' };
  // The listing map holds Shopify's global ids; the REST payload has the numbers inside them.
  const listings = await listingsAtShopifyTarget(deps, channel.channel_id, `gid://shopify/InventoryItem/${level.inventory_item_id}`, `gid://shopify/Location/${level.location_id}`);
  if (listings.length === 0) return { outcome: 'ignored', detail: 'no SKU is mapped to this inventory item and location' };
  const written = await Promise.all(
    listings.map(async (listing) => ((await recordReportedQuantity(deps, channel.channel_id, { sku_id: listing.sku_id, quantity: available, reported_at: reportedAt, source: 'webhook' })) ? listing.sku_id : undefined)),
  );
  const recorded = written.flatMap((sku) => (sku === undefined ? [] : [sku]));
  if (recorded.length === 0) return { outcome: 'ignored', detail: 'a report at least as recent is recorded already' };
  return { outcome: 'processed', detail: `Shopify reports ${available} of ${recorded.join(', ')}` };
};
