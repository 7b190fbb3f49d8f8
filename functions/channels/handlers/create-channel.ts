import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { createChannel } from '../connections';

export const handler = httpHandler(channelRoutes.createChannel, ({ body }, ctx) => createChannel({ db: dbFromEnv(), ctx }, body));
