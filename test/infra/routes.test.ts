import { Match } from 'aws-cdk-lib/assertions';
import { localRouteKeys } from '../../bin/local/api-server';
import { isWebhookRoute } from '../../functions/platform/routes';
import { fallbackRoute, healthRoute, httpRoutes, routeKey } from '../../functions/wiring';
import { logicalId, resourcesOfType, synthesized } from './synth';

/**
 * The routes come from one declaration (functions/wiring.ts): the stack
 * makes them, the local runtime serves them, and these tests prove both
 * match it, and that no declared route is reachable without a valid token,
 * except the webhook routes a platform calls (verified by their signature).
 * Besides them, the `$default` route answers every other request (404 or
 * 405, before any token check, as the local gateway does).
 */
describe('HTTP API routes', () => {
  const { template, json, stack } = synthesized();
  const allRoutes = resourcesOfType(json, 'AWS::ApiGatewayV2::Route');
  const [defaultRoute, ...otherDefaults] = allRoutes.filter(([, route]) => route.Properties?.RouteKey === '$default');
  const routes = allRoutes.filter(([, route]) => route.Properties?.RouteKey !== '$default');
  const templateRouteKeys = routes.map(([, route]) => route.Properties?.RouteKey as string).sort();
  const declaredRouteKeys = [...Object.values(httpRoutes), healthRoute].map(routeKey).sort();

  test('the stack creates exactly the routes declared in functions/wiring.ts, each once', () => {
    expect(templateRouteKeys).toEqual(declaredRouteKeys);
    expect(new Set(templateRouteKeys).size).toBe(templateRouteKeys.length);
  });

  test('the local runtime (bin/local/api-server) serves exactly the routes the stack creates', () => {
    expect([...localRouteKeys()].sort()).toEqual(templateRouteKeys);
  });

  const webhookRouteKeys = Object.values(httpRoutes).filter(isWebhookRoute).map(routeKey);

  test('every declared route requires the JWT authorizer, but the webhook routes (their function verifies the platform\'s signature)', () => {
    const [authorizerId] = resourcesOfType(json, 'AWS::ApiGatewayV2::Authorizer').map(([id]) => id);
    expect(authorizerId).toBeDefined();
    expect(webhookRouteKeys).toEqual(['POST /api/integration/shopify/webhooks']);
    for (const [, route] of routes) {
      const key = route.Properties?.RouteKey as string;
      if (key === routeKey(healthRoute)) {
        // The health probe: no token, and its function may only DescribeTable (below).
        expect({ key, type: route.Properties?.AuthorizationType, authorizer: route.Properties?.AuthorizerId }).toEqual({ key, type: 'NONE', authorizer: undefined });
      } else if (webhookRouteKeys.includes(key)) {
        expect({ key, type: route.Properties?.AuthorizationType, authorizer: route.Properties?.AuthorizerId }).toEqual({ key, type: 'NONE', authorizer: undefined });
      } else {
        expect({ key, type: route.Properties?.AuthorizationType }).toEqual({ key, type: 'JWT' });
        expect(route.Properties?.AuthorizerId).toEqual({ Ref: authorizerId });
      }
    }
  });

  test('each route invokes the function built from its own wiring.ts entry', () => {
    for (const [name, route] of Object.entries(httpRoutes)) {
      const fnId = logicalId(stack.api.functions[name as keyof typeof httpRoutes]);
      const [integrationId] = resourcesOfType(json, 'AWS::ApiGatewayV2::Integration').find(([, integration]) =>
        JSON.stringify(integration.Properties?.IntegrationUri).includes(`"${fnId}"`),
      ) ?? [undefined];
      expect(integrationId).toBeDefined();
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey(route),
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
      });
    }
  });

  test('one $default route, without authorizer, invokes the fallback function built from fallbackRoute.entry', () => {
    expect(defaultRoute).toBeDefined();
    expect(otherDefaults).toEqual([]);
    const [, route] = defaultRoute!;
    expect(route.Properties?.AuthorizationType).toBe('NONE');
    expect(route.Properties?.AuthorizerId).toBeUndefined();
    const fnId = logicalId(stack.api.fallback);
    const [integrationId] = resourcesOfType(json, 'AWS::ApiGatewayV2::Integration').find(([, integration]) =>
      JSON.stringify(integration.Properties?.IntegrationUri).includes(`"${fnId}"`),
    ) ?? [undefined];
    expect(integrationId).toBeDefined();
    expect(route.Properties?.Target).toEqual({ 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] });
    expect(json.Resources[fnId]?.Properties?.Description).toBe(`$default: ${fallbackRoute.summary}`);
  });

  test('the fallback function has no table access: no DynamoDB or KMS action in its role', () => {
    const roleId = logicalId(stack.api.fallback.role!);
    const statements = resourcesOfType(json, 'AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(policy.Properties?.Roles).includes(`"${roleId}"`))
      .flatMap(([, policy]) => (policy.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement);
    for (const action of statements.flatMap((s) => [s.Action].flat())) expect(action).not.toMatch(/^(dynamodb|kms):/);
  });

  test('the JWT authorizer accepts only ID tokens of this user pool, minted for its API client or the dashboard\'s hosted-UI client', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: logicalId(stack.identity.client) }, { 'Fn::GetAtt': [logicalId(stack.dashboard.nestedStackResource ?? stack.dashboard), Match.stringLikeRegexp('^Outputs\\..*DashboardClient')] }],
        Issuer: { 'Fn::Join': ['', [`https://cognito-idp.${stack.region}.amazonaws.com/`, { Ref: logicalId(stack.identity.userPool) }]] },
      },
    });
  });

  test('the stage is throttled and writes JSON access logs to a log group with retention', () => {
    const [, stage] = resourcesOfType(json, 'AWS::ApiGatewayV2::Stage')[0] ?? [];
    const settings = stage?.Properties?.DefaultRouteSettings as Record<string, number>;
    expect(settings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(settings.ThrottlingBurstLimit).toBeGreaterThan(0);
    const access = stage?.Properties?.AccessLogSettings as { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
    expect(json.Resources[access.DestinationArn['Fn::GetAtt'][0]]?.Properties?.RetentionInDays).toEqual(expect.any(Number));
    expect(JSON.parse(access.Format)).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status' });
  });
});
