import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { purchasingRoutes } from '../routes';
import { readPurchaseOrder } from '../purchasing';

export const handler = httpHandler(purchasingRoutes.getPurchaseOrder, ({ params }, ctx) => readPurchaseOrder({ db: dbFromEnv(), ctx }, params.purchase_order_id));
