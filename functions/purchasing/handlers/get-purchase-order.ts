import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { readPurchaseOrder } from '../purchasing';

export const handler = httpHandler(httpRoutes.getPurchaseOrder, ({ params }, ctx) => readPurchaseOrder({ db: dbFromEnv(), ctx }, params.purchase_order_id));
