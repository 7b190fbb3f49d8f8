import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Bucket, PlatformFake, type Reply } from './server';

/**
 * A fake Amazon SP-API (research section 2): LWA `POST /auth/o2/token` (form or JSON body,
 * refresh_token grant), `PATCH` and `GET /listings/2021-08-01/items/:sellerId/:sku` requiring
 * `x-amz-access-token`, and token-bucket limits (patch 5 rps burst 5, get 5 burst 10) answering
 * 429 with `x-amzn-RateLimit-Limit` and `{"errors":[{"code":"QuotaExceeded"}]}`.
 */
export interface LwaApp {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

const LISTING_PATH = /^\/listings\/2021-08-01\/items\/([^/]+)\/([^/]+)$/;
const errors = (code: string, message: string) => ({ errors: [{ code, message, details: '' }] });

export class SpApiFake extends PlatformFake {
  readonly listings = new Map<string, { productType: string; quantity: number | null }>();
  readonly buckets = { patch: new Bucket(5, 5), get: new Bucket(10, 5) };
  readonly tokens = new Set<string>();
  tokenRequests = 0;

  constructor(readonly app: LwaApp = { clientId: 'amzn1.application-oa2-client.fake', clientSecret: 'fake-client-secret', refreshToken: 'Atzr|fake-refresh' }) {
    super();
  }

  protected handleRequest(req: IncomingMessage, body: string, url: URL): Reply {
    return this.handle(req.method ?? '', req.headers, body, url);
  }

  static async start(app?: LwaApp): Promise<SpApiFake> {
    const fake = new SpApiFake(app);
    await fake.server.start();
    return fake;
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
    if (fields.refresh_token !== this.app.refreshToken) return { status: 400, operation: 'token', body: { error: 'invalid_grant', error_description: 'The request has an invalid grant parameter : refresh_token' } };
    const access = `Atza|${randomUUID()}`;
    this.tokens.add(access);
    return { status: 200, operation: 'token', body: { access_token: access, refresh_token: this.app.refreshToken, token_type: 'bearer', expires_in: 3600 } };
  }
}
