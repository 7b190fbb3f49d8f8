import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { previewPlan } from '../orders';

export const handler = httpHandler(httpRoutes.planOrder, ({ body }, ctx) => previewPlan({ db: dbFromEnv(), ctx }, body));
