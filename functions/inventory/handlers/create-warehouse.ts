import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { createWarehouse } from '../catalog';

export const handler = httpHandler(inventoryRoutes.createWarehouse, ({ body }, ctx) => createWarehouse({ db: dbFromEnv(), ctx }, body));
