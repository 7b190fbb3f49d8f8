import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listSkus } from '../catalog';

export const handler = httpHandler(httpRoutes.listSkus, ({ query }, ctx) => listSkus({ db: dbFromEnv(), ctx }, query));
