import { clientRateLimits, OrdersApi, OrdersApiClient } from '@sp-api-sdk/orders-api-2026-01-01';
import * as z from 'zod';
import { amazonAuth, failureOf, localSpApi, regionOf, type AmazonConnection, type AmazonCredentials, type AmazonFailure } from './client';

/**
 * The SP-API Orders client of a connection (issue 11, scope item 4), on @sp-api-sdk's Orders API
 * v2026-01-01: `searchOrders` (GET /orders/2026-01-01/orders). The v0 `getOrders` (LastUpdatedAfter,
 * NextToken) is deprecated and goes by 27 March 2027, so it is not used. Like the listings client:
 * SDK retry off (it would sleep 1/0.0056 + 1.5 s, three minutes, inside the Lambda), the fake
 * reached at `api_base_url`, and every failure a typed outcome naming a status, never a credential.
 */
export type OrdersClient = OrdersApi;

/** Amazon's usage plan for searchOrders (the package's clientRateLimits): one request every ~3 minutes, bursts of 20. */
export const SEARCH_ORDERS_RATE = 0.0056;
export const SEARCH_ORDERS_BURST = 20;
/** Amazon answers at most 100 orders a page. */
export const MAX_ORDERS_PER_PAGE = 100;
/** A request that hangs must not hang the schedule: axios has no timeout of its own. */
const REQUEST_TIMEOUT_MS = 20_000;

export const ordersClient = (connection: AmazonConnection, credentials: AmazonCredentials, marketplaceIds: readonly string[]): OrdersClient => {
  // A seller account lives in one region; its first marketplace names it.
  const region = regionOf(marketplaceIds[0] ?? 'ATVPDKIKX0DER');
  if (!connection.api_base_url) return new OrdersApiClient({ auth: amazonAuth(credentials), region, rateLimiting: { retry: false } });
  const { root, axios } = localSpApi(connection.api_base_url, credentials, region, clientRateLimits);
  return new OrdersApi(undefined, root, axios);
};

// ---------------------------------------------------------------------------------------------
// Outcomes

/** One order item as the poll needs it: what was ordered, under which seller SKU (null when Amazon names none). */
export interface AmazonOrderItem {
  orderItemId: string;
  quantityOrdered: number;
  sellerSku: string | null;
}

export interface AmazonOrder {
  orderId: string;
  lastUpdatedTime: string;
  /** PENDING, UNSHIPPED, PARTIALLY_SHIPPED, SHIPPED, CANCELLED, ...; null when Amazon sent no fulfillment block. */
  fulfillmentStatus: string | null;
  items: AmazonOrderItem[];
  /** Items Amazon sent that could not be read: the order is not allocated with a part missing. */
  unreadableItems: number;
}

// The fields the poll reads, in the names of the package's Order and OrderItem types; everything else passes.
const orderItemSchema = z.object({
  orderItemId: z.string(),
  quantityOrdered: z.number().int().min(0),
  product: z.object({ sellerSku: z.string().optional() }).loose(),
}).loose();
const orderSchema = z.object({
  orderId: z.string().min(1),
  lastUpdatedTime: z.string(),
  fulfillment: z.object({ fulfillmentStatus: z.string() }).loose().optional(),
  orderItems: z.array(z.unknown()),
}).loose();
const responseSchema = z.object({
  orders: z.array(z.unknown()),
  pagination: z.object({ nextToken: z.string().min(1).optional() }).loose().optional(),
}).loose();

export interface SearchOrdersInput {
  /** Inclusive bounds on lastUpdatedTime; `lastUpdatedBefore` at least two minutes before now (Amazon refuses it otherwise). */
  lastUpdatedAfter: string;
  lastUpdatedBefore: string;
  marketplaceIds: readonly string[];
  maxResultsPerPage: number;
  /** The previous page's nextToken; the other parameters must be the ones that page was asked with. */
  paginationToken?: string | undefined;
}

export type SearchOrdersOutcome =
  | {
      status: 'page';
      orders: AmazonOrder[];
      /** Orders Amazon sent that could not be read at all (no order id): counted, logged, never guessed at. */
      unreadable: number;
      nextToken: string | null;
      /** From `x-amzn-RateLimit-Limit`, when sent: the seller's real rate, which may be higher than the default. */
      rateLimit?: number;
    }
  | AmazonFailure;

const rateLimitOf = (headers: unknown): number | undefined => {
  const parsed = z.object({ 'x-amzn-ratelimit-limit': z.coerce.number().positive().optional().catch(undefined) }).loose().safeParse(headers);
  return parsed.success ? parsed.data['x-amzn-ratelimit-limit'] : undefined;
};

const orderOf = (raw: unknown): AmazonOrder | undefined => {
  const decoded = orderSchema.safeParse(raw);
  if (!decoded.success) return undefined;
  const items: AmazonOrderItem[] = [];
  let unreadableItems = 0;
  for (const rawItem of decoded.data.orderItems) {
    const item = orderItemSchema.safeParse(rawItem);
    if (item.success) items.push({ orderItemId: item.data.orderItemId, quantityOrdered: item.data.quantityOrdered, sellerSku: item.data.product.sellerSku ?? null });
    else unreadableItems += 1;
  }
  const { orderId, lastUpdatedTime, fulfillment } = decoded.data;
  return { orderId, lastUpdatedTime, fulfillmentStatus: fulfillment?.fulfillmentStatus ?? null, items, unreadableItems };
};

/**
 * One page of the merchant-fulfilled orders updated in [lastUpdatedAfter, lastUpdatedBefore].
 * FBA orders (fulfilledBy AMAZON) are left out: they ship from Amazon's stock, not our warehouses.
 * includedData FULFILLMENT, because without it Amazon sends no fulfillment status; items always come.
 */
export const searchOrders = async (client: OrdersClient, input: SearchOrdersInput): Promise<SearchOrdersOutcome> => {
  let data: unknown;
  let headers: unknown;
  try {
    ({ data, headers } = await client.searchOrders(
      {
        lastUpdatedAfter: input.lastUpdatedAfter,
        lastUpdatedBefore: input.lastUpdatedBefore,
        marketplaceIds: [...input.marketplaceIds],
        fulfilledBy: ['MERCHANT'],
        maxResultsPerPage: input.maxResultsPerPage,
        includedData: ['FULFILLMENT'],
        ...(input.paginationToken === undefined ? {} : { paginationToken: input.paginationToken }),
      },
      { timeout: REQUEST_TIMEOUT_MS },
    ));
  } catch (error) {
    return failureOf(error);
  }
  const decoded = responseSchema.safeParse(data);
  if (!decoded.success) return { status: 'error', message: 'unexpected searchOrders response' };
  const orders: AmazonOrder[] = [];
  let unreadable = 0;
  for (const raw of decoded.data.orders) {
    const order = orderOf(raw);
    if (order) orders.push(order);
    else unreadable += 1;
  }
  const rateLimit = rateLimitOf(headers);
  return { status: 'page', orders, unreadable, nextToken: decoded.data.pagination?.nextToken ?? null, ...(rateLimit === undefined ? {} : { rateLimit }) };
};
