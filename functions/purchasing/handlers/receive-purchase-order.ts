import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { purchasingRoutes } from '../routes';
import { receivePurchaseOrder } from '../purchasing';

export const handler = httpHandler(purchasingRoutes.receivePurchaseOrder, ({ params, body }, ctx) => receivePurchaseOrder({ db: dbFromEnv(), ctx }, params.purchase_order_id, body));
