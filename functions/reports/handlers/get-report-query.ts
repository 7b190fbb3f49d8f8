import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { lakeFromEnv } from '../../platform/lake';
import { httpRoutes } from '../../wiring';
import { reportQuery } from '../reports';

export const handler = httpHandler(httpRoutes.getReportQuery, ({ params }, ctx) => reportQuery({ db: dbFromEnv(), ctx, lake: lakeFromEnv() }, params.query_id));
