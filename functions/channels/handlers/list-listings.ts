import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { listListings } from '../listings';

export const handler = httpHandler(channelRoutes.listListings, ({ params, query }, ctx) => listListings({ db: dbFromEnv(), ctx }, params.channel_id, query));
