import * as channels from './schemas';
import * as integration from './integration-schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';
import { SIGNED_BY_PLATFORM } from '../platform/permissions';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const channelRoutes = declareRoutes({
  createChannel: {
    method: 'POST', path: '/api/channels', entry: handlerEntry('channels', 'create-channel'),
    permission: 'channels:write', table: 'write', channelSecrets: 'write',
    summary: 'Connect a Shopify store or Amazon seller account: the warehouses whose stock it sells, a buffer, the conflict rule and the credentials (stored apart, write-only: never returned)',
    body: channels.createChannelBody, response: channels.channelResponse, status: 201, errors: [404, 409],
  },
  listChannels: {
    method: 'GET', path: '/api/channels', entry: handlerEntry('channels', 'list-channels'),
    permission: 'channels:read', table: 'read', summary: 'Sales channel connections of this tenant (which credentials are stored, never their values)',
    query: channels.listChannelsQuery, response: channels.channelListResponse,
  },
  getChannel: {
    method: 'GET', path: '/api/channels/{channel_id}', entry: handlerEntry('channels', 'get-channel'),
    permission: 'channels:read', table: 'read', summary: 'A sales channel connection (which credentials are stored, never their values)',
    params: channels.channelParams, response: channels.channelResponse,
  },
  patchChannel: {
    method: 'PATCH', path: '/api/channels/{channel_id}', entry: handlerEntry('channels', 'patch-channel'),
    permission: 'channels:write', table: 'write', channelSecrets: 'write',
    summary: 'Change a connection\'s warehouses, buffer, conflict rule or api_base_url, or replace its credentials whole (its platform cannot change)',
    params: channels.channelParams, body: channels.patchChannelBody, response: channels.channelResponse, errors: [404, 409],
  },
  deleteChannel: {
    method: 'DELETE', path: '/api/channels/{channel_id}', entry: handlerEntry('channels', 'delete-channel'),
    permission: 'channels:write', table: 'write', channelSecrets: 'write',
    summary: 'Remove a connection and its stored credentials',
    params: channels.channelParams, response: channels.channelResponse,
  },
  listListings: {
    method: 'GET', path: '/api/channels/{channel_id}/listings', entry: handlerEntry('channels', 'list-listings'),
    permission: 'channels:read', table: 'read',
    summary: "The listing map of a channel, paged over the tenant's SKUs: each mapping with its status and last pushed quantity, and the SKUs unmapped or ambiguous",
    params: channels.channelParams, query: channels.listListingsQuery, response: channels.listingListResponse,
  },
  putListing: {
    method: 'PUT', path: '/api/channels/{channel_id}/listings/{sku_id}', entry: handlerEntry('channels', 'put-listing'),
    permission: 'channels:write', table: 'write',
    summary: "Map a SKU by hand (Shopify inventory item and location; Amazon seller SKU and product type); discovery never overwrites it",
    params: channels.listingParams, body: channels.putListingBody, response: channels.listingResponse, errors: [409],
  },
  discoverListings: {
    method: 'POST', path: '/api/channels/{channel_id}/listings/discover', entry: handlerEntry('channels', 'discover-listings'),
    permission: 'channels:write', table: 'write', channelSecrets: 'read',
    summary: "Shopify only: look SKUs up by exact SKU and store mapped, unmapped or ambiguous (never over a manual mapping); the platform's failures are per SKU",
    params: channels.channelParams, body: channels.discoverListingsBody, response: channels.discoverListingsResponse, errors: [409],
  },
  // --- issue 11: shopify webhooks route ---
  shopifyWebhook: {
    method: 'POST', path: '/api/integration/shopify/webhooks', entry: handlerEntry('channels', 'shopify-webhook'),
    auth: 'webhook', permission: SIGNED_BY_PLATFORM, table: 'write', channelSecrets: 'read',
    summary: "Shopify's webhooks (no token: the X-Shopify-Hmac-Sha256 signature of the raw body, with the shop's connection's webhook_secret): orders/create allocates the order once, orders/cancelled releases it, inventory_levels/update records the quantity Shopify reports; each delivery once",
    headers: channels.shopifyWebhookHeaders, body: channels.shopifyWebhookBody, response: channels.shopifyWebhookResponse,
  },
  // --- issue 11: sync and status routes ---
  requestSync: {
    method: 'POST', path: '/api/integration/sync', entry: handlerEntry('channels', 'request-sync'),
    permission: 'channel-sync:write', table: 'write', status: 202,
    summary: "Reconcile now: a run per connection named (channel_id) or of a platform (platform_name), optionally only some SKUs; each compares what the channel shows with what we publish and applies the connection's conflict rule. Answers 202 with the runs, to follow at /api/channels/{channel_id}/reconciliations/{reconciliation_id}",
    body: integration.syncBody, response: integration.syncResponse, errors: [404],
  },
  getReconciliation: {
    method: 'GET', path: '/api/channels/{channel_id}/reconciliations/{reconciliation_id}', entry: handlerEntry('channels', 'get-reconciliation'),
    permission: 'channels:read', table: 'read',
    summary: 'A reconciliation run: its state and counts, and a page of its findings (per SKU that differed or could not be checked: ours, the channel\'s, the difference, the probable cause and what was done)',
    params: integration.reconciliationParams, query: integration.reconciliationQuery, response: integration.reconciliationWithFindings,
  },
  integrationStatus: {
    method: 'GET', path: '/api/integration/status', entry: handlerEntry('channels', 'integration-status'),
    permission: 'channels:read', table: 'read',
    summary: 'How each sales channel connection\'s sync stands: last push and its lag, pushes failed, listings awaiting a push, inbound orders that failed, the order poll\'s checkpoint, and the last reconciliation with its drift',
    response: integration.integrationStatusResponse,
  },
} as const satisfies Record<string, HttpRoute>);
