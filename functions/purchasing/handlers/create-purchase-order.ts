import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { createPurchaseOrder } from '../purchasing';

export const handler = httpHandler(httpRoutes.createPurchaseOrder, ({ body }, ctx) => createPurchaseOrder({ db: dbFromEnv(), ctx }, body));
