import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { purchasingRoutes } from '../routes';
import { listSuppliers } from '../purchasing';

export const handler = httpHandler(purchasingRoutes.listSuppliers, ({ query }, ctx) => listSuppliers({ db: dbFromEnv(), ctx }, query));
