import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { lakeFromEnv } from '../../platform/lake';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { reportRoutes } from '../routes';
import { valuationReport } from '../reports';

export const handler = httpHandler(reportRoutes.valuationReport, ({ query }, ctx) => valuationReport({ db: dbFromEnv(), ctx, lake: lakeFromEnv(), objects: lakeObjectsFromEnv() }, query));
