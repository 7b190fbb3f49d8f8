import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { applyReorderPoints } from '../reorder-points';

export const handler = httpHandler(httpRoutes.applyReorderPoints, ({ body }, ctx) => applyReorderPoints({ db: dbFromEnv(), ctx }, body));
