import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { readChannel } from '../connections';

export const handler = httpHandler(channelRoutes.getChannel, ({ params }, ctx) => readChannel({ db: dbFromEnv(), ctx }, params.channel_id));
