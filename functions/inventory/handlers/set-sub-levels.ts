import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { setSubLevels } from '../stock';

export const handler = httpHandler(inventoryRoutes.setSubLevels, ({ body }, ctx) => setSubLevels({ db: dbFromEnv(), ctx }, body));
