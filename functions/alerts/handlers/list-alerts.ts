import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { alertRoutes } from '../routes';
import { listAlerts } from '../alerts';

export const handler = httpHandler(alertRoutes.listAlerts, ({ query }, ctx) => listAlerts({ db: dbFromEnv(), ctx }, query));
