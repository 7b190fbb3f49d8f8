import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listUsers } from '../users';

export const handler = httpHandler(httpRoutes.listUsers, ({ query }, ctx) => listUsers({ db: dbFromEnv(), ctx }, query));
