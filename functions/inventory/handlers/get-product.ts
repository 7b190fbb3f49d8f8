import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { readProduct } from '../catalog';

export const handler = httpHandler(httpRoutes.getProduct, ({ params }, ctx) => readProduct({ db: dbFromEnv(), ctx }, params.product_id));
