import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { transferStock } from '../stock';

export const handler = httpHandler(inventoryRoutes.transferStock, ({ body }, ctx) => transferStock({ db: dbFromEnv(), ctx }, body));
