import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { shipOrder } from '../orders';

export const handler = httpHandler(httpRoutes.shipOrder, ({ params, body }, ctx) => shipOrder({ db: dbFromEnv(), ctx }, params.order_id, body));
