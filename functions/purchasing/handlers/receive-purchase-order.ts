import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { receivePurchaseOrder } from '../purchasing';

export const handler = httpHandler(httpRoutes.receivePurchaseOrder, ({ params, body }, ctx) => receivePurchaseOrder({ db: dbFromEnv(), ctx }, params.purchase_order_id, body));
