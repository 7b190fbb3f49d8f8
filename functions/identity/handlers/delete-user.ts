import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { deleteUser } from '../users';

export const handler = httpHandler(httpRoutes.deleteUser, ({ params }, ctx) => deleteUser({ db: dbFromEnv(), ctx }, params.user_id));
