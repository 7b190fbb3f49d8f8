import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { listChannels } from '../connections';

export const handler = httpHandler(channelRoutes.listChannels, ({ query }, ctx) => listChannels({ db: dbFromEnv(), ctx }, query));
