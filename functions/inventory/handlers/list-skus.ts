import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { listSkus } from '../catalog';

export const handler = httpHandler(inventoryRoutes.listSkus, ({ query }, ctx) => listSkus({ db: dbFromEnv(), ctx }, query));
