import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { purchasingRoutes } from '../routes';
import { readSupplier } from '../purchasing';

export const handler = httpHandler(purchasingRoutes.getSupplier, ({ params }, ctx) => readSupplier({ db: dbFromEnv(), ctx }, params.supplier_id));
