import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { transferStock } from '../stock';

export const handler = httpHandler(httpRoutes.transferStock, ({ body }, ctx) => transferStock({ db: dbFromEnv(), ctx }, body));
