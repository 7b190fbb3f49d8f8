import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { patchSku } from '../catalog';

export const handler = httpHandler(httpRoutes.patchSku, ({ params, body }, ctx) => patchSku({ db: dbFromEnv(), ctx }, params.sku_id, body));
