import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { patchUser } from '../users';

export const handler = httpHandler(httpRoutes.patchUser, ({ params, body }, ctx) => patchUser({ db: dbFromEnv(), ctx }, params.user_id, body));
