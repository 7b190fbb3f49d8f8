import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { orderRoutes } from '../routes';
import { listOrders } from '../orders';

export const handler = httpHandler(orderRoutes.listOrders, ({ query }, ctx) => listOrders({ db: dbFromEnv(), ctx }, query));
