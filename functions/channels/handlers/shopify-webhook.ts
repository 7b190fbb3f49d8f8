import { dbFromEnv } from '../../platform/db';
import { webhookHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { receiveShopifyWebhook } from '../webhooks';

export const handler = webhookHandler(httpRoutes.shopifyWebhook, (request) => receiveShopifyWebhook({ db: dbFromEnv(), tenantDb: dbFromEnv }, request));
