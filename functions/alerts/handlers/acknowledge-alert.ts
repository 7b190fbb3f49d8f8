import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { acknowledgeAlert } from '../alerts';

export const handler = httpHandler(httpRoutes.acknowledgeAlert, ({ params }, ctx) => acknowledgeAlert({ db: dbFromEnv(), ctx }, params.alert_id));
