import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { deleteSubscription } from '../subscriptions';

export const handler = httpHandler(httpRoutes.deleteAlertSubscription, ({ params }, ctx) =>
  deleteSubscription({ db: dbFromEnv(), ctx }, params.subscription_id),
);
