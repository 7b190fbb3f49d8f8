import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { getSkuInventory } from '../stock';

export const handler = httpHandler(httpRoutes.getSkuInventory, ({ params }, ctx) => getSkuInventory({ db: dbFromEnv(), ctx }, params.sku_id));
