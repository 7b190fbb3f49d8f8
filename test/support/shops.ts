import { ulid } from 'ulid';

/**
 * A Shopify shop domain no other connection holds: a shop belongs to one connection across all
 * tenants (functions/channels/store.ts shopClaim), and the registrations are not tenant-prefixed,
 * so tests that connect a shop each need their own (every test file shares one DynamoDB Local).
 * `label` (a few lower-case letters) only makes a failing test's output easier to read.
 */
export const newShopDomain = (label = 'shop'): string => `${label}-${ulid().toLowerCase()}.myshopify.com`;
