import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { orderRoutes } from '../routes';
import { previewPlan } from '../orders';

export const handler = httpHandler(orderRoutes.planOrder, ({ body }, ctx) => previewPlan({ db: dbFromEnv(), ctx }, body));
