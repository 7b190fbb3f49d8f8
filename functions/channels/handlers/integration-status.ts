import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { integrationStatus } from '../status';

export const handler = httpHandler(channelRoutes.integrationStatus, (_request, ctx) => integrationStatus({ db: dbFromEnv(), ctx }));
