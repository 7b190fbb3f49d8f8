import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { replenishmentRoutes } from '../routes';
import { applyReorderPoints } from '../reorder-points';

export const handler = httpHandler(replenishmentRoutes.applyReorderPoints, ({ body }, ctx) => applyReorderPoints({ db: dbFromEnv(), ctx }, body));
