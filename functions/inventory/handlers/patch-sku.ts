import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { patchSku } from '../catalog';

export const handler = httpHandler(inventoryRoutes.patchSku, ({ params, body }, ctx) => patchSku({ db: dbFromEnv(), ctx }, params.sku_id, body));
