import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { lakeFromEnv } from '../../platform/lake';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { reportRoutes } from '../routes';
import { stockMovementReport } from '../reports';

export const handler = httpHandler(reportRoutes.stockMovementReport, ({ query }, ctx) => stockMovementReport({ db: dbFromEnv(), ctx, lake: lakeFromEnv(), objects: lakeObjectsFromEnv() }, query));
