import { dbFromEnv } from '../../platform/db';
import { webhookHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { receiveShopifyWebhook } from '../webhooks';

export const handler = webhookHandler(channelRoutes.shopifyWebhook, (request) => receiveShopifyWebhook({ db: dbFromEnv(), tenantDb: dbFromEnv }, request));
