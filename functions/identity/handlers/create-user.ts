import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { createUser } from '../users';

export const handler = httpHandler(httpRoutes.createUser, ({ body }, ctx) => createUser({ db: dbFromEnv(), ctx }, body));
