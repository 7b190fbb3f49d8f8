import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { bulkUpdate } from '../stock';

export const handler = httpHandler(httpRoutes.bulkUpdateStock, ({ body }, ctx) => bulkUpdate({ db: dbFromEnv(), ctx }, body));
