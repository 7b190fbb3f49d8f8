import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { deleteChannel } from '../connections';

export const handler = httpHandler(httpRoutes.deleteChannel, ({ params }, ctx) => deleteChannel({ db: dbFromEnv(), ctx }, params.channel_id));
