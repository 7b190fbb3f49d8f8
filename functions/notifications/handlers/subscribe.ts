import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { subscribe } from '../subscriptions';

export const handler = httpHandler(httpRoutes.subscribeAlerts, ({ body }, ctx) => subscribe({ db: dbFromEnv(), ctx }, body));
