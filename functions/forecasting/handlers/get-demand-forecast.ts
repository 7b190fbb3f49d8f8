import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { forecastingRoutes } from '../routes';
import { getDemandForecast } from '../forecast';

export const handler = httpHandler(forecastingRoutes.demandForecast, ({ query }, ctx) => getDemandForecast({ db: dbFromEnv(), ctx }, query));
