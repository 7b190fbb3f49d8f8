import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { purchasingRoutes } from '../routes';
import { createPurchaseOrder } from '../purchasing';

export const handler = httpHandler(purchasingRoutes.createPurchaseOrder, ({ body }, ctx) => createPurchaseOrder({ db: dbFromEnv(), ctx }, body));
