import { localRouteKeys } from '../../bin/local/api-server';
import { httpRoutes, routeKey } from '../../functions/wiring';
import { logicalId, resourcesOfType, synthesized } from './synth';

/**
 * The routes come from one declaration (functions/wiring.ts): the stack
 * makes them, the local runtime serves them, and these tests prove both
 * match it, and that no route is reachable without a valid token.
 */
describe('HTTP API routes', () => {
  const { template, json, stack } = synthesized();
  const routes = resourcesOfType(json, 'AWS::ApiGatewayV2::Route');
  const templateRouteKeys = routes.map(([, route]) => route.Properties?.RouteKey as string).sort();
  const declaredRouteKeys = Object.values(httpRoutes).map(routeKey).sort();

  test('the stack creates exactly the routes declared in functions/wiring.ts, each once', () => {
    expect(templateRouteKeys).toEqual(declaredRouteKeys);
    expect(new Set(templateRouteKeys).size).toBe(templateRouteKeys.length);
  });

  test('the local runtime (bin/local/api-server) serves exactly the routes the stack creates', () => {
    expect([...localRouteKeys()].sort()).toEqual(templateRouteKeys);
  });

  test('every route requires the JWT authorizer', () => {
    const [authorizerId] = resourcesOfType(json, 'AWS::ApiGatewayV2::Authorizer').map(([id]) => id);
    expect(authorizerId).toBeDefined();
    for (const [, route] of routes) {
      expect(route.Properties?.AuthorizationType).toBe('JWT');
      expect(route.Properties?.AuthorizerId).toEqual({ Ref: authorizerId });
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

  test('the JWT authorizer accepts only ID tokens of this user pool, minted for its app client', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: logicalId(stack.identity.client) }],
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
