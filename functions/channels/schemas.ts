import * as z from 'zod';
import { MAX_QUANTITY } from '../inventory/schemas';
import { idSchema } from '../platform/ids';
import { CONFLICT_RULES, DEFAULT_SHOPIFY_API_VERSION, PLATFORMS } from './model';

/**
 * Request and response schemas of sales channel connections. Credentials appear in request
 * bodies only: no response schema has a place for a token or secret.
 */
export const MAX_CHANNEL_WAREHOUSES = 50;
export const MAX_MARKETPLACES = 20;

/** A credential value: opaque text, never echoed (validation messages name the field only). */
const secretText = z.string().min(1).max(4096);
const amazonId = z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'must be 1-64 letters or digits');

const shopDomain = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com$/, 'must be the shop\'s myshopify.com host, e.g. "example.myshopify.com" (lower case)');
const apiVersion = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be an Admin API version YYYY-MM, e.g. "2026-04"');

export const shopifyCredentials = z.strictObject({
  shop_domain: shopDomain,
  access_token: secretText,
  webhook_secret: secretText,
  api_version: apiVersion.default(DEFAULT_SHOPIFY_API_VERSION),
});

export const amazonCredentials = z.strictObject({
  seller_id: amazonId,
  marketplace_ids: z
    .array(amazonId)
    .min(1)
    .max(MAX_MARKETPLACES)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a marketplace'),
  lwa_client_id: secretText,
  lwa_client_secret: secretText,
  refresh_token: secretText,
});

const warehouseIds = z
  .array(idSchema)
  .min(1)
  .max(MAX_CHANNEL_WAREHOUSES)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a warehouse')
  .describe('The warehouses whose stock the channel sells: it is offered the sum of their available, less the buffer');
const buffer = z
  .number()
  .int('must be a whole number')
  .min(0)
  .max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`)
  .describe('Units held back: the channel is offered available - buffer, floored at 0');
const conflictRule = z.enum(CONFLICT_RULES).describe('What reconciliation does with a difference: push ours, take the channel\'s, or only report it');
const apiBaseUrl = z
  .string()
  .max(2048)
  .describe('Local runtime and tests only: the root the platform client calls instead of the platform\'s host; refused outside local mode and off loopback');

const createCommon = {
  channel_id: idSchema.optional(),
  warehouse_ids: warehouseIds,
  buffer: buffer.default(0),
  conflict_rule: conflictRule.default('ours_wins'),
  api_base_url: apiBaseUrl.optional(),
};

export const createChannelBody = z.discriminatedUnion('platform', [
  z.strictObject({ platform: z.literal('shopify'), ...createCommon, credentials: shopifyCredentials }),
  z.strictObject({ platform: z.literal('amazon'), ...createCommon, credentials: amazonCredentials }),
]);
export type CreateChannelInput = z.output<typeof createChannelBody>;

export const patchChannelBody = z
  .strictObject({
    warehouse_ids: warehouseIds.optional(),
    buffer: buffer.optional(),
    conflict_rule: conflictRule.optional(),
    api_base_url: apiBaseUrl.nullable().optional().describe('As on create; null removes it'),
    credentials: z
      .union([shopifyCredentials, amazonCredentials])
      .optional()
      .describe('The whole credential set of the connection\'s platform, replacing the stored one (the platform cannot change)'),
  })
  .refine((value) => Object.keys(value).length > 0, 'give at least one field to change');
export type PatchChannelInput = z.output<typeof patchChannelBody>;

export const channelParams = z.strictObject({ channel_id: idSchema });
export const listChannelsQuery = z.strictObject({ cursor: z.string().max(2048).optional(), limit: z.coerce.number().int().min(1).max(200).optional() });

const shopifyAccount = z.strictObject({ shop_domain: z.string(), api_version: z.string() });
const amazonAccount = z.strictObject({ seller_id: z.string(), marketplace_ids: z.array(z.string()) });

export const channelResponse = z.strictObject({
  channel_id: z.string(),
  platform: z.enum(PLATFORMS),
  warehouse_ids: z.array(z.string()),
  buffer: z.number().int(),
  conflict_rule: z.enum(CONFLICT_RULES),
  api_base_url: z.string().optional(),
  account: z.union([shopifyAccount, amazonAccount]).describe('The credential fields that identify the account (never a token or secret)'),
  credentials: z
    .strictObject({
      stored: z.literal(true),
      fields: z.array(z.string()).describe('The names of the credential fields stored; their values are never returned'),
      updated_at: z.string(),
    })
    .describe('Write-only: what is stored, never the values'),
  version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const channelListResponse = z.strictObject({ channels: z.array(channelResponse), next_cursor: z.string().nullable() });

// ---------------------------------------------------------------------------------------------
// The listing map (issue 11, scope item 2): which channel item each SKU is, per connection.

export const LISTING_STATUSES = ['mapped', 'unmapped', 'ambiguous'] as const;
export const LISTING_SOURCES = ['discovered', 'manual'] as const;
/** SKUs one discovery looks up: named in `sku_ids`, or the tenant's first this many by id. */
export const MAX_DISCOVER_SKUS = 200;

const shopifyGid = (kind: 'InventoryItem' | 'Location') =>
  z
    .string()
    .max(128)
    .regex(new RegExp(`^gid://shopify/${kind}/[1-9][0-9]{0,19}$`), `must be a Shopify global id gid://shopify/${kind}/<number>`);
/** Amazon's seller SKU: 1-40 characters, no leading or trailing space. */
const sellerSku = z
  .string()
  .min(1)
  .max(40)
  .regex(/^\S(.*\S)?$/, 'must not start or end with a space')
  .describe('The seller SKU on Amazon; default: our sku_id');
/** An Amazon product type as the Product Type Definitions API names it, e.g. "LUGGAGE". */
const productType = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,99}$/, 'must be an Amazon product type in upper case, e.g. "LUGGAGE" or "PRODUCT"')
  .describe('The Amazon product type of the listing (required: there is no discovery for it)');

export const shopifyListingBody = z.strictObject({
  inventory_item_id: shopifyGid('InventoryItem'),
  location_id: shopifyGid('Location').describe('The location whose available quantity the channel is pushed'),
});
export const amazonListingBody = z.strictObject({ seller_sku: sellerSku.optional(), product_type: productType });
export const putListingBody = z
  .union([shopifyListingBody, amazonListingBody])
  .describe('Shopify: inventory_item_id and location_id; Amazon: product_type and optionally seller_sku. Must be the channel\'s platform\'s shape');
export type PutListingInput = z.output<typeof putListingBody>;

export const listingParams = z.strictObject({ channel_id: idSchema, sku_id: idSchema });
export const listListingsQuery = listChannelsQuery;

export const discoverListingsBody = z.strictObject({
  sku_ids: z
    .array(idSchema)
    .min(1)
    .max(MAX_DISCOVER_SKUS)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a SKU')
    .optional()
    .describe(`The SKUs to look up; without it the tenant's first ${MAX_DISCOVER_SKUS} SKUs by id (truncated says whether there are more)`),
});
export type DiscoverListingsInput = z.output<typeof discoverListingsBody>;

export const listingResponse = z.strictObject({
  channel_id: z.string(),
  sku_id: z.string(),
  platform: z.enum(PLATFORMS),
  status: z.enum(LISTING_STATUSES).describe('mapped: pushes have a target; unmapped: none found; ambiguous: several candidates, not guessed'),
  source: z.enum(LISTING_SOURCES).describe('manual mappings are never overwritten by discovery'),
  inventory_item_id: z.string().nullable().optional().describe('Shopify'),
  location_id: z.string().nullable().optional().describe('Shopify'),
  candidate_inventory_item_ids: z.array(z.string()).optional().describe('Shopify, ambiguous: the inventory items of the variants with this exact SKU'),
  candidate_location_ids: z.array(z.string()).optional().describe('Shopify, ambiguous: the locations the variant is stocked at (set location_id by hand)'),
  seller_sku: z.string().optional().describe('Amazon'),
  product_type: z.string().optional().describe('Amazon'),
  detail: z.string().optional().describe('Why the status is what it is, when not mapped'),
  last_pushed_quantity: z.number().int().nullable().describe('The quantity last pushed to the channel; null until a push happened'),
  last_pushed_at: z.string().nullable().optional().describe('When the last push landed'),
  last_seen_quantity: z.number().int().nullable().optional().describe("The channel's quantity as a push or reconciliation last saw it (Shopify's compare-and-swap basis)"),
  last_push_error: z.string().nullable().optional().describe('Why the last push failed, until one succeeds'),
  updated_at: z.string(),
  version: z.number().int(),
});

export const listingListResponse = z.strictObject({
  channel_id: z.string(),
  platform: z.enum(PLATFORMS),
  listings: z.array(listingResponse).describe('The stored mappings of this page\'s SKUs, whatever their status'),
  unmapped_sku_ids: z.array(z.string()).describe('SKUs of this page with no mapping, or an unmapped one'),
  ambiguous_sku_ids: z.array(z.string()).describe('SKUs of this page whose mapping is ambiguous (several candidates; not guessed)'),
  next_cursor: z.string().nullable().describe('Pages over the tenant\'s SKUs'),
});

export const DISCOVERY_OUTCOMES = ['mapped', 'unmapped', 'ambiguous', 'kept_manual', 'throttled', 'error', 'skipped'] as const;
export const discoverListingsResponse = z.strictObject({
  channel_id: z.string(),
  truncated: z.boolean().describe(`true when the tenant has more than ${MAX_DISCOVER_SKUS} SKUs and sku_ids was not given: name the rest in sku_ids`),
  stopped: z.string().nullable().describe('Why discovery stopped early (throttled, unreachable, credentials refused, time), or null'),
  results: z.array(
    z.strictObject({
      sku_id: z.string(),
      outcome: z.enum(DISCOVERY_OUTCOMES).describe('kept_manual: a manual mapping was left alone; throttled/error: the platform\'s answer, nothing stored; skipped: not attempted after an early stop'),
      detail: z.string().optional(),
      listing: listingResponse.optional(),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------
// Shopify webhooks (issue 11, scope item 4): POST /api/integration/shopify/webhooks. The payloads are
// Shopify's REST shapes, read only after the signature verified (functions/channels/webhooks.ts);
// loose, since Shopify sends many more fields than these and adds new ones without notice.

/** Shopify's numeric ids (REST): well inside a JS number's exact range. */
const shopifyNumericId = z.number().int().positive();

export const shopifyOrderLine = z.looseObject({
  id: shopifyNumericId,
  variant_id: shopifyNumericId.nullable().optional(),
  sku: z.string().nullable().optional().describe('The variant\'s SKU: our sku_id, when that SKU is mapped on the connection'),
  quantity: z.number().int().min(0),
  fulfillable_quantity: z.number().int().min(0).optional().describe('What is left to ship of the line (the quantity less what was removed or fulfilled)'),
  requires_shipping: z.boolean().optional(),
});

export const shopifyOrderPayload = z.looseObject({
  id: shopifyNumericId,
  name: z.string().optional(),
  cancelled_at: z.string().nullable().optional(),
  line_items: z.array(shopifyOrderLine),
  shipping_address: z
    .looseObject({
      country_code: z.string().nullable().optional(),
      zip: z.string().nullable().optional(),
      // Not bounded here: coordinates out of range leave ship_to out, they do not make the order unreadable.
      latitude: z.number().nullable().optional(),
      longitude: z.number().nullable().optional(),
    })
    .nullable()
    .optional(),
});
export type ShopifyOrderPayload = z.output<typeof shopifyOrderPayload>;

export const shopifyInventoryLevelPayload = z.looseObject({
  inventory_item_id: shopifyNumericId,
  location_id: shopifyNumericId,
  available: z.number().int().nullable().describe('null when Shopify does not track the item\'s quantity'),
  updated_at: z.string(),
});
export type ShopifyInventoryLevelPayload = z.output<typeof shopifyInventoryLevelPayload>;

/** The topics acted on; any other is answered 200 and recorded as ignored. */
export const SHOPIFY_WEBHOOK_TOPICS = ['orders/create', 'orders/cancelled', 'inventory_levels/update'] as const;

/** The headers Shopify sends with every webhook (documented in OpenAPI; the function reads them itself). */
export const shopifyWebhookHeaders = z.object({
  'X-Shopify-Hmac-Sha256': z.string().describe('base64 HMAC-SHA256 of the raw body, keyed with the connection\'s webhook_secret; a missing or wrong one is 401 and nothing is written'),
  'X-Shopify-Shop-Domain': z.string().describe('The shop\'s myshopify.com host: which connection (and tenant) the webhook is for; a shop connected to none is 401 like a bad signature'),
  'X-Shopify-Topic': z.string().describe(`${SHOPIFY_WEBHOOK_TOPICS.join(', ')} are acted on; any other is answered 200 and ignored`),
  'X-Shopify-Webhook-Id': z.string().describe('The delivery, the same on every retry: a delivery already handled is answered 200 at once and does nothing'),
  'X-Shopify-Event-Id': z.string().optional().describe('The event; the same event delivered again under a new webhook id does nothing again either'),
  'X-Shopify-API-Version': z.string().optional(),
  'X-Shopify-Triggered-At': z.string().optional(),
});

export const shopifyWebhookBody = z
  .union([shopifyOrderPayload, shopifyInventoryLevelPayload, z.record(z.string(), z.unknown())])
  .describe('The topic\'s REST payload: an order (orders/create, orders/cancelled), an inventory level (inventory_levels/update), or any other topic\'s (ignored)');

export const WEBHOOK_OUTCOMES = ['processed', 'duplicate', 'ignored', 'invalid'] as const;
export const shopifyWebhookResponse = z.strictObject({
  topic: z.string(),
  webhook_id: z.string(),
  outcome: z
    .enum(WEBHOOK_OUTCOMES)
    .describe('processed: acted on (an order allocated, cancelled or recorded as failed, a quantity recorded); duplicate: this delivery or event was handled before; ignored: nothing to do; invalid: a payload that is not the topic\'s shape (recorded, not retried)'),
  detail: z.string().optional(),
});
