import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { resolve } from 'node:path';
import { TABLE_NAME_ENV } from '../functions/platform/table';
import { httpRoutes, routeKey, type HttpRoute, type RouteName } from '../functions/wiring';

/** The repository root: handler entries in functions/wiring.ts are relative to it. */
export const REPO_ROOT = resolve(__dirname, '..');

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
 * authorizer and each function granted only what its `table` field says.
 */
export class InventoryApi extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly functions: Record<RouteName, NodejsFunction>;
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

    const functions: Partial<Record<RouteName, NodejsFunction>> = {};
    for (const [name, route] of Object.entries(httpRoutes) as [RouteName, HttpRoute][]) {
      const fn = this.routeFunction(name, route, props.table);
      functions[name] = fn;
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${name}Integration`, fn),
      });
    }
    this.functions = functions as Record<RouteName, NodejsFunction>;
  }

  private routeFunction(name: RouteName, route: HttpRoute, table: TableV2): NodejsFunction {
    const scope = new Construct(this, name);
    const logGroup = new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    const fn = new NodejsFunction(scope, 'Function', {
      description: `${routeKey(route)}: ${route.summary}`.slice(0, 256),
      entry: resolve(REPO_ROOT, route.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: resolve(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      // The HTTP API gives up on an integration after 30 s; a bulk update of 1,000 rows needs the headroom.
      timeout: Duration.seconds(29),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: {
        [TABLE_NAME_ENV]: table.tableName,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        format: OutputFormat.CJS,
        // Prefer packages' ES module builds: they tree-shake (zod alone shrinks by a third).
        mainFields: ['module', 'main'],
        // Bundle the AWS SDK too: production runs exactly the SDK version the tests ran against.
        externalModules: [],
      },
    });

    if (route.table === 'read') table.grantReadData(fn);
    if (route.table === 'write') table.grantReadWriteData(fn);

    acknowledgeFunctionFindings(fn, route, table);
    return fn;
  }
}

/**
 * cdk-nag findings accepted for every route function, each for the reason
 * given, acknowledged on this function only and, for IAM, finding by finding
 * (the exact managed policy, action or resource).
 */
const acknowledgeFunctionFindings = (fn: NodejsFunction, route: HttpRoute, table: TableV2): void => {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Node.js 22 is pinned on purpose: the local runtime, the tests and the benchmark run on Node 22 (the `node` devDependency), so Lambda runs the same major version; moving to a newer runtime is a deliberate, tested upgrade.',
  });
  if (!fn.role) return;
  const role = Validations.of(fn.role);
  role.acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "AWSLambdaBasicExecutionRole only allows creating and writing CloudWatch log streams (logs:CreateLogGroup/CreateLogStream/PutLogEvents); it is the AWS-maintained minimum every Lambda needs to log.",
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires Resource "*" for them (and only them).',
    },
  );
  if (route.table !== 'none') {
    const tableArn = `<${Stack.of(table).getLogicalId(table.node.defaultChild as CfnElement)}.Arn>`;
    role.acknowledge({
      id: `AwsSolutions-IAM5[Resource::${tableArn}/index/*]`,
      reason:
        'The grant covers the secondary indexes of this one table (`<table arn>/index/*`): gsi1 serves the per-parent and per-warehouse listings, and index ARNs exist only under the table ARN.',
    });
  }
  if (route.table === 'write') {
    role.acknowledge(
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          'Writing to a table encrypted with a customer-managed key needs kms:GenerateDataKey (and its WithoutPlaintext variant); the wildcard spans only those variants, on that one key.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
        reason:
          'DynamoDB re-encrypts data keys when the table key rotates; kms:ReEncrypt* spans only ReEncryptFrom/ReEncryptTo, on that one key.',
      },
    );
  }
};
