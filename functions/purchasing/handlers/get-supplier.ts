import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { readSupplier } from '../purchasing';

export const handler = httpHandler(httpRoutes.getSupplier, ({ params }, ctx) => readSupplier({ db: dbFromEnv(), ctx }, params.supplier_id));
