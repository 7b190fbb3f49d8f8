import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listWarehouses } from '../catalog';

export const handler = httpHandler(httpRoutes.listWarehouses, ({ query }, ctx) => listWarehouses({ db: dbFromEnv(), ctx }, query));
