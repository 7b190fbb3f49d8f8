import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { patchWarehouse } from '../catalog';

export const handler = httpHandler(inventoryRoutes.patchWarehouse, ({ params, body }, ctx) => patchWarehouse({ db: dbFromEnv(), ctx }, params.warehouse_id, body));
