import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { discoverListings } from '../listings';

export const handler = httpHandler(channelRoutes.discoverListings, ({ params, body }, ctx) => discoverListings({ db: dbFromEnv(), ctx }, params.channel_id, body));
