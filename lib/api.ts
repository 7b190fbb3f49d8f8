import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { fallbackRoute, httpRoutes, routeKey, type HttpRoute, type RouteName } from '../functions/wiring';
import { stockroomFunction } from './functions';
import { mapRecord } from './records';

export { REPO_ROOT } from './functions';

export interface InventoryApiProps {
  table: TableV2;
  /** JWT issuer (the Cognito user pool's) and the audiences it must be minted for (app client ids). */
  jwtIssuer: string;
  jwtAudience: string[];
  /** Steady-state requests per second across the API, and the burst above it. */
  throttle?: { rateLimit: number; burstLimit: number };
}

/**
 * The HTTP API: one Lambda per entry of `httpRoutes` (functions/wiring.ts),
 * the same declaration the local runtime serves, each route behind the JWT
 * authorizer and each function granted only what its `table` field says;
 * and the `$default` route for every other request (`fallbackRoute`).
 */
export class InventoryApi extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly functions: Record<RouteName, NodejsFunction>;
  /** The `$default` route's function: 404 or 405 in the error shape for a request no route matches. */
  readonly fallback: NodejsFunction;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: InventoryApiProps) {
    super(scope, id);
    const authorizer = new HttpJwtAuthorizer('Jwt', props.jwtIssuer, { jwtAudience: props.jwtAudience });

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Stockroom inventory API',
      defaultAuthorizer: authorizer,
      // The stage is made below, with access logs and throttling.
      createDefaultStage: false,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            error: '$context.error.message',
            subject: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    this.functions = mapRecord(httpRoutes, (name, route) => {
      const fn = this.routeFunction(name, route, props.table);
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${name}Integration`, fn),
      });
      return fn;
    });

    this.fallback = stockroomFunction(this, 'routeNotFound', {
      entry: fallbackRoute.entry,
      description: `$default: ${fallbackRoute.summary}`,
      table: props.table,
      access: fallbackRoute.table,
      timeout: Duration.seconds(5),
    });
    const defaultRoute = new apigw.HttpRoute(this, 'DefaultRoute', {
      httpApi: this.httpApi,
      routeKey: apigw.HttpRouteKey.DEFAULT,
      integration: new HttpLambdaIntegration('routeNotFoundIntegration', this.fallback),
      // No token check: an unknown route is a 404 (a known path with another method a 405) whoever asks, as locally.
      authorizer: new apigw.HttpNoneAuthorizer(),
    });
    Validations.of(defaultRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The $default route only answers a request no declared route matches (404 ROUTE_NOT_FOUND, or 405 METHOD_NOT_ALLOWED with Allow); its function has no table access and touches no data, and every declared route keeps the JWT authorizer.',
    });
  }

  private routeFunction(name: RouteName, route: HttpRoute, table: TableV2): NodejsFunction {
    return stockroomFunction(this, name, {
      entry: route.entry,
      description: `${routeKey(route)}: ${route.summary}`,
      table,
      access: route.table,
      // The HTTP API gives up on an integration after 30 s; a bulk update of 1,000 rows needs the headroom.
      timeout: Duration.seconds(29),
    });
  }
}
