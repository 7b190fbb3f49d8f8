import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { createChannel } from '../connections';

export const handler = httpHandler(httpRoutes.createChannel, ({ body }, ctx) => createChannel({ db: dbFromEnv(), ctx }, body));
