import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { getDemandForecast } from '../forecast';

export const handler = httpHandler(httpRoutes.demandForecast, ({ query }, ctx) => getDemandForecast({ db: dbFromEnv(), ctx }, query));
