import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { requestRun } from '../run';

export const handler = httpHandler(httpRoutes.requestForecastRun, (_request, ctx) => requestRun({ db: dbFromEnv(), ctx }, { trigger: 'api' }));
