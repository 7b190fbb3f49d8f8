import { CLAIMS } from '../../functions/identity/roles';
import { USER_POOL_ID_ENV } from '../../functions/platform/routes';
import { entriesOf, httpRoutes, type RouteName } from '../../functions/wiring';
import { USER_POOL_ACTIONS } from '../../lib/api';
import { logicalId, roleOf, resourcesOfType, synthesized, type CfnTemplate } from './synth';

/**
 * The users API in AWS (issue 12): only the user routes that change users (`userPool: 'manage'` in the wiring)
 * may drive the Cognito pool, with exactly the six actions functions/identity/cognito.ts sends, on the stack's
 * one pool; and the pool carries the warehouse scope attribute the tokens read.
 */
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every policy statement with the roles it is attached to (inline policies name their roles). */
const statementsByRole = (json: CfnTemplate): { roles: string; statement: Statement }[] =>
  Object.values(json.Resources).flatMap((resource) => {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy') {
      return (props.PolicyDocument as { Statement: Statement[] }).Statement.map((statement) => ({ roles: JSON.stringify(props.Roles), statement }));
    }
    if (resource.Type === 'AWS::IAM::Role' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      const documents = resource.Type === 'AWS::IAM::Role' ? ((props.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []).map((p) => p.PolicyDocument) : [props.PolicyDocument as { Statement: Statement[] }];
      return documents.flatMap((document) => document.Statement.map((statement) => ({ roles: '(other)', statement })));
    }
    return [];
  });

describe('the user routes and the Cognito user pool', () => {
  const { json, stack } = synthesized();
  const [poolId] = resourcesOfType(json, 'AWS::Cognito::UserPool')[0] ?? [];
  const managing = entriesOf(httpRoutes).flatMap(([name, route]) => ('userPool' in route && route.userPool === 'manage' ? [name] : [])) as RouteName[];

  test('the routes that change users are the ones that manage the pool: create, patch and delete', () => {
    expect([...managing].sort()).toEqual(['createUser', 'deleteUser', 'patchUser']);
  });

  test('exactly the six Admin* actions on the one pool, granted to the user-managing routes\' role and nothing else', () => {
    const cognito = statementsByRole(json).filter(({ statement }) => list(statement.Action).some((action) => action.startsWith('cognito-idp:')));
    expect(cognito.length).toBeGreaterThan(0);
    const managingRoles = new Set(managing.map((name) => logicalId(roleOf(stack.api.functions[name]))));
    for (const { roles, statement } of cognito) {
      expect(statement.Effect).toBe('Allow');
      expect([...list(statement.Action)].sort()).toEqual([...USER_POOL_ACTIONS].sort());
      expect(statement.Resource).toEqual({ 'Fn::GetAtt': [poolId, 'Arn'] });
      const attached = JSON.parse(roles === '(other)' ? '[]' : roles) as { Ref: string }[];
      expect(attached.length).toBeGreaterThan(0);
      for (const role of attached) expect(managingRoles.has(role.Ref)).toBe(true);
    }
    // No other function's role shares it: every other route, consumer and schedule has a role of its own or another shared one.
    const others = entriesOf(httpRoutes).filter(([name]) => !managing.includes(name)).map(([name]) => logicalId(roleOf(stack.api.functions[name])));
    for (const role of others) expect(managingRoles.has(role)).toBe(false);
  });

  test('the user-managing functions know the pool by its id; no other function is given it', () => {
    const functions = resourcesOfType(json, 'AWS::Lambda::Function');
    for (const [id, fn] of functions) {
      const variables = ((fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
      const managed = managing.some((name) => logicalId(stack.api.functions[name]) === id);
      if (managed) expect(variables[USER_POOL_ID_ENV]).toEqual({ Ref: poolId });
      else expect(variables[USER_POOL_ID_ENV]).toBeUndefined();
    }
  });

  test('the pool has a mutable warehouse scope attribute, readable by the app client and writable only by admins', () => {
    const [, pool] = resourcesOfType(json, 'AWS::Cognito::UserPool')[0] ?? [];
    const [, client] = resourcesOfType(json, 'AWS::Cognito::UserPoolClient')[0] ?? [];
    const name = CLAIMS.warehouses.replace(/^custom:/, '');
    expect(pool?.Properties?.Schema).toEqual(expect.arrayContaining([expect.objectContaining({ Name: name, Mutable: true, AttributeDataType: 'String', StringAttributeConstraints: { MinLength: '0', MaxLength: '2048' } })]));
    expect(client?.Properties?.ReadAttributes).toContain(CLAIMS.warehouses);
    expect(client?.Properties?.WriteAttributes).not.toContain(CLAIMS.warehouses);
  });
});
