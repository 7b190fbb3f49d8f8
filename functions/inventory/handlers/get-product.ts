import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { inventoryRoutes } from '../routes';
import { readProduct } from '../catalog';

export const handler = httpHandler(inventoryRoutes.getProduct, ({ params }, ctx) => readProduct({ db: dbFromEnv(), ctx }, params.product_id));
