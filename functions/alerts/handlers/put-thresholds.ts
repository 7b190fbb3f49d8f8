import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { putThresholds } from '../thresholds';

export const handler = httpHandler(httpRoutes.putThresholds, ({ body }, ctx) => putThresholds({ db: dbFromEnv(), ctx }, body));
