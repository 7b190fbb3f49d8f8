import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listOrders } from '../orders';

export const handler = httpHandler(httpRoutes.listOrders, ({ query }, ctx) => listOrders({ db: dbFromEnv(), ctx }, query));
