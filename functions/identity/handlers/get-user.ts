import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { userRoutes } from '../routes';
import { readUser } from '../users';

export const handler = httpHandler(userRoutes.getUser, ({ params }, ctx) => readUser({ db: dbFromEnv(), ctx }, params.user_id));
