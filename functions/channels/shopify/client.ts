import { createAdminApiClient, type AdminApiClient } from '@shopify/admin-api-client';
import * as z from 'zod';
import type { shopifyCredentials } from '../schemas';

/**
 * The Shopify Admin GraphQL client of a connection (issue 11, scope item 6), on the platform's own
 * @shopify/admin-api-client. Nothing calls it yet: the listing map, the push worker and
 * reconciliation will. Every answer is decoded with zod into a typed outcome; the cost extension
 * (`extensions.cost`, with `throttleStatus`) comes back in every outcome so a caller can pace.
 */
export type ShopifyCredentials = Pick<z.output<typeof shopifyCredentials>, 'shop_domain' | 'access_token' | 'api_version'>;
export interface ShopifyConnection {
  /** Local only, loopback only (checked when the connection was written): the root called instead of the shop. */
  api_base_url?: string | undefined;
}

/**
 * `retries: 0`: the client's own retries cover 429/503 only, read Retry-After seconds as
 * milliseconds and ignore a THROTTLED in a 200; callers pace by the cost extension instead.
 * The client forces https on the store URL, so a plain-http fake is reached by rewriting each
 * request in `customFetchApi` to `{api_base_url}/admin/api/{version}/graphql.json`.
 */
export const shopifyClient = (connection: ShopifyConnection, credentials: ShopifyCredentials): AdminApiClient => {
  const base = connection.api_base_url ? new URL(connection.api_base_url) : undefined;
  const root = base ? base.origin + base.pathname.replace(/\/+$/, '') : undefined;
  return createAdminApiClient({
    storeDomain: credentials.shop_domain,
    apiVersion: credentials.api_version,
    accessToken: credentials.access_token,
    retries: 0,
    logger: () => {},
    ...(root ? { customFetchApi: (url: string, init?: RequestInit) => fetch(root + new URL(url).pathname, init) } : {}),
  });
};

const throttleStatus = z.object({ maximumAvailable: z.number(), currentlyAvailable: z.number(), restoreRate: z.number() });
const costSchema = z.object({
  requestedQueryCost: z.number(),
  actualQueryCost: z.number().nullable().optional(),
  throttleStatus,
});
export type ShopifyCost = z.output<typeof costSchema>;
export type ThrottleStatus = z.output<typeof throttleStatus>;

const extensionsSchema = z.object({ cost: costSchema.optional() }).loose();
const graphQLErrors = z.array(z.object({ message: z.string(), extensions: z.object({ code: z.string().optional() }).loose().optional() }).loose());
const clientErrors = z.object({ networkStatusCode: z.number().optional(), message: z.string().optional(), graphQLErrors: graphQLErrors.optional() }).loose();

/** The parts of a client response every operation reads, decoded (the client types `data` as any). */
interface Envelope {
  data: unknown;
  cost: ShopifyCost | undefined;
  errors: z.output<typeof clientErrors> | undefined;
}
const envelope = (response: { data?: unknown; extensions?: unknown; errors?: unknown }): Envelope => {
  const extensions = extensionsSchema.safeParse(response.extensions ?? {});
  const errors = response.errors === undefined ? undefined : clientErrors.safeParse(response.errors);
  return {
    data: response.data,
    cost: extensions.success ? extensions.data.cost : undefined,
    errors: errors === undefined ? undefined : errors.success ? errors.data : { message: 'unreadable error' },
  };
};

/** A failure the caller retries or reports: never carries the request (and so never a token). */
export interface ShopifyFailure {
  status: 'throttled' | 'error';
  message: string;
  httpStatus?: number;
  cost?: ShopifyCost | undefined;
  throttleStatus?: ThrottleStatus | undefined;
}
const failureOf = ({ errors, cost }: Envelope, fallback: string): ShopifyFailure => {
  const codes = (errors?.graphQLErrors ?? []).map((e) => e.extensions?.code);
  const httpStatus = errors?.networkStatusCode;
  if (codes.includes('THROTTLED') || httpStatus === 429) {
    return { status: 'throttled', message: 'Throttled', cost, throttleStatus: cost?.throttleStatus, ...(httpStatus ? { httpStatus } : {}) };
  }
  const detail = errors?.graphQLErrors?.map((e) => e.message).join('; ') || errors?.message || fallback;
  return { status: 'error', message: detail, cost, ...(httpStatus ? { httpStatus } : {}) };
};

// ---------------------------------------------------------------------------------------------
// SKU lookup

export const FIND_VARIANTS_BY_SKU = `query FindVariantsBySku($query: String!) {
  productVariants(first: 2, query: $query) {
    nodes {
      id
      sku
      inventoryItem {
        id
        inventoryLevels(first: 50) { nodes { location { id } quantities(names: ["available"]) { name quantity } } }
      }
    }
  }
}`;

const variantsData = z.object({
  productVariants: z.object({
    nodes: z.array(
      z.object({
        id: z.string(),
        sku: z.string().nullable(),
        inventoryItem: z.object({
          id: z.string(),
          inventoryLevels: z.object({
            nodes: z.array(
              z.object({ location: z.object({ id: z.string() }), quantities: z.array(z.object({ name: z.string().optional(), quantity: z.number().int() })) }),
            ),
          }),
        }),
      }),
    ),
  }),
});

export interface ShopifyVariant {
  variantId: string;
  inventoryItemId: string;
  /** `available` per location id. */
  levels: { locationId: string; available: number }[];
}
export type FindVariantsOutcome =
  | { status: 'mapped'; variant: ShopifyVariant; cost: ShopifyCost | undefined }
  | { status: 'unmapped'; cost: ShopifyCost | undefined }
  | { status: 'ambiguous'; variants: ShopifyVariant[]; cost: ShopifyCost | undefined }
  | ShopifyFailure;

/** Shopify's search syntax: a quoted value with backslashes and quotes escaped. */
const skuQuery = (sku: string): string => `sku:"${sku.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The variants whose SKU is exactly `sku` (the search matches loosely, so matches are filtered
 * by `===`): none is unmapped, one mapped, more ambiguous (reported, never guessed).
 */
export const findVariantsBySku = async (client: AdminApiClient, sku: string): Promise<FindVariantsOutcome> => {
  const env = envelope(await client.request(FIND_VARIANTS_BY_SKU, { variables: { query: skuQuery(sku) } }));
  if (env.errors) return failureOf(env, 'productVariants failed');
  const decoded = variantsData.safeParse(env.data);
  if (!decoded.success) return { status: 'error', message: 'unexpected productVariants response', cost: env.cost };
  const variants = decoded.data.productVariants.nodes
    .filter((node) => node.sku === sku)
    .map((node) => ({
      variantId: node.id,
      inventoryItemId: node.inventoryItem.id,
      levels: node.inventoryItem.inventoryLevels.nodes.map((level) => ({
        locationId: level.location.id,
        available: level.quantities.find((q) => q.name === undefined || q.name === 'available')?.quantity ?? 0,
      })),
    }));
  const [first] = variants;
  if (!first) return { status: 'unmapped', cost: env.cost };
  if (variants.length > 1) return { status: 'ambiguous', variants, cost: env.cost };
  return { status: 'mapped', variant: first, cost: env.cost };
};

// ---------------------------------------------------------------------------------------------
// Setting a quantity

/** GraphQL directives take no variables, so the key is written into the document (quoted as JSON). */
export const setQuantitiesDocument = (idempotencyKey: string): string => `mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: ${JSON.stringify(idempotencyKey)}) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}`;

const setData = z.object({
  inventorySetQuantities: z.object({
    inventoryAdjustmentGroup: z
      .object({ id: z.string(), changes: z.array(z.object({ name: z.string(), delta: z.number().int(), quantityAfterChange: z.number().int().nullable().optional() })) })
      .nullable(),
    userErrors: z.array(z.object({ code: z.string().nullable().optional(), field: z.array(z.string()).nullable().optional(), message: z.string() })),
  }),
});

export interface SetAvailableInput {
  inventoryItemId: string;
  locationId: string;
  quantity: number;
  /** What we last saw there (compare-and-swap); null opts out, as 2026-04 allows. */
  changeFromQuantity: number | null;
  /** Same key and input answers the first result; a new decision needs a new key. */
  idempotencyKey: string;
  reason: string;
  referenceDocumentUri: string;
}
export interface ShopifyUserError {
  code: string | null;
  field: string[] | null;
  message: string;
}
export type SetAvailableOutcome =
  | { status: 'applied'; adjustmentGroupId: string | null; delta: number; cost: ShopifyCost | undefined }
  /** CHANGE_FROM_QUANTITY_STALE: the quantity there was not `changeFromQuantity`; nothing changed. */
  | { status: 'stale'; userErrors: ShopifyUserError[]; cost: ShopifyCost | undefined }
  | (ShopifyFailure & { userErrors?: ShopifyUserError[] });

/** `inventorySetQuantities` with name "available", compare-and-swap and `@idempotent`. */
export const setAvailable = (client: AdminApiClient, input: SetAvailableInput): Promise<SetAvailableOutcome> =>
  setAvailableMany(client, { ...input, quantities: [input] });

/** One quantity of a multi-quantity set. */
export type SetQuantity = Pick<SetAvailableInput, 'inventoryItemId' | 'locationId' | 'quantity' | 'changeFromQuantity'>;

/** At most this many quantities per mutation (Shopify takes up to 250; a smaller batch keeps a stale one's redo small). */
export const MAX_SET_QUANTITIES = 50;

/**
 * Several quantities in one `inventorySetQuantities` (one request's cost for all of them). All or
 * nothing: a CHANGE_FROM_QUANTITY_STALE of any one applies none (`stale`, its index in the
 * userError's `field`), and the caller decides those again.
 */
export const setAvailableMany = async (
  client: AdminApiClient,
  input: Omit<SetAvailableInput, 'inventoryItemId' | 'locationId' | 'quantity' | 'changeFromQuantity'> & { quantities: readonly SetQuantity[] },
): Promise<SetAvailableOutcome> => {
  const variables = {
    input: {
      name: 'available',
      reason: input.reason,
      referenceDocumentUri: input.referenceDocumentUri,
      quantities: input.quantities.map((q) => ({ inventoryItemId: q.inventoryItemId, locationId: q.locationId, quantity: q.quantity, changeFromQuantity: q.changeFromQuantity })),
    },
  };
  const env = envelope(await client.request(setQuantitiesDocument(input.idempotencyKey), { variables }));
  if (env.errors) return failureOf(env, 'inventorySetQuantities failed');
  const decoded = setData.safeParse(env.data);
  if (!decoded.success) return { status: 'error', message: 'unexpected inventorySetQuantities response', cost: env.cost };
  const { inventoryAdjustmentGroup: group, userErrors: raw } = decoded.data.inventorySetQuantities;
  const userErrors = raw.map((e) => ({ code: e.code ?? null, field: e.field ?? null, message: e.message }));
  if (userErrors.some((e) => e.code === 'CHANGE_FROM_QUANTITY_STALE')) return { status: 'stale', userErrors, cost: env.cost };
  if (userErrors.length > 0) return { status: 'error', message: userErrors.map((e) => e.code ?? e.message).join(', '), userErrors, cost: env.cost };
  const delta = group?.changes.filter((c) => c.name === 'available').reduce((sum, c) => sum + c.delta, 0) ?? 0;
  return { status: 'applied', adjustmentGroupId: group?.id ?? null, delta, cost: env.cost };
};

// ---------------------------------------------------------------------------------------------
// Reading a quantity

export const READ_AVAILABLE = `query ReadAvailable($id: ID!, $locationId: ID!) {
  inventoryItem(id: $id) {
    id
    inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
  }
}`;

const readData = z.object({
  inventoryItem: z
    .object({
      id: z.string(),
      inventoryLevel: z.object({ quantities: z.array(z.object({ name: z.string().optional(), quantity: z.number().int() })) }).nullable(),
    })
    .nullable(),
});

export type ReadAvailableOutcome =
  | { status: 'found'; quantity: number; cost: ShopifyCost | undefined }
  /** The item, or its level at that location, does not exist on the shop. */
  | { status: 'not_found'; cost: ShopifyCost | undefined }
  | ShopifyFailure;

/** The `available` quantity of an inventory item at a location: what a push compares and swaps from. */
export const readAvailable = async (client: AdminApiClient, inventoryItemId: string, locationId: string): Promise<ReadAvailableOutcome> => {
  const env = envelope(await client.request(READ_AVAILABLE, { variables: { id: inventoryItemId, locationId } }));
  if (env.errors) return failureOf(env, 'inventoryItem failed');
  const decoded = readData.safeParse(env.data);
  if (!decoded.success) return { status: 'error', message: 'unexpected inventoryItem response', cost: env.cost };
  const level = decoded.data.inventoryItem?.inventoryLevel;
  const quantity = level?.quantities.find((q) => q.name === undefined || q.name === 'available')?.quantity;
  return quantity === undefined ? { status: 'not_found', cost: env.cost } : { status: 'found', quantity, cost: env.cost };
};
