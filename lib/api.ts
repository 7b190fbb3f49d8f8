import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { fallbackRoute, healthRoute, httpRoutes, routeKey, type HttpRoute, type RouteName } from '../functions/wiring';
import { VERSION_ENV } from '../functions/api/health';
import { version as PACKAGE_VERSION } from '../package.json';
import { isWebhookRoute, USER_POOL_ID_ENV } from '../functions/platform/routes';
import { WEBHOOK_VERIFY_LEADING_KEYS } from '../functions/platform/keys';
import { CHANNEL_SECRETS_ENV, channelSecretsPrefix } from '../functions/platform/secrets';
import { stockroomFunction } from './functions';
import { mapRecord } from './records';
import { TenantTableAccess, type TenantAccess } from './tenant-access';

export { REPO_ROOT } from './functions';

export interface InventoryApiProps {
  table: TableV2;
  /** JWT issuer (the Cognito user pool's) and the audiences it must be minted for (app client ids). */
  jwtIssuer: string;
  jwtAudience: string[];
  /** The user pool the user routes (`userPool: 'manage'`) drive; without it those routes keep users in the table only. */
  userPool?: IUserPool;
  /** Steady-state requests per second across the API, and the burst above it. */
  throttle?: { rateLimit: number; burstLimit: number };
  /**
   * Where a route's function, integration and route are built, when not in this construct: a nested
   * stack of its context (lib/channels.ts holds the channel routes), so the main stack stays under
   * CloudFormation's 500 resources. The route is still on this one HTTP API and its authorizer.
   */
  routeScope?: (name: RouteName, route: HttpRoute) => Construct | undefined;
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
  /** GET /api/health's function (functions/wiring.ts healthRoute): no authorizer, DescribeTable only. */
  readonly health: NodejsFunction;
  readonly accessLogs: logs.LogGroup;
  private readonly authorizer: HttpJwtAuthorizer;
  /** The tenant roles the token routes reach the table through: one TenantTableAccess per stack that builds routes (lib/tenant-access.ts). */
  readonly tenantAccess: TenantTableAccess[] = [];

  constructor(scope: Construct, id: string, props: InventoryApiProps) {
    super(scope, id);
    const authorizer = new HttpJwtAuthorizer('Jwt', props.jwtIssuer, { jwtAudience: props.jwtAudience });
    this.authorizer = authorizer;

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

    /** The token routes' functions that reach the table, by the stack they are built in: each stack gets its tenant roles. */
    const tenantFunctions = new Map<Construct, { fn: NodejsFunction; access: TenantAccess }[]>();
    this.functions = mapRecord(httpRoutes, (name, route) => {
      const home = props.routeScope?.(name, route) ?? this;
      const fn = this.routeFunction(home, name, route, props.table, props.userPool);
      const signed = isWebhookRoute(route);
      // A webhook too, once its signature names the tenant (functions/channels/webhooks.ts tenantDb).
      if (route.table !== 'none') tenantFunctions.set(home, [...(tenantFunctions.get(home) ?? []), { fn, access: route.table }]);
      const integration = new HttpLambdaIntegration(`${name}Integration`, fn);
      // A platform's webhook carries no token: its function verifies the platform's signature instead.
      const added =
        home === this
          ? this.httpApi.addRoutes({ path: route.path, methods: [apigw.HttpMethod[route.method]], integration, ...(signed ? { authorizer: new apigw.HttpNoneAuthorizer() } : {}) })
          : [
              new apigw.HttpRoute(home, `${name}Route`, {
                httpApi: this.httpApi,
                routeKey: apigw.HttpRouteKey.with(route.path, apigw.HttpMethod[route.method]),
                integration,
                authorizer: signed ? new apigw.HttpNoneAuthorizer() : this.authorizer,
              }),
            ];
      if (signed) {
        for (const each of added) {
          Validations.of(each).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason:
              `${routeKey(route)} is called by Shopify, which sends no token: before anything is read or written its function checks X-Shopify-Hmac-Sha256, ` +
              "the HMAC-SHA256 of the raw body keyed with the shop's connection's webhook secret (constant-time compare), and answers 401 with nothing written when it does not verify or the shop is connected to no channel.",
          });
        }
      }
      return fn;
    });

    // Token vending: a token route reaches the table only through its stack's tenant role of its access level.
    for (const [home, functions] of tenantFunctions) {
      const rolesOf = (access: TenantAccess): IRole[] => [...new Set(functions.filter((each) => each.access === access).flatMap((each) => (each.fn.role ? [each.fn.role] : [])))];
      const tenantAccess = new TenantTableAccess(home, 'TenantTableAccess', { table: props.table, trusted: { read: rolesOf('read'), write: rolesOf('write') } });
      for (const { fn, access } of functions) tenantAccess.useFrom(fn, access);
      this.tenantAccess.push(tenantAccess);
    }

    this.fallback = stockroomFunction(this, 'routeNotFound', {
      entry: fallbackRoute.entry,
      description: `$default: ${fallbackRoute.summary}`,
      table: props.table,
      access: fallbackRoute.table,
      timeout: Duration.seconds(5),
    });
    this.health = stockroomFunction(this, 'health', {
      entry: healthRoute.entry,
      description: `${routeKey(healthRoute)}: ${healthRoute.summary}`,
      table: props.table,
      access: 'none',
      timeout: Duration.seconds(5),
      environment: { [VERSION_ENV]: PACKAGE_VERSION },
    });
    // Whether the table answers, and nothing of what it holds.
    this.health.addToRolePolicy(new PolicyStatement({ sid: 'DescribeTheTable', actions: ['dynamodb:DescribeTable'], resources: [props.table.tableArn] }));
    const [healthApiRoute] = this.httpApi.addRoutes({
      path: healthRoute.path,
      methods: [apigw.HttpMethod[healthRoute.method]],
      integration: new HttpLambdaIntegration('healthIntegration', this.health),
      authorizer: new apigw.HttpNoneAuthorizer(),
    });
    if (healthApiRoute) {
      Validations.of(healthApiRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'GET /api/health is for load balancers and uptime monitors, which hold no token: it answers only whether the table answers (200 with the version and uptime, or 503); its function may only DescribeTable and reads no item.',
      });
    }
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

  /** The execution roles route functions share, one per set of grants (see sharedRoleOf). */
  private readonly sharedRoles = new Map<string, Role>();

  /**
   * The role of a route function without lake access: one per combination of table access and
   * channel secrets, shared by every such route. Those functions' grants are exactly equal, so a
   * shared role grants none of them more than its own would; it keeps the stack under
   * CloudFormation's 500 resources (a role and its policy per function were two of the seven
   * resources every route cost). Lake routes, schedules and consumers keep a role each: their
   * grants differ function by function.
   */
  private sharedRoleOf(home: Construct, route: HttpRoute): Role | undefined {
    if (route.lake) return undefined;
    // One set per stack: a role shared across stacks would put its grants in one stack for functions of another.
    // A webhook route's role is its own: it reads the shop registrations with it before it knows a tenant, which a token route never does.
    const signed = isWebhookRoute(route);
    const group = `${home.node.path}|${signed ? 'webhook|' : ''}${route.table}${route.channelSecrets ? `+channelSecrets-${route.channelSecrets}` : ''}${route.userPool ? `+userPool-${route.userPool}` : ''}`;
    const found = this.sharedRoles.get(group);
    if (found) return found;
    // The write set keeps its original id (no replacement of the deployed role).
    const secretsPart = route.channelSecrets === 'write' ? '-channel-secrets' : route.channelSecrets === 'read' ? '-channel-secrets-read' : '';
    const id = `${signed ? 'WebhookRole' : 'RouteRole'}-${route.table}${secretsPart}${route.userPool ? '-user-pool' : ''}`;
    const role = new Role(home, id, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: signed
        ? `The webhook route functions with table access '${route.table}'${route.channelSecrets ? ` that ${route.channelSecrets} channel secrets` : ''}`
        : `Shared by the route functions with table access '${route.table}'${route.channelSecrets ? ` that ${route.channelSecrets} channel secrets` : ''}${route.userPool ? ' that manage the user pool' : ''} and no lake access`,
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    this.sharedRoles.set(group, role);
    return role;
  }

  private routeFunction(home: Construct, name: RouteName, route: HttpRoute, table: TableV2, userPool: IUserPool | undefined): NodejsFunction {
    const role = this.sharedRoleOf(home, route);
    const fn = stockroomFunction(home, name, {
      ...(role ? { role } : {}),
      entry: route.entry,
      description: `${routeKey(route)}: ${route.summary}`,
      table,
      // A route's own role has no table grant: it reaches the table as the caller's tenant (TenantTableAccess).
      access: 'none',
      // The HTTP API gives up on an integration after 30 s; a bulk update of 1,000 rows needs the headroom.
      timeout: Duration.seconds(29),
    });
    if (route.channelSecrets) useChannelSecrets(fn, route.channelSecrets);
    if (isWebhookRoute(route)) grantWebhookVerification(fn, table);
    if (route.userPool && userPool) manageUserPool(fn, userPool);
    return fn;
  }
}

/**
 * What a webhook function reads with its own role, before a signature names a tenant: GetItem of a
 * shop's registration and of the connection it names (keys.ts WEBHOOK_VERIFY_LEADING_KEYS), and the
 * table key to decrypt them. The delivery's work then runs as the tenant (its tenant role).
 */
const grantWebhookVerification = (fn: NodejsFunction, table: TableV2): void => {
  fn.addToRolePolicy(
    new PolicyStatement({
      sid: 'ReadWebhookRegistration',
      actions: ['dynamodb:GetItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...WEBHOOK_VERIFY_LEADING_KEYS] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
    }),
  );
  if (table.encryptionKey) fn.addToRolePolicy(new PolicyStatement({ sid: 'DecryptWebhookRegistration', actions: ['kms:Decrypt'], resources: [table.encryptionKey.keyArn] }));
};

/** The user pool actions the users API sends (functions/identity/cognito.ts), and no other: no listing, no reading of users, no pool changes. */
export const USER_POOL_ACTIONS = [
  'cognito-idp:AdminCreateUser',
  'cognito-idp:AdminUpdateUserAttributes',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminEnableUser',
  'cognito-idp:AdminUserGlobalSignOut',
  'cognito-idp:AdminDeleteUser',
];

/** The user routes' grant: exactly USER_POOL_ACTIONS on the stack's one pool, and the pool's id in USER_POOL_ID_ENV. */
const manageUserPool = (fn: NodejsFunction, userPool: IUserPool): void => {
  fn.addEnvironment(USER_POOL_ID_ENV, userPool.userPoolId);
  fn.addToRolePolicy(new PolicyStatement({ sid: 'ManageUserPool', actions: USER_POOL_ACTIONS, resources: [userPool.userPoolArn] }));
};

/** The stack a nested stack belongs to (itself when it is not nested). */
const topStackOf = (stack: Stack): Stack => (stack.nestedStackParent ? topStackOf(stack.nestedStackParent) : stack);

/** How cdk-nag spells a part of an ARN in a finding: the value, or `<AWS::Name>` for a pseudo parameter. */
const nagName = (value: string, pseudo: string): string => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);

/** Secrets Manager's actions a channel connection route may use: write-only (no GetSecretValue, no Describe, no List). */
export const CHANNEL_SECRET_WRITE_ACTIONS = ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'];
/** The one action a route that calls a platform with a connection's credentials (listing discovery) may use. */
export const CHANNEL_SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue'];

/**
 * The channel credential writes, or the read, on the stack's channel secrets only: `<prefix>*`, the
 * `*` covering a tenant's and connection's ids and the `-XXXXXX` suffix Secrets Manager appends to a name;
 * and CHANNEL_SECRETS_ENV naming them. The prefix is the top-level stack's (a nested stack's function
 * reads the same secrets as the API that wrote them).
 */
export const useChannelSecrets = (fn: NodejsFunction, kind: 'write' | 'read'): void => {
  const stack = Stack.of(fn);
  const prefix = channelSecretsPrefix(topStackOf(stack).stackName);
  fn.addEnvironment(CHANNEL_SECRETS_ENV, `secretsmanager:${prefix}`);
  const resource = stack.formatArn({ service: 'secretsmanager', resource: 'secret', arnFormat: ArnFormat.COLON_RESOURCE_NAME, resourceName: `${prefix}*` });
  fn.addToRolePolicy(new PolicyStatement({ actions: kind === 'write' ? CHANNEL_SECRET_WRITE_ACTIONS : CHANNEL_SECRET_READ_ACTIONS, resources: [resource] }));
  if (!fn.role) return;
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:${nagName(stack.partition, 'Partition')}:secretsmanager:${nagName(stack.region, 'Region')}:${nagName(stack.account, 'AccountId')}:secret:${prefix}*]`,
    reason:
      kind === 'write'
        ? 'One secret per tenant and channel connection, created at run time: the grant is the stack\'s channel secrets\' name space, write actions only (never GetSecretValue).'
        : "One secret per tenant and channel connection, created at run time: GetSecretValue only, on the stack's channel secrets' name space; listing discovery reads the calling tenant's connection (the key built from the token's tenant), the Shopify webhook the connection its shop's registration names, to verify the signature.",
  });
};
