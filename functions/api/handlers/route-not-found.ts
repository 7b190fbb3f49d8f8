import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { errorBody, errorHeaders } from '../../platform/errors';
import type { HttpResult } from '../../platform/http';
import { log } from '../../platform/log';
import { unmatchedRoute } from '../unmatched';

/**
 * The `$default` route (functions/wiring.ts `fallbackRoute`): a request no route matches, answered
 * as the local gateway answers it. No authorizer runs before it, so there are no claims to read.
 */
export const handler = async (event: APIGatewayProxyEventV2, context: Context): Promise<HttpResult> => {
  const { method } = event.requestContext.http;
  const { error, headers } = unmatchedRoute(method, event.rawPath);
  log.info('request', { route: event.routeKey, method, path: event.rawPath, status: error.status, request_id: context.awsRequestId });
  return {
    statusCode: error.status,
    headers: { 'content-type': 'application/json', ...errorHeaders(error), ...headers },
    body: JSON.stringify(errorBody(error)),
  };
};
