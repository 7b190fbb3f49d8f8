import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { notificationRoutes } from '../routes';
import { listOutbox } from '../outbox';

export const handler = httpHandler(notificationRoutes.listNotifications, ({ query }, ctx) => listOutbox({ db: dbFromEnv(), ctx }, query));
