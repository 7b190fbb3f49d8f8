import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { orderRoutes } from '../routes';
import { allocateOrder } from '../orders';

export const handler = httpHandler(orderRoutes.allocateOrder, ({ body }, ctx) => allocateOrder({ db: dbFromEnv(), ctx }, body));
