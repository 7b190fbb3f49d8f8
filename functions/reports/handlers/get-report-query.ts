import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { lakeFromEnv } from '../../platform/lake';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { reportRoutes } from '../routes';
import { reportQuery } from '../reports';

export const handler = httpHandler(reportRoutes.getReportQuery, ({ params }, ctx) => reportQuery({ db: dbFromEnv(), ctx, lake: lakeFromEnv(), objects: lakeObjectsFromEnv() }, params.query_id));
