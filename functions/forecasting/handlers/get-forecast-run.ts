import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { forecastingRoutes } from '../routes';
import { getRun } from '../run';

export const handler = httpHandler(forecastingRoutes.getForecastRun, ({ params }, ctx) => getRun({ db: dbFromEnv(), ctx }, params.run_id));
