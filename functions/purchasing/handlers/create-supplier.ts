import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { purchasingRoutes } from '../routes';
import { createSupplier } from '../purchasing';

export const handler = httpHandler(purchasingRoutes.createSupplier, ({ body }, ctx) => createSupplier({ db: dbFromEnv(), ctx }, body));
