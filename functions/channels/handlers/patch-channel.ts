import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { patchChannel } from '../connections';

export const handler = httpHandler(channelRoutes.patchChannel, ({ params, body }, ctx) => patchChannel({ db: dbFromEnv(), ctx }, params.channel_id, body));
