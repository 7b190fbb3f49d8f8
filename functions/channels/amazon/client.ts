import { SellingPartnerApiAuth } from '@sp-api-sdk/auth';
import { createAxiosInstance, type RateLimit, type SellingPartnerRegion } from '@sp-api-sdk/common';
import { ListingsItemsApi, ListingsItemsApiClient, clientRateLimits } from '@sp-api-sdk/listings-items-api-2021-08-01';
import * as z from 'zod';
import type { amazonCredentials } from '../schemas';

/**
 * The Amazon SP-API Listings Items client of a connection (issue 11, scope item 6), on
 * @sp-api-sdk. Nothing calls it yet: the push worker and reconciliation will. Calls carry only
 * `x-amz-access-token` (no SigV4 since October 2023). The SDK's 429 retry stays off (it sleeps
 * 1/rate + 1.5 s, or 60 s, inside the Lambda): callers pace and back off themselves. Errors never
 * leave this module as the SDK's axios errors (those carry the request and its token): every call
 * answers a typed outcome whose message names a status, never a credential.
 */
export type AmazonCredentials = Pick<z.output<typeof amazonCredentials>, 'lwa_client_id' | 'lwa_client_secret' | 'refresh_token'>;
export interface AmazonConnection {
  /** Local only, loopback only: the SP-API endpoint, with LWA at `{api_base_url}/auth/o2/token`. */
  api_base_url?: string | undefined;
}
export type ListingsClient = ListingsItemsApi;

const FAR_EAST = new Set(['A1VC38T7YXB528', 'A39IBJ37TRP1C6', 'A19VAU5U5O7RUS']);
const NORTH_AMERICA = new Set(['ATVPDKIKX0DER', 'A2EUQ1WTGCTBG2', 'A1AM78C64UM0Y8', 'A2Q3Y263D00KWC']);
/** The SP-API region serving a marketplace (NA, FE; everything else is EU). */
export const regionOf = (marketplaceId: string): SellingPartnerRegion =>
  NORTH_AMERICA.has(marketplaceId) ? 'na' : FAR_EAST.has(marketplaceId) ? 'fe' : 'eu';

const tokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.number().positive(), token_type: z.string().optional() }).loose();

/**
 * LWA against `{api_base_url}/auth/o2/token`: @sp-api-sdk/auth hard-codes
 * https://api.amazon.com/auth/, so locally the token request is made here (a form body, as LWA
 * documents), cached until `expires_in` (a minute early), concurrent callers sharing one request.
 */
export class LocalLwaAuth extends SellingPartnerApiAuth {
  #token: { value: string; expiresAt: number } | undefined;
  #pending: Promise<string> | undefined;
  /** How many token requests were made (tests assert the cache). */
  requests = 0;

  constructor(
    private readonly tokenUrl: string,
    private readonly lwa: AmazonCredentials,
    private readonly now: () => number = Date.now,
  ) {
    super({ clientId: lwa.lwa_client_id, clientSecret: lwa.lwa_client_secret, refreshToken: lwa.refresh_token });
  }

  override async getAccessToken(): Promise<string> {
    if (this.#token && this.now() < this.#token.expiresAt) return this.#token.value;
    this.#pending ??= this.#fetchToken().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetchToken(): Promise<string> {
    this.requests += 1;
    const started = this.now();
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: this.lwa.refresh_token,
      client_id: this.lwa.lwa_client_id,
      client_secret: this.lwa.lwa_client_secret,
    });
    let response: Response;
    try {
      response = await fetch(this.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    } catch {
      throw new Error('LWA token request failed: no response');
    }
    if (!response.ok) throw new Error(`LWA token request failed: HTTP ${response.status}`);
    const decoded = tokenResponse.safeParse(await response.json().catch(() => undefined));
    if (!decoded.success) throw new Error('LWA token response unreadable');
    const lifetimeMs = Math.max(0, decoded.data.expires_in - 60) * 1000;
    this.#token = { value: decoded.data.access_token, expiresAt: started + lifetimeMs };
    return decoded.data.access_token;
  }
}

export interface ListingsClientOptions {
  /** Defaults to the region of the connection's first marketplace. */
  region?: SellingPartnerRegion;
  marketplaceIds?: readonly string[];
}

/** The SDK's axios instance (axios is its dependency, not ours). */
type SpApiAxios = ReturnType<typeof createAxiosInstance>['axios'];

/** LWA at Amazon (the SDK's own), for a connection without `api_base_url`. */
export const amazonAuth = (credentials: AmazonCredentials): SellingPartnerApiAuth =>
  new SellingPartnerApiAuth({ clientId: credentials.lwa_client_id, clientSecret: credentials.lwa_client_secret, refreshToken: credentials.refresh_token });

/**
 * The fake at `api_base_url`: its root and an SDK axios instance (SDK retry off) whose LWA is there
 * too, for a generated API class's `new XApi(undefined, root, axios)`; `createAxiosInstance` knows
 * only Amazon's regional hosts.
 */
export const localSpApi = (apiBaseUrl: string, credentials: AmazonCredentials, region: SellingPartnerRegion, rateLimits: RateLimit[]): { root: string; axios: SpApiAxios } => {
  const root = apiBaseUrl.replace(/\/+$/, '');
  const auth = new LocalLwaAuth(`${root}/auth/o2/token`, credentials);
  const { axios } = createAxiosInstance({ auth, region, rateLimiting: { retry: false } }, rateLimits);
  return { root, axios };
};

/** The real endpoint by region, or the fake at `api_base_url` with LWA there too. */
export const listingsClient = (connection: AmazonConnection, credentials: AmazonCredentials, options: ListingsClientOptions = {}): ListingsClient => {
  const region = options.region ?? regionOf(options.marketplaceIds?.[0] ?? 'ATVPDKIKX0DER');
  if (!connection.api_base_url) return new ListingsItemsApiClient({ auth: amazonAuth(credentials), region, rateLimiting: { retry: false } });
  const { root, axios } = localSpApi(connection.api_base_url, credentials, region, clientRateLimits);
  return new ListingsItemsApi(undefined, root, axios);
};

// ---------------------------------------------------------------------------------------------
// Outcomes

const issueSchema = z.object({ code: z.string(), message: z.string(), severity: z.string(), attributeNames: z.array(z.string()).optional() }).loose();
export type ListingIssue = z.output<typeof issueSchema>;

const submission = z.object({ sku: z.string(), status: z.enum(['ACCEPTED', 'INVALID', 'VALID']), submissionId: z.string(), issues: z.array(issueSchema).optional() }).loose();
const errorList = z.object({ errors: z.array(z.object({ code: z.string(), message: z.string() }).loose()) }).loose();
const failedCall = z.object({
  response: z.object({
    status: z.number(),
    headers: z.object({ 'x-amzn-ratelimit-limit': z.unknown().optional(), 'x-amzn-requestid': z.unknown().optional() }).loose(),
    data: z.unknown(),
  }),
});

export interface AmazonFailure {
  status: 'throttled' | 'error';
  message: string;
  httpStatus?: number;
  /** From `x-amzn-RateLimit-Limit` on a 429, when Amazon sends it (requests per second). */
  rateLimit?: number;
}

/** An SDK or network error as an outcome: the status and Amazon's error codes, never the request. */
export const failureOf = (error: unknown): AmazonFailure => {
  const decoded = failedCall.safeParse(error);
  if (!decoded.success) return { status: 'error', message: 'SP-API request failed: no response' };
  const { status, headers, data } = decoded.data.response;
  const codes = errorList.safeParse(data);
  const detail = codes.success ? codes.data.errors.map((e) => e.code).join(', ') : '';
  const message = `SP-API HTTP ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 429) {
    const limit = Number(headers['x-amzn-ratelimit-limit']);
    return { status: 'throttled', message, httpStatus: status, ...(Number.isFinite(limit) && headers['x-amzn-ratelimit-limit'] !== undefined ? { rateLimit: limit } : {}) };
  }
  return { status: 'error', message, httpStatus: status };
};

export interface PatchAvailabilityInput {
  sellerId: string;
  sku: string;
  marketplaceIds: string[];
  productType: string;
  quantity: number;
}
export type PatchAvailabilityOutcome =
  /** ACCEPTED (queued; read back with getAvailability) or VALID. */
  | { status: 'accepted'; submissionId: string; issues: ListingIssue[] }
  | { status: 'invalid'; submissionId: string; issues: ListingIssue[] }
  | AmazonFailure;

/** `patchListingsItem`: a merge patch on /attributes/fulfillment_availability (channel DEFAULT), which keeps lead time and restock date. */
export const patchAvailability = async (client: ListingsClient, input: PatchAvailabilityInput): Promise<PatchAvailabilityOutcome> => {
  let data: unknown;
  try {
    ({ data } = await client.patchListingsItem({
      sellerId: input.sellerId,
      sku: input.sku,
      marketplaceIds: input.marketplaceIds,
      body: {
        productType: input.productType,
        patches: [{ op: 'merge', path: '/attributes/fulfillment_availability', value: [{ fulfillment_channel_code: 'DEFAULT', quantity: input.quantity }] }],
      },
    }));
  } catch (error) {
    return failureOf(error);
  }
  const decoded = submission.safeParse(data);
  if (!decoded.success) return { status: 'error', message: 'unexpected patchListingsItem response' };
  const { status, submissionId, issues = [] } = decoded.data;
  return status === 'INVALID' ? { status: 'invalid', submissionId, issues } : { status: 'accepted', submissionId, issues };
};

export interface GetAvailabilityInput {
  sellerId: string;
  sku: string;
  marketplaceIds: string[];
}
export type GetAvailabilityOutcome =
  /** `quantity` of the DEFAULT (merchant-fulfilled) channel; null when the listing has none. */
  | { status: 'found'; quantity: number | null }
  | { status: 'not_found' }
  | AmazonFailure;

const itemSchema = z.object({
  sku: z.string(),
  fulfillmentAvailability: z.array(z.object({ fulfillmentChannelCode: z.string(), quantity: z.number().int().optional() }).loose()).optional(),
}).loose();

/** `getListingsItem` with includedData fulfillmentAvailability. */
export const getAvailability = async (client: ListingsClient, input: GetAvailabilityInput): Promise<GetAvailabilityOutcome> => {
  let data: unknown;
  try {
    ({ data } = await client.getListingsItem({ sellerId: input.sellerId, sku: input.sku, marketplaceIds: input.marketplaceIds, includedData: ['fulfillmentAvailability'] }));
  } catch (error) {
    const failure = failureOf(error);
    return failure.httpStatus === 404 ? { status: 'not_found' } : failure;
  }
  const decoded = itemSchema.safeParse(data);
  if (!decoded.success) return { status: 'error', message: 'unexpected getListingsItem response' };
  const entry = decoded.data.fulfillmentAvailability?.find((f) => f.fulfillmentChannelCode === 'DEFAULT');
  return { status: 'found', quantity: entry?.quantity ?? null };
};
