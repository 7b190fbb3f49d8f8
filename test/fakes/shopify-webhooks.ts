import { createHmac, randomUUID } from 'node:crypto';
import { httpRoutes } from '../../functions/wiring';

/**
 * Shopify's side of a webhook, as Shopify sends one: a REST-shaped JSON payload (orders/create,
 * orders/cancelled, inventory_levels/update), signed with the base64 HMAC-SHA256 of the raw body
 * bytes keyed with the app's webhook secret, and the X-Shopify-* headers (Topic, Hmac-Sha256,
 * Shop-Domain, API-Version, Webhook-Id, Event-Id, Triggered-At), POSTed to the API. A retry keeps
 * the webhook id and event id; a re-sent event gets a new webhook id and keeps its event id.
 */
export const WEBHOOK_PATH = httpRoutes.shopifyWebhook.path;

/** What Shopify puts in X-Shopify-Hmac-Sha256. */
export const signShopifyBody = (secret: string, body: string | Buffer): string => createHmac('sha256', secret).update(body).digest('base64');

export interface OrderLineInput {
  sku: string | null;
  quantity: number;
  /** Default: the quantity (nothing fulfilled or removed yet). */
  fulfillable_quantity?: number;
  /** Default true. */
  requires_shipping?: boolean;
}

export interface OrderInput {
  id: number;
  lines: OrderLineInput[];
  /** Default: a geocoded address in New York; null for an order with no shipping address. */
  shipping?: { latitude: number | null; longitude: number | null; country_code: string | null } | null;
  cancelled_at?: string | null;
}

let lineIds = 9_000_000;

/** A REST Order as Shopify's orders/create (and, with cancelled_at, orders/cancelled) sends it: the fields we read, and some we do not. */
export const orderPayload = (order: OrderInput): Record<string, unknown> => {
  const shipping = order.shipping === undefined ? { latitude: 40.71, longitude: -74.0, country_code: 'US' } : order.shipping;
  return {
    id: order.id,
    admin_graphql_api_id: `gid://shopify/Order/${order.id}`,
    name: `#${order.id % 100_000}`,
    email: 'customer@example.com',
    created_at: '2026-04-01T10:00:00-04:00',
    cancelled_at: order.cancelled_at ?? null,
    currency: 'USD',
    financial_status: 'paid',
    fulfillment_status: null,
    line_items: order.lines.map((line, i) => ({
      id: (lineIds += 1),
      variant_id: 44_000_000 + i,
      product_id: 8_000_000 + i,
      title: `Item ${i}`,
      sku: line.sku,
      quantity: line.quantity,
      fulfillable_quantity: line.fulfillable_quantity ?? line.quantity,
      requires_shipping: line.requires_shipping ?? true,
      price: '10.00',
    })),
    shipping_address:
      shipping === null
        ? null
        : { first_name: 'Ada', address1: '1 Main St', city: 'New York', zip: '10001', country: 'United States', ...shipping },
  };
};

/** orders/cancelled: the whole order again, with cancelled_at and a reason. */
export const cancelledOrderPayload = (order: OrderInput): Record<string, unknown> => ({
  ...orderPayload({ ...order, cancelled_at: order.cancelled_at ?? '2026-04-01T12:00:00-04:00' }),
  cancel_reason: 'customer',
});

/** inventory_levels/update: numeric ids (the listing map holds the gid://shopify/... forms of them). */
export const inventoryLevelPayload = (level: { inventoryItemId: number; locationId: number; available: number | null; updatedAt: string }): Record<string, unknown> => ({
  inventory_item_id: level.inventoryItemId,
  location_id: level.locationId,
  available: level.available,
  updated_at: level.updatedAt,
  admin_graphql_api_id: `gid://shopify/InventoryLevel/${level.inventoryItemId}?inventory_item_id=${level.inventoryItemId}`,
});

export interface DeliveryOptions {
  /** Default: a fresh one (a new delivery); the same one is a retry. */
  webhookId?: string;
  /** Default: a fresh one (a new event). */
  eventId?: string;
  /** Sign with this instead of the shop's secret (a forgery). */
  secret?: string;
  /** Say this shop instead. */
  shop?: string;
  /** Send this X-Shopify-Hmac-Sha256 as is; null sends none. */
  signature?: string | null;
  /** Change the bytes after signing (a body changed in transit). */
  tamper?: (body: Buffer) => Buffer;
  /** Send exactly these bytes as the body (signed, unless tampered). */
  rawBody?: Buffer;
  /** Leave out some headers. */
  without?: string[];
}

/** A delivery as sent: its headers (lower-case names), its exact body bytes, and the ids it carried. */
export interface Delivery {
  headers: Record<string, string>;
  body: Buffer;
  webhookId: string;
  eventId: string;
}

/** How a delivery reaches the API: by default fetch to `${apiUrl}${WEBHOOK_PATH}`; a test passes its contract-checked request. */
export type Transport = (path: string, init: { method: 'POST'; headers: Record<string, string>; body: Buffer }) => Promise<{ status: number; body: unknown }>;

const fetchTransport =
  (apiUrl: string): Transport =>
  async (path, init) => {
    const res = await fetch(`${apiUrl}${path}`, init);
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as unknown };
    } catch {
      return { status: res.status, body: text };
    }
  };

/** One shop's webhooks: builds, signs and sends them as Shopify does. */
export class ShopifyWebhookSender {
  private readonly transport: Transport;

  constructor(
    readonly shop: string,
    readonly secret: string,
    to: string | Transport,
    readonly apiVersion = '2026-04',
  ) {
    this.transport = typeof to === 'string' ? fetchTransport(to) : to;
  }

  /** The signed delivery of `payload` on `topic`, as Shopify would send it (options bend it for the tests). */
  delivery(topic: string, payload: unknown, options: DeliveryOptions = {}): Delivery {
    const signed = options.rawBody ?? Buffer.from(JSON.stringify(payload), 'utf8');
    const webhookId = options.webhookId ?? randomUUID();
    const eventId = options.eventId ?? randomUUID();
    const signature = options.signature === undefined ? signShopifyBody(options.secret ?? this.secret, signed) : options.signature;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      ...(signature === null ? {} : { 'x-shopify-hmac-sha256': signature }),
      'x-shopify-shop-domain': options.shop ?? this.shop,
      'x-shopify-api-version': this.apiVersion,
      'x-shopify-webhook-id': webhookId,
      'x-shopify-event-id': eventId,
      'x-shopify-triggered-at': new Date().toISOString(),
    };
    for (const name of options.without ?? []) delete headers[name.toLowerCase()];
    return { headers, body: options.tamper ? options.tamper(Buffer.from(signed)) : signed, webhookId, eventId };
  }

  /** Sends a delivery (a new one, or one built before: a retry sends the same again). */
  async send(delivery: Delivery): Promise<{ status: number; body: unknown }> {
    return this.transport(WEBHOOK_PATH, { method: 'POST', headers: delivery.headers, body: delivery.body });
  }

  /** Builds and sends in one go. */
  deliver(topic: string, payload: unknown, options: DeliveryOptions = {}): Promise<{ status: number; body: unknown }> {
    return this.send(this.delivery(topic, payload, options));
  }

  orderCreated(order: OrderInput, options?: DeliveryOptions) {
    return this.deliver('orders/create', orderPayload(order), options);
  }

  orderCancelled(order: OrderInput, options?: DeliveryOptions) {
    return this.deliver('orders/cancelled', cancelledOrderPayload(order), options);
  }

  inventoryLevelUpdated(level: Parameters<typeof inventoryLevelPayload>[0], options?: DeliveryOptions) {
    return this.deliver('inventory_levels/update', inventoryLevelPayload(level), options);
  }
}
