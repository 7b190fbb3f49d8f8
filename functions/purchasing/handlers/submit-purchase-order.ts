import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { purchasingRoutes } from '../routes';
import { submitPurchaseOrder } from '../purchasing';

export const handler = httpHandler(purchasingRoutes.submitPurchaseOrder, ({ params }, ctx) => submitPurchaseOrder({ db: dbFromEnv(), ctx }, params.purchase_order_id));
