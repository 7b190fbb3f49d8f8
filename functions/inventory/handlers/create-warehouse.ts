import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { createWarehouse } from '../catalog';

export const handler = httpHandler(httpRoutes.createWarehouse, ({ body }, ctx) => createWarehouse({ db: dbFromEnv(), ctx }, body));
