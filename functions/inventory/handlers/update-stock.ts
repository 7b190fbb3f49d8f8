import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { updateStock } from '../stock';

export const handler = httpHandler(inventoryRoutes.updateStock, ({ body }, ctx) => updateStock({ db: dbFromEnv(), ctx }, body));
