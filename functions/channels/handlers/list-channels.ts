import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listChannels } from '../connections';

export const handler = httpHandler(httpRoutes.listChannels, ({ query }, ctx) => listChannels({ db: dbFromEnv(), ctx }, query));
