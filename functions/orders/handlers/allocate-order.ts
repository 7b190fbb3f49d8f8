import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { allocateOrder } from '../orders';

export const handler = httpHandler(httpRoutes.allocateOrder, ({ body }, ctx) => allocateOrder({ db: dbFromEnv(), ctx }, body));
