import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { listLevels } from '../stock';

export const handler = httpHandler(inventoryRoutes.listLevels, ({ query }, ctx) => listLevels({ db: dbFromEnv(), ctx }, query));
