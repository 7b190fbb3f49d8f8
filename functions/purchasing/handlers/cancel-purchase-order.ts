import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { cancelPurchaseOrder } from '../purchasing';

export const handler = httpHandler(httpRoutes.cancelPurchaseOrder, ({ params }, ctx) => cancelPurchaseOrder({ db: dbFromEnv(), ctx }, params.purchase_order_id));
