import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { getRun } from '../run';

export const handler = httpHandler(httpRoutes.getForecastRun, ({ params }, ctx) => getRun({ db: dbFromEnv(), ctx }, params.run_id));
