import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { replenishmentRoutes } from '../routes';
import { proposeReorderPoints } from '../reorder-points';

export const handler = httpHandler(replenishmentRoutes.listReorderPoints, ({ query }, ctx) => proposeReorderPoints({ db: dbFromEnv(), ctx }, query));
