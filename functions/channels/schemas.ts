import { z } from 'zod';
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
