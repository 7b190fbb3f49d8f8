import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { forecastingRoutes } from '../routes';
import { importDemandHistory } from '../imports';

export const handler = httpHandler(forecastingRoutes.importDemandHistory, ({ body }, ctx) => importDemandHistory({ db: dbFromEnv(), ctx, objects: lakeObjectsFromEnv() }, body));
