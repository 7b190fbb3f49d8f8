import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { notificationRoutes } from '../routes';
import { subscribe } from '../subscriptions';

export const handler = httpHandler(notificationRoutes.subscribeAlerts, ({ body }, ctx) => subscribe({ db: dbFromEnv(), ctx }, body));
