import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { createProduct } from '../catalog';

export const handler = httpHandler(inventoryRoutes.createProduct, ({ body }, ctx) => createProduct({ db: dbFromEnv(), ctx }, body));
