import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { lakeFromEnv } from '../../platform/lake';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { reportRoutes } from '../routes';
import { salesTrendsReport } from '../reports';

export const handler = httpHandler(reportRoutes.salesTrendsReport, ({ query }, ctx) => salesTrendsReport({ db: dbFromEnv(), ctx, lake: lakeFromEnv(), objects: lakeObjectsFromEnv() }, query));
