import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { patchWarehouse } from '../catalog';

export const handler = httpHandler(httpRoutes.patchWarehouse, ({ params, body }, ctx) => patchWarehouse({ db: dbFromEnv(), ctx }, params.warehouse_id, body));
