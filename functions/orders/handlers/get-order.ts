import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { readOrder } from '../orders';

export const handler = httpHandler(httpRoutes.getOrder, ({ params }, ctx) => readOrder({ db: dbFromEnv(), ctx }, params.order_id));
