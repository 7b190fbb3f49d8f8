import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { bulkUpdate } from '../stock';

export const handler = httpHandler(inventoryRoutes.bulkUpdateStock, ({ body }, ctx) => bulkUpdate({ db: dbFromEnv(), ctx }, body));
