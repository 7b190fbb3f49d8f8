import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listMovements } from '../stock';

export const handler = httpHandler(httpRoutes.listMovements, ({ params, query }, ctx) => listMovements({ db: dbFromEnv(), ctx }, params.sku_id, query));
