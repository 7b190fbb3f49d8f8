import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { purchasingRoutes } from '../routes';
import { cancelPurchaseOrder } from '../purchasing';

export const handler = httpHandler(purchasingRoutes.cancelPurchaseOrder, ({ params }, ctx) => cancelPurchaseOrder({ db: dbFromEnv(), ctx }, params.purchase_order_id));
