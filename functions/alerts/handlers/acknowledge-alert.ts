import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { alertRoutes } from '../routes';
import { acknowledgeAlert } from '../alerts';

export const handler = httpHandler(alertRoutes.acknowledgeAlert, ({ params }, ctx) => acknowledgeAlert({ db: dbFromEnv(), ctx }, params.alert_id));
