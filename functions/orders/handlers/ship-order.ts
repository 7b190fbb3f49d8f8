import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { orderRoutes } from '../routes';
import { shipOrder } from '../orders';

export const handler = httpHandler(orderRoutes.shipOrder, ({ params, body }, ctx) => shipOrder({ db: dbFromEnv(), ctx }, params.order_id, body));
