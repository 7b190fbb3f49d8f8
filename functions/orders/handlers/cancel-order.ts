import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { cancelOrder } from '../orders';

export const handler = httpHandler(httpRoutes.cancelOrder, ({ params }, ctx) => cancelOrder({ db: dbFromEnv(), ctx }, params.order_id));
