import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listOutbox } from '../outbox';

export const handler = httpHandler(httpRoutes.listNotifications, ({ query }, ctx) => listOutbox({ db: dbFromEnv(), ctx }, query));
