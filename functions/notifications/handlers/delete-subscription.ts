import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { notificationRoutes } from '../routes';
import { deleteSubscription } from '../subscriptions';

export const handler = httpHandler(notificationRoutes.deleteAlertSubscription, ({ params }, ctx) =>
  deleteSubscription({ db: dbFromEnv(), ctx }, params.subscription_id),
);
