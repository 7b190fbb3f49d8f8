import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { proposeReorderPoints } from '../reorder-points';

export const handler = httpHandler(httpRoutes.listReorderPoints, ({ query }, ctx) => proposeReorderPoints({ db: dbFromEnv(), ctx }, query));
