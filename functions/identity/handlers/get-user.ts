import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { readUser } from '../users';

export const handler = httpHandler(httpRoutes.getUser, ({ params }, ctx) => readUser({ db: dbFromEnv(), ctx }, params.user_id));
