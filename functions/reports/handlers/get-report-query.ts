import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { lakeFromEnv } from '../../platform/lake';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { httpRoutes } from '../../wiring';
import { reportQuery } from '../reports';

export const handler = httpHandler(httpRoutes.getReportQuery, ({ params }, ctx) => reportQuery({ db: dbFromEnv(), ctx, lake: lakeFromEnv(), objects: lakeObjectsFromEnv() }, params.query_id));
