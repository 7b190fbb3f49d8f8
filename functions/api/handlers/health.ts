import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ownDbFromEnv } from '../../platform/db';
import { AppError, errorBody, errorHeaders } from '../../platform/errors';
import type { HttpResult } from '../../platform/http';
import { checkHealth } from '../health';

/** GET /api/health (functions/wiring.ts healthRoute): no authorizer runs before it, and it reads no claims. */
export const handler = async (_event: APIGatewayProxyEventV2): Promise<HttpResult> => {
  const db = ownDbFromEnv();
  const health = await checkHealth(db.client, db.table);
  if (!health.healthy) {
    const error = new AppError('UNAVAILABLE', 'the API cannot serve right now: the database does not answer; retry after the Retry-After seconds');
    return { statusCode: error.status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...errorHeaders(error) }, body: JSON.stringify(errorBody(error)) };
  }
  return { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify({ status: 'ok', version: health.version, uptime_seconds: health.uptime_seconds }) };
};
