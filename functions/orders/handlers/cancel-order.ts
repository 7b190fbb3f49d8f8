import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { orderRoutes } from '../routes';
import { cancelOrder } from '../orders';

export const handler = httpHandler(orderRoutes.cancelOrder, ({ params }, ctx) => cancelOrder({ db: dbFromEnv(), ctx }, params.order_id));
