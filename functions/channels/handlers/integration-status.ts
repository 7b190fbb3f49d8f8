import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { integrationStatus } from '../status';

export const handler = httpHandler(httpRoutes.integrationStatus, (_request, ctx) => integrationStatus({ db: dbFromEnv(), ctx }));
