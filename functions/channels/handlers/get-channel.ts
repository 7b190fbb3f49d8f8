import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { readChannel } from '../connections';

export const handler = httpHandler(httpRoutes.getChannel, ({ params }, ctx) => readChannel({ db: dbFromEnv(), ctx }, params.channel_id));
