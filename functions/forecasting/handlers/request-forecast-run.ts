import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { forecastingRoutes } from '../routes';
import { requestRun } from '../run';

export const handler = httpHandler(forecastingRoutes.requestForecastRun, (_request, ctx) => requestRun({ db: dbFromEnv(), ctx }, { trigger: 'api' }));
