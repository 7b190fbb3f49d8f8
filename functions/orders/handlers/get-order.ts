import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { orderRoutes } from '../routes';
import { readOrder } from '../orders';

export const handler = httpHandler(orderRoutes.getOrder, ({ params }, ctx) => readOrder({ db: dbFromEnv(), ctx }, params.order_id));
