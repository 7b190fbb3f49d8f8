import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { putListing } from '../listings';

export const handler = httpHandler(httpRoutes.putListing, ({ params, body }, ctx) => putListing({ db: dbFromEnv(), ctx }, params.channel_id, params.sku_id, body));
