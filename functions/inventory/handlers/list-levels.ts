import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listLevels } from '../stock';

export const handler = httpHandler(httpRoutes.listLevels, ({ query }, ctx) => listLevels({ db: dbFromEnv(), ctx }, query));
