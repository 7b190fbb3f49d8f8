import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { httpRoutes } from '../../wiring';
import { importDemandHistory } from '../imports';

export const handler = httpHandler(httpRoutes.importDemandHistory, ({ body }, ctx) => importDemandHistory({ db: dbFromEnv(), ctx, objects: lakeObjectsFromEnv() }, body));
