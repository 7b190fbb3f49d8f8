import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listListings } from '../listings';

export const handler = httpHandler(httpRoutes.listListings, ({ params, query }, ctx) => listListings({ db: dbFromEnv(), ctx }, params.channel_id, query));
