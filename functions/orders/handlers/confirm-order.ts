import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { orderRoutes } from '../routes';
import { confirmOrder } from '../orders';

export const handler = httpHandler(orderRoutes.confirmOrder, ({ params }, ctx) => confirmOrder({ db: dbFromEnv(), ctx }, params.order_id));
