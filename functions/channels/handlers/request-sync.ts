import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { requestSync } from '../reconcile';

export const handler = httpHandler(httpRoutes.requestSync, ({ body }, ctx) => requestSync({ db: dbFromEnv(), ctx }, body));
