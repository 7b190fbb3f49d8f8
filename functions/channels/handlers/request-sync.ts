import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { requestSync } from '../reconcile';

export const handler = httpHandler(channelRoutes.requestSync, ({ body }, ctx) => requestSync({ db: dbFromEnv(), ctx }, body));
