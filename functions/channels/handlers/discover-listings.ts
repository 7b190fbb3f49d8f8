import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { discoverListings } from '../listings';

export const handler = httpHandler(httpRoutes.discoverListings, ({ params, body }, ctx) => discoverListings({ db: dbFromEnv(), ctx }, params.channel_id, body));
