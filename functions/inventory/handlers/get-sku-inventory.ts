import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { getSkuInventory } from '../stock';

export const handler = httpHandler(inventoryRoutes.getSkuInventory, ({ params }, ctx) => getSkuInventory({ db: dbFromEnv(), ctx }, params.sku_id));
