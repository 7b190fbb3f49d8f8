import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { userRoutes } from '../routes';
import { createUser } from '../users';

export const handler = httpHandler(userRoutes.createUser, ({ body }, ctx) => createUser({ db: dbFromEnv(), ctx }, body));
