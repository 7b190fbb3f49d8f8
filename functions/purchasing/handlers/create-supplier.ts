import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { createSupplier } from '../purchasing';

export const handler = httpHandler(httpRoutes.createSupplier, ({ body }, ctx) => createSupplier({ db: dbFromEnv(), ctx }, body));
