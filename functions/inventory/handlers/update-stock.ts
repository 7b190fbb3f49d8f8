import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { updateStock } from '../stock';

export const handler = httpHandler(httpRoutes.updateStock, ({ body }, ctx) => updateStock({ db: dbFromEnv(), ctx }, body));
