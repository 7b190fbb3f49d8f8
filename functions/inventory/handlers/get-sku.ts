import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { readSku } from '../catalog';

export const handler = httpHandler(inventoryRoutes.getSku, ({ params }, ctx) => readSku({ db: dbFromEnv(), ctx }, params.sku_id));
