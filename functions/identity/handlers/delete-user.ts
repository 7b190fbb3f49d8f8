import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { userRoutes } from '../routes';
import { deleteUser } from '../users';

export const handler = httpHandler(userRoutes.deleteUser, ({ params }, ctx) => deleteUser({ db: dbFromEnv(), ctx }, params.user_id));
