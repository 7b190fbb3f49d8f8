import { listSkus } from '../../functions/inventory/catalog';
import { createChannel, patchChannel } from '../../functions/channels/connections';
import { putListing } from '../../functions/channels/listings';
import type { CreateChannelInput } from '../../functions/channels/schemas';
import { openSession, publishable, pushQuantity } from '../../functions/channels/publish';
import { decodeChannel } from '../../functions/channels/store';
import type { RequestContext } from '../../functions/platform/context';
import { dbFromEnv } from '../../functions/platform/db';
import { keys } from '../../functions/platform/keys';
import { getItem } from '../../functions/platform/storage';
import { locationGid, ShopifyAdminFake } from '../../test/fakes/shopify-admin';
import { SpApiFake } from '../../test/fakes/sp-api';

/**
 * `npm start -- --seed` connects the demo tenant to a local Shopify Admin fake and a local SP-API
 * fake (test/fakes, on loopback ports), so a newcomer sees sync working: the first DEMO_SKUS SKUs are
 * mapped on both, pushed once now, and from then on every stock change of the US warehouses reaches
 * both fakes through the real push path. The fakes keep their state in memory, so each start makes
 * them again (same ids, in the same order), points the connections at their new ports and pushes
 * everything once more.
 */
export const DEMO_SKUS = 20;

/** The demo's connections: the US warehouses on both channels, a buffer of 2, and the fakes' own (throwaway) credentials. */
const connectionsOfDemo = () =>
  ({
    shopify: {
      platform: 'shopify',
      channel_id: 'demo-shopify',
      warehouse_ids: ['wh-newark', 'wh-dallas', 'wh-reno'],
      buffer: 2,
      conflict_rule: 'ours_wins',
      credentials: { shop_domain: 'stockroom-demo.myshopify.com', access_token: 'shpat_local_demo', webhook_secret: 'whsec_local_demo', api_version: '2026-04' },
    },
    amazon: {
      platform: 'amazon',
      channel_id: 'demo-amazon',
      warehouse_ids: ['wh-newark', 'wh-dallas', 'wh-reno'],
      buffer: 2,
      conflict_rule: 'report_only',
      credentials: {
        seller_id: 'A1DEMOSELLER',
        marketplace_ids: ['ATVPDKIKX0DER'],
        lwa_client_id: 'amzn1.application-oa2-client.localdemo',
        lwa_client_secret: 'lwa_local_demo',
        refresh_token: 'Atzr|local_demo',
      },
    },
  }) as const satisfies Record<string, CreateChannelInput>;

export interface DemoChannels {
  shopify: ShopifyAdminFake;
  amazon: SpApiFake;
  skus: number;
  pushed: number;
  stop: () => Promise<void>;
}

export const seedDemoChannels = async (tenantId: string): Promise<DemoChannels> => {
  const demo = connectionsOfDemo();
  const shopify = await ShopifyAdminFake.start(demo.shopify.credentials.access_token);
  const amazon = await SpApiFake.start({ clientId: demo.amazon.credentials.lwa_client_id, clientSecret: demo.amazon.credentials.lwa_client_secret, refreshToken: demo.amazon.credentials.refresh_token });
  const db = dbFromEnv();
  const ctx: RequestContext = { caller: { kind: 'user', tenantId, role: 'admin', subject: 'seed' }, requestId: 'seed-channels', now: () => new Date() };
  const deps = { db, ctx, local: true };
  for (const [spec, fake] of [
    [demo.shopify, shopify],
    [demo.amazon, amazon],
  ] as const) {
    const existing = await getItem(db, keys.channel(tenantId, spec.channel_id), decodeChannel);
    if (existing) await patchChannel(deps, spec.channel_id, { api_base_url: fake.url, credentials: spec.credentials });
    else await createChannel(deps, { ...spec, api_base_url: fake.url });
  }
  const { skus } = await listSkus(deps, { limit: DEMO_SKUS });
  for (const { sku_id: skuId } of skus) {
    const variant = shopify.addVariant(skuId, { '1': 0 });
    await putListing(deps, demo.shopify.channel_id, skuId, { inventory_item_id: variant.inventoryItemId, location_id: locationGid('1') });
    amazon.setQuantity(demo.amazon.credentials.seller_id, skuId, 0);
    await putListing(deps, demo.amazon.channel_id, skuId, { product_type: 'PRODUCT' });
  }
  // The fakes start empty: push every mapped SKU once, comparing from the 0 they show.
  let pushed = 0;
  for (const channelId of [demo.shopify.channel_id, demo.amazon.channel_id]) {
    const channel = await getItem(db, keys.channel(tenantId, channelId), decodeChannel);
    const session = channel ? await openSession(deps, channel) : undefined;
    if (!channel || !session) continue;
    for (const { sku_id: skuId } of skus) {
      const { quantity, state } = await publishable(deps, channel, skuId);
      const outcome = await pushQuantity(deps, session, skuId, quantity, { force: true, seen: 0, deadline: Date.now() + 30_000, reference: `stockroom://tenants/${tenantId}/skus/${skuId}?state=${state}` });
      if (outcome.status === 'pushed' || outcome.status === 'unchanged') pushed += 1;
    }
  }
  return {
    shopify,
    amazon,
    skus: skus.length,
    pushed,
    stop: async () => {
      await shopify.stop();
      await amazon.stop();
    },
  };
};
