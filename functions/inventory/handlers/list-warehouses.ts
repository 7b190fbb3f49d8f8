import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { listWarehouses } from '../catalog';

export const handler = httpHandler(inventoryRoutes.listWarehouses, ({ query }, ctx) => listWarehouses({ db: dbFromEnv(), ctx }, query));
