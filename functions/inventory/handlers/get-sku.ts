import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { readSku } from '../catalog';

export const handler = httpHandler(httpRoutes.getSku, ({ params }, ctx) => readSku({ db: dbFromEnv(), ctx }, params.sku_id));
