import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listSuppliers } from '../purchasing';

export const handler = httpHandler(httpRoutes.listSuppliers, ({ query }, ctx) => listSuppliers({ db: dbFromEnv(), ctx }, query));
