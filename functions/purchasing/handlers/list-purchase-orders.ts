import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { purchasingRoutes } from '../routes';
import { listPurchaseOrders } from '../purchasing';

export const handler = httpHandler(purchasingRoutes.listPurchaseOrders, ({ query }, ctx) => listPurchaseOrders({ db: dbFromEnv(), ctx }, query));
