import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listAlerts } from '../alerts';

export const handler = httpHandler(httpRoutes.listAlerts, ({ query }, ctx) => listAlerts({ db: dbFromEnv(), ctx }, query));
