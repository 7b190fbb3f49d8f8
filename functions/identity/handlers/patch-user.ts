import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { userRoutes } from '../routes';
import { patchUser } from '../users';

export const handler = httpHandler(userRoutes.patchUser, ({ params, body }, ctx) => patchUser({ db: dbFromEnv(), ctx }, params.user_id, body));
