/**
 * Sales channel connections (issue 11, step 1): a tenant's Shopify store or Amazon seller
 * account, which warehouses' stock it sells, and how reconciliation settles a difference.
 * The credentials are stored apart (functions/platform/secrets.ts) and never come back.
 */
export const PLATFORMS = ['shopify', 'amazon'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** What reconciliation does when the channel's quantity differs from ours (a later step applies it). */
export const CONFLICT_RULES = ['ours_wins', 'channel_wins', 'report_only'] as const;
export type ConflictRule = (typeof CONFLICT_RULES)[number];

/** Every credential field of each platform, in the order they are listed in `credentials.fields`. */
export const CREDENTIAL_FIELDS = {
  shopify: ['shop_domain', 'access_token', 'webhook_secret', 'api_version'],
  amazon: ['seller_id', 'marketplace_ids', 'lwa_client_id', 'lwa_client_secret', 'refresh_token'],
} as const satisfies Record<Platform, readonly string[]>;

/**
 * The credential fields that identify the account rather than unlock it, shown in answers as
 * `account`: a Shopify shop's myshopify.com host and the Admin API version; an Amazon seller
 * (merchant token) id and its marketplaces, which Amazon shows on the storefront. Tokens, secrets
 * and the LWA client id (half of the app's OAuth client pair) are never shown.
 */
export const ACCOUNT_FIELDS = {
  shopify: ['shop_domain', 'api_version'],
  amazon: ['seller_id', 'marketplace_ids'],
} as const satisfies Record<Platform, readonly string[]>;

/** The Admin API version a Shopify connection uses unless it names one. */
export const DEFAULT_SHOPIFY_API_VERSION = '2026-04';
