import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { deleteChannel } from '../connections';

export const handler = httpHandler(channelRoutes.deleteChannel, ({ params }, ctx) => deleteChannel({ db: dbFromEnv(), ctx }, params.channel_id));
