import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { putListing } from '../listings';

export const handler = httpHandler(channelRoutes.putListing, ({ params, body }, ctx) => putListing({ db: dbFromEnv(), ctx }, params.channel_id, params.sku_id, body));
