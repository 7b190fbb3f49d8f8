import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { stockOverview } from '../overview';

export const handler = httpHandler(httpRoutes.stockOverviewReport, ({ query }, ctx) => stockOverview({ db: dbFromEnv(), ctx }, query));
