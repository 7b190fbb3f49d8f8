import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { patchChannel } from '../connections';

export const handler = httpHandler(httpRoutes.patchChannel, ({ params, body }, ctx) => patchChannel({ db: dbFromEnv(), ctx }, params.channel_id, body));
