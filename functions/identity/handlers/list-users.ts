import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { userRoutes } from '../routes';
import { listUsers } from '../users';

export const handler = httpHandler(userRoutes.listUsers, ({ query }, ctx) => listUsers({ db: dbFromEnv(), ctx }, query));
