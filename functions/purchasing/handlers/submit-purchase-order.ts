import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { submitPurchaseOrder } from '../purchasing';

export const handler = httpHandler(httpRoutes.submitPurchaseOrder, ({ params }, ctx) => submitPurchaseOrder({ db: dbFromEnv(), ctx }, params.purchase_order_id));
