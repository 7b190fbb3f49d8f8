import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { createProduct } from '../catalog';

export const handler = httpHandler(httpRoutes.createProduct, ({ body }, ctx) => createProduct({ db: dbFromEnv(), ctx }, body));
