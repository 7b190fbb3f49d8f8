import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { reportRoutes } from '../routes';
import { stockOverview } from '../overview';

export const handler = httpHandler(reportRoutes.stockOverviewReport, ({ query }, ctx) => stockOverview({ db: dbFromEnv(), ctx }, query));
