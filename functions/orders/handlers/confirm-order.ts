import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { confirmOrder } from '../orders';

export const handler = httpHandler(httpRoutes.confirmOrder, ({ params }, ctx) => confirmOrder({ db: dbFromEnv(), ctx }, params.order_id));
