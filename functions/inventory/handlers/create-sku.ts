import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { createSku } from '../catalog';

export const handler = httpHandler(httpRoutes.createSku, ({ body }, ctx) => createSku({ db: dbFromEnv(), ctx }, body));
