import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Bucket, PlatformFake, type Reply } from './server';

/**
 * A fake Amazon SP-API (research section 2): LWA `POST /auth/o2/token` (form or JSON body,
 * refresh_token grant), `PATCH` and `GET /listings/2021-08-01/items/:sellerId/:sku` requiring
 * `x-amz-access-token`, and token-bucket limits (patch 5 rps burst 5, get 5 burst 10) answering
 * 429 with `x-amzn-RateLimit-Limit` and `{"errors":[{"code":"QuotaExceeded"}]}`.
 *
 * Orders (v2026-01-01 `searchOrders`, `GET /orders/2026-01-01/orders`): the orders of the seller
 * the access token was issued for (a refresh token per seller, `addSeller`), filtered by
 * lastUpdatedAfter/lastUpdatedBefore (inclusive; before at least two minutes before the fake's
 * now), marketplaceIds, fulfilledBy and fulfillmentStatuses, ordered by lastUpdatedTime then
 * orderId, in pages of maxResultsPerPage (1-100) with an opaque `pagination.nextToken`: signed, a
 * keyset cursor (so an order updated between pages moves to a later window rather than shifting
 * the pages and skipping another), bound to the first request's parameters and valid 24 hours; a
 * tampered, mismatched or expired one is a 400 `InvalidInput`. `fulfillment` only with
 * includedData FULFILLMENT, as Amazon. Its own bucket per seller (burst 20, 0.0056/s, relaxed by
 * `throttleOrders`), 429 with `x-amzn-RateLimit-Limit`. The fake's clock (`now`) dates orders,
 * checks the two-minute rule and token ages, and refills the orders buckets.
 */
export interface LwaApp {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

const LISTING_PATH = /^\/listings\/2021-08-01\/items\/([^/]+)\/([^/]+)$/;
const ORDERS_PATH = '/orders/2026-01-01/orders';
const errors = (code: string, message: string) => ({ errors: [{ code, message, details: '' }] });

/** The seller the default refresh token is for. */
export const DEFAULT_SELLER = 'A1SELLER';
export const DEFAULT_MARKETPLACE = 'ATVPDKIKX0DER';
/** searchOrders' default usage plan. */
export const ORDERS_RATE = 0.0056;
export const ORDERS_BURST = 20;
const TOKEN_LIFETIME_MS = 24 * 3600_000;
const MIN_LAG_MS = 2 * 60_000;

export type FulfillmentStatus = 'PENDING_AVAILABILITY' | 'PENDING' | 'UNSHIPPED' | 'PARTIALLY_SHIPPED' | 'SHIPPED' | 'CANCELLED' | 'UNFULFILLABLE';

export interface FakeOrder {
  orderId: string;
  sellerId: string;
  marketplaceId: string;
  fulfilledBy: 'MERCHANT' | 'AMAZON';
  status: FulfillmentStatus;
  createdTime: string;
  lastUpdatedTime: string;
  items: { orderItemId: string; sellerSku: string; quantityOrdered: number }[];
}

export interface PlaceOrder {
  sellerId?: string;
  orderId?: string;
  items: { sellerSku: string; quantity: number }[];
  status?: FulfillmentStatus;
  marketplaceId?: string;
  fulfilledBy?: 'MERCHANT' | 'AMAZON';
  /** When it was placed (and last updated); default the fake's now. */
  at?: number;
}

/** What a nextToken carries: the search it continues and where it stopped. */
interface PageCursor {
  seller: string;
  search: string;
  lastUpdatedTime: string;
  orderId: string;
  issuedAt: number;
}

export interface SpApiFakeOptions {
  /** The fake's clock (epoch ms); default Date.now. */
  now?: () => number;
}

export class SpApiFake extends PlatformFake {
  readonly listings = new Map<string, { productType: string; quantity: number | null }>();
  readonly buckets = { patch: new Bucket(5, 5), get: new Bucket(10, 5) };
  readonly tokens = new Set<string>();
  tokenRequests = 0;
  /** Which seller each refresh token (and each access token issued for it) is. */
  private readonly sellersByRefresh = new Map<string, string>();
  private readonly sellersByAccess = new Map<string, string>();
  readonly orders = new Map<string, FakeOrder>();
  private readonly orderBuckets = new Map<string, Bucket>();
  private ordersLimit = { rate: ORDERS_RATE, burst: ORDERS_BURST };
  /** Buckets of sellers first seen after `throttleOrders({ empty: true })` start empty too. */
  private emptyNewBuckets = false;
  private tokenKey = randomBytes(32);
  private orderCount = 0;
  readonly now: () => number;

  constructor(
    readonly app: LwaApp = { clientId: 'amzn1.application-oa2-client.fake', clientSecret: 'fake-client-secret', refreshToken: 'Atzr|fake-refresh' },
    options: SpApiFakeOptions = {},
  ) {
    super();
    this.now = options.now ?? Date.now;
    this.sellersByRefresh.set(app.refreshToken, DEFAULT_SELLER);
  }

  protected handleRequest(req: IncomingMessage, body: string, url: URL): Reply {
    return this.handle(req.method ?? '', req.headers, body, url);
  }

  static async start(app?: LwaApp, options?: SpApiFakeOptions): Promise<SpApiFake> {
    const fake = new SpApiFake(app, options);
    await fake.server.start();
    return fake;
  }

  /** Another seller who authorized the same app: its own refresh token, orders and rate bucket. */
  addSeller(sellerId: string, refreshToken: string): void {
    this.sellersByRefresh.set(refreshToken, sellerId);
  }

  /** A new order (UNSHIPPED, merchant-fulfilled, in the default marketplace unless said); answers its orderId. */
  placeOrder(order: PlaceOrder): string {
    this.orderCount += 1;
    const n = this.orderCount;
    const orderId = order.orderId ?? `${String(100 + (n % 900)).padStart(3, '0')}-${String(n).padStart(7, '0')}-${String((n * 7919) % 10_000_000).padStart(7, '0')}`;
    const at = new Date(order.at ?? this.now()).toISOString();
    this.orders.set(orderId, {
      orderId,
      sellerId: order.sellerId ?? DEFAULT_SELLER,
      marketplaceId: order.marketplaceId ?? DEFAULT_MARKETPLACE,
      fulfilledBy: order.fulfilledBy ?? 'MERCHANT',
      status: order.status ?? 'UNSHIPPED',
      createdTime: at,
      lastUpdatedTime: at,
      items: order.items.map((item, i) => ({ orderItemId: `${orderId.replace(/-/g, '')}${i + 1}`, sellerSku: item.sellerSku, quantityOrdered: item.quantity })),
    });
    return orderId;
  }

  /** A status change (the buyer cancels, Amazon authorizes the payment, it ships): lastUpdatedTime moves to `at` (default now). */
  setStatus(orderId: string, status: FulfillmentStatus, at?: number): void {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    this.orders.set(orderId, { ...order, status, lastUpdatedTime: new Date(at ?? this.now()).toISOString() });
  }

  cancelOrder(orderId: string, at?: number): void {
    this.setStatus(orderId, 'CANCELLED', at);
  }

  /** Some other change to the order (an address, a note): it is in a later window again, status unchanged. */
  touchOrder(orderId: string, at?: number): void {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    this.setStatus(orderId, order.status, at);
  }

  /** searchOrders requests answered (any status) since `since` (epoch ms of the real clock, as the request log). */
  orderRequests(since = 0): number {
    return this.server.requests('searchOrders', since).length;
  }

  /** Change searchOrders' limit for every seller (tests relax it); `empty` drains every seller's bucket. */
  throttleOrders({ rate, burst, empty }: { rate?: number; burst?: number; empty?: boolean }): void {
    this.ordersLimit = { rate: rate ?? this.ordersLimit.rate, burst: burst ?? this.ordersLimit.burst };
    for (const bucket of this.orderBuckets.values()) {
      bucket.rate = this.ordersLimit.rate;
      bucket.capacity = this.ordersLimit.burst;
      bucket.set(empty ? 0 : bucket.available());
    }
    this.emptyNewBuckets = empty ?? false;
  }

  /** Every nextToken issued so far stops being accepted (as after Amazon rotates them or they expire). */
  invalidateTokens(): void {
    this.tokenKey = randomBytes(32);
  }

  /** Seed or drift a listing's DEFAULT quantity. */
  setQuantity(sellerId: string, sku: string, quantity: number | null, productType = 'PRODUCT'): void {
    this.listings.set(`${sellerId}/${sku}`, { productType, quantity });
  }
  getQuantity(sellerId: string, sku: string): number | null | undefined {
    return this.listings.get(`${sellerId}/${sku}`)?.quantity;
  }

  /** Change an operation's limit; `empty` drains its bucket. */
  throttle(operation: 'patch' | 'get', { rate, burst, empty }: { rate?: number; burst?: number; empty?: boolean }): void {
    const bucket = this.buckets[operation];
    if (rate !== undefined) bucket.rate = rate;
    if (burst !== undefined) bucket.capacity = burst;
    bucket.set(empty ? 0 : bucket.available());
  }


  private handle(method: string, headers: Record<string, string | string[] | undefined>, body: string, url: URL): Reply {
    if (url.pathname === '/auth/o2/token' && method === 'POST') return this.token(String(headers['content-type'] ?? ''), body);
    if (url.pathname === ORDERS_PATH && method === 'GET') return this.searchOrders(headers, url);
    const match = LISTING_PATH.exec(url.pathname);
    if (!match || (method !== 'PATCH' && method !== 'GET')) return { status: 404, body: errors('NotFound', 'Resource not found') };
    const operation = method === 'PATCH' ? 'patchListingsItem' : 'getListingsItem';
    const requestId = randomUUID();
    const token = headers['x-amz-access-token'];
    if (typeof token !== 'string' || !this.tokens.has(token)) {
      return { status: 403, operation, headers: { 'x-amzn-RequestId': requestId }, body: errors('Unauthorized', 'Access to requested resource is denied.') };
    }
    const bucket = method === 'PATCH' ? this.buckets.patch : this.buckets.get;
    if (!bucket.take(1)) {
      return { status: 429, operation, headers: { 'x-amzn-RateLimit-Limit': bucket.rate.toFixed(1), 'x-amzn-RequestId': requestId }, body: errors('QuotaExceeded', 'You exceeded your quota for the requested resource.') };
    }
    const replyHeaders = { 'x-amzn-RateLimit-Limit': bucket.rate.toFixed(1), 'x-amzn-RequestId': requestId };
    const marketplaceIds = url.searchParams.get('marketplaceIds');
    if (!marketplaceIds) return { status: 400, operation, headers: replyHeaders, body: errors('InvalidInput', 'marketplaceIds is required') };
    const [, sellerId = '', sku = ''] = match;
    const key = `${decodeURIComponent(sellerId)}/${decodeURIComponent(sku)}`;
    const listing = this.listings.get(key);
    if (method === 'GET') {
      if (!listing) return { status: 404, operation, headers: replyHeaders, body: errors('NOT_FOUND', `SKU '${decodeURIComponent(sku)}' not found in marketplace ${marketplaceIds}`) };
      const included = url.searchParams.get('includedData') ?? 'summaries';
      return {
        status: 200,
        operation,
        headers: replyHeaders,
        body: {
          sku: decodeURIComponent(sku),
          ...(included.split(',').includes('fulfillmentAvailability')
            ? { fulfillmentAvailability: listing.quantity === null ? [] : [{ fulfillmentChannelCode: 'DEFAULT', quantity: listing.quantity }] }
            : {}),
        },
      };
    }
    return { status: 200, operation, headers: replyHeaders, body: this.patch(decodeURIComponent(sku), key, listing, body) };
  }

  private patch(sku: string, key: string, listing: { productType: string; quantity: number | null } | undefined, body: string): unknown {
    const submissionId = randomUUID().replace(/-/g, '');
    const invalid = (code: string, message: string, attributeNames: string[] = []) => ({ sku, status: 'INVALID', submissionId, issues: [{ code, message, severity: 'ERROR', attributeNames }] });
    let parsed: { productType?: unknown; patches?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return invalid('4000001', 'The request body is not valid JSON.');
    }
    if (typeof parsed.productType !== 'string') return invalid('4000001', 'productType is required.');
    if (!listing) return invalid('4000003', `The SKU '${sku}' does not exist for this seller.`);
    const patches = Array.isArray(parsed.patches) ? (parsed.patches as { op?: unknown; path?: unknown; value?: unknown }[]) : [];
    let quantity = listing.quantity;
    for (const p of patches) {
      if ((p.op !== 'merge' && p.op !== 'replace') || p.path !== '/attributes/fulfillment_availability' || !Array.isArray(p.value)) {
        return invalid('90220', 'This fake accepts only merge/replace of /attributes/fulfillment_availability.', ['fulfillment_availability']);
      }
      const entry = (p.value as { fulfillment_channel_code?: unknown; quantity?: unknown }[]).find((v) => v.fulfillment_channel_code === 'DEFAULT');
      if (!entry || typeof entry.quantity !== 'number' || !Number.isInteger(entry.quantity) || entry.quantity < 0) {
        return invalid('90220', "'quantity' must be a whole number of at least 0.", ['fulfillment_availability']);
      }
      quantity = entry.quantity;
    }
    this.listings.set(key, { ...listing, quantity });
    return { sku, status: 'ACCEPTED', submissionId, issues: [] };
  }

  private orderBucket(seller: string): Bucket {
    let bucket = this.orderBuckets.get(seller);
    if (!bucket) {
      bucket = new Bucket(this.ordersLimit.burst, this.ordersLimit.rate, this.now);
      if (this.emptyNewBuckets) bucket.set(0);
      this.orderBuckets.set(seller, bucket);
    }
    return bucket;
  }

  private sign(cursor: PageCursor): string {
    const payload = Buffer.from(JSON.stringify(cursor)).toString('base64url');
    return `${payload}.${createHmac('sha256', this.tokenKey).update(payload).digest('base64url')}`;
  }

  private unsign(token: string): PageCursor | undefined {
    const [payload = '', mac = ''] = token.split('.');
    const expected = createHmac('sha256', this.tokenKey).update(payload).digest();
    const got = Buffer.from(mac, 'base64url');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as PageCursor;
    } catch {
      return undefined;
    }
  }

  private searchOrders(headers: Record<string, string | string[] | undefined>, url: URL): Reply {
    const operation = 'searchOrders';
    const requestId = randomUUID();
    const token = headers['x-amz-access-token'];
    const seller = typeof token === 'string' && this.tokens.has(token) ? this.sellersByAccess.get(token) : undefined;
    if (seller === undefined) {
      return { status: 403, operation, headers: { 'x-amzn-RequestId': requestId }, body: errors('Unauthorized', 'Access to requested resource is denied.') };
    }
    const bucket = this.orderBucket(seller);
    const limitHeaders = { 'x-amzn-RateLimit-Limit': String(bucket.rate), 'x-amzn-RequestId': requestId };
    if (!bucket.take(1)) return { status: 429, operation, headers: limitHeaders, body: errors('QuotaExceeded', 'You exceeded your quota for the requested resource.') };
    const bad = (message: string): Reply => ({ status: 400, operation, headers: limitHeaders, body: errors('InvalidInput', message) });
    const q = url.searchParams;
    const list = (name: string): string[] | undefined => q.get(name)?.split(',').filter(Boolean);
    if (q.has('createdAfter') || q.has('createdBefore')) return bad('This fake searches by lastUpdatedAfter only.');
    const afterText = q.get('lastUpdatedAfter');
    if (afterText === null) return bad('Exactly one of createdAfter and lastUpdatedAfter must be provided.');
    const after = Date.parse(afterText);
    if (Number.isNaN(after)) return bad('lastUpdatedAfter must be an ISO 8601 date.');
    const now = this.now();
    const beforeText = q.get('lastUpdatedBefore');
    const before = beforeText === null ? now - MIN_LAG_MS : Date.parse(beforeText);
    if (Number.isNaN(before)) return bad('lastUpdatedBefore must be an ISO 8601 date.');
    if (before < after) return bad('lastUpdatedBefore must be equal to or after lastUpdatedAfter.');
    if (before > now - MIN_LAG_MS) return bad('lastUpdatedBefore must be at least two minutes before the time of the request.');
    const size = q.has('maxResultsPerPage') ? Number(q.get('maxResultsPerPage')) : 100;
    if (!Number.isInteger(size) || size < 1 || size > 100) return bad('maxResultsPerPage must be between 1 and 100.');
    const marketplaces = list('marketplaceIds');
    const fulfilledBy = list('fulfilledBy');
    const statuses = list('fulfillmentStatuses');
    const included = list('includedData') ?? [];
    // What a token is bound to: every parameter but maxResultsPerPage and includedData (as Amazon says).
    const search = JSON.stringify([after, before, marketplaces ?? null, fulfilledBy ?? null, statuses ?? null]);
    let from: { lastUpdatedTime: string; orderId: string } | undefined;
    const paginationToken = q.get('paginationToken');
    if (paginationToken !== null) {
      const cursor = this.unsign(paginationToken);
      if (!cursor || cursor.seller !== seller) return bad('Invalid paginationToken.');
      if (now - cursor.issuedAt > TOKEN_LIFETIME_MS) return bad('The paginationToken has expired.');
      if (cursor.search !== search) return bad('The paginationToken was issued for other request parameters.');
      from = cursor;
    }
    const key = (o: { lastUpdatedTime: string; orderId: string }) => `${o.lastUpdatedTime}|${o.orderId}`;
    const matching = [...this.orders.values()]
      .filter((o) => o.sellerId === seller)
      .filter((o) => Date.parse(o.lastUpdatedTime) >= after && Date.parse(o.lastUpdatedTime) <= before)
      .filter((o) => (marketplaces ? marketplaces.includes(o.marketplaceId) : true))
      .filter((o) => (fulfilledBy ? fulfilledBy.includes(o.fulfilledBy) : true))
      .filter((o) => (statuses ? statuses.includes(o.status) : true))
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
      .filter((o) => (from ? key(o) > key(from) : true));
    const page = matching.slice(0, size);
    const last = page.at(-1);
    const more = matching.length > size && last !== undefined;
    return {
      status: 200,
      operation,
      headers: limitHeaders,
      body: {
        orders: page.map((o) => ({
          orderId: o.orderId,
          createdTime: o.createdTime,
          lastUpdatedTime: o.lastUpdatedTime,
          salesChannel: { channelName: 'AMAZON', marketplaceId: o.marketplaceId },
          ...(included.includes('FULFILLMENT') ? { fulfillment: { fulfillmentStatus: o.status, fulfilledBy: o.fulfilledBy } } : {}),
          orderItems: o.items.map((i) => ({ orderItemId: i.orderItemId, quantityOrdered: i.quantityOrdered, product: { sellerSku: i.sellerSku } })),
        })),
        ...(more ? { pagination: { nextToken: this.sign({ seller, search, lastUpdatedTime: last.lastUpdatedTime, orderId: last.orderId, issuedAt: now }) } } : {}),
        lastUpdatedBefore: new Date(before).toISOString(),
      },
    };
  }

  private token(contentType: string, body: string): Reply {
    this.tokenRequests += 1;
    let fields: Record<string, unknown>;
    try {
      fields = contentType.includes('json') ? (JSON.parse(body) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(body));
    } catch {
      return { status: 400, operation: 'token', body: { error: 'invalid_request', error_description: 'Malformed body' } };
    }
    if (fields.grant_type !== 'refresh_token') return { status: 400, operation: 'token', body: { error: 'unsupported_grant_type', error_description: 'Only refresh_token' } };
    if (fields.client_id !== this.app.clientId || fields.client_secret !== this.app.clientSecret) {
      return { status: 401, operation: 'token', body: { error: 'invalid_client', error_description: 'Client authentication failed' } };
    }
    const seller = typeof fields.refresh_token === 'string' ? this.sellersByRefresh.get(fields.refresh_token) : undefined;
    if (seller === undefined) return { status: 400, operation: 'token', body: { error: 'invalid_grant', error_description: 'The request has an invalid grant parameter : refresh_token' } };
    const access = `Atza|${randomUUID()}`;
    this.tokens.add(access);
    this.sellersByAccess.set(access, seller);
    return { status: 200, operation: 'token', body: { access_token: access, refresh_token: this.app.refreshToken, token_type: 'bearer', expires_in: 3600 } };
  }
}
