import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listSubscriptions } from '../subscriptions';

export const handler = httpHandler(httpRoutes.listAlertSubscriptions, ({ query }, ctx) => listSubscriptions({ db: dbFromEnv(), ctx }, query));
