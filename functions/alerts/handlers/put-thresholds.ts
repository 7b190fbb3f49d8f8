import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { alertRoutes } from '../routes';
import { putThresholds } from '../thresholds';

export const handler = httpHandler(alertRoutes.putThresholds, ({ body }, ctx) => putThresholds({ db: dbFromEnv(), ctx }, body));
