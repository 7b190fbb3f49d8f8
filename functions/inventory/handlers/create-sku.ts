import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { createSku } from '../catalog';

export const handler = httpHandler(inventoryRoutes.createSku, ({ body }, ctx) => createSku({ db: dbFromEnv(), ctx }, body));
