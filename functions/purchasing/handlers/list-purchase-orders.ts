import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listPurchaseOrders } from '../purchasing';

export const handler = httpHandler(httpRoutes.listPurchaseOrders, ({ query }, ctx) => listPurchaseOrders({ db: dbFromEnv(), ctx }, query));
