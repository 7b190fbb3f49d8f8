import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { listMovements } from '../stock';

export const handler = httpHandler(inventoryRoutes.listMovements, ({ params, query }, ctx) => listMovements({ db: dbFromEnv(), ctx }, params.sku_id, query));
