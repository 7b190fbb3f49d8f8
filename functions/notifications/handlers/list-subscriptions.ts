import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { notificationRoutes } from '../routes';
import { listSubscriptions } from '../subscriptions';

export const handler = httpHandler(notificationRoutes.listAlertSubscriptions, ({ query }, ctx) => listSubscriptions({ db: dbFromEnv(), ctx }, query));
