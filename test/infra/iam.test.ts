import { httpRoutes, type RouteName } from '../../functions/wiring';
import { logicalId, resourcesOfType, synthesized, type CfnTemplate } from './synth';

/**
 * Least privilege: each function gets from the table exactly what its
 * route's `table` field in functions/wiring.ts says, and nothing anywhere
 * holds a service-wide or account-wide wildcard.
 */
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:TransactWriteItems',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:CreateTable',
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
];

/** Every statement in every policy (attached, inline or managed) in the template. */
const allStatements = (json: CfnTemplate): Statement[] =>
  Object.values(json.Resources).flatMap((resource) => {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy')
      return (props.PolicyDocument as { Statement: Statement[] }).Statement;
    if (resource.Type === 'AWS::IAM::Role')
      return ((props.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []).flatMap((p) => p.PolicyDocument.Statement);
    return [];
  });

/** The statements granted to one role: its inline policies and every AWS::IAM::Policy attached to it. */
const roleStatements = (json: CfnTemplate, roleId: string): Statement[] =>
  Object.values(json.Resources).flatMap((resource) => {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy' && JSON.stringify(props.Roles).includes(`"${roleId}"`))
      return (props.PolicyDocument as { Statement: Statement[] }).Statement;
    return [];
  }).concat(allStatements({ Resources: { role: json.Resources[roleId]! } }));

describe('IAM least privilege', () => {
  const { json, stack } = synthesized();
  const tableId = logicalId(stack.data.table);
  const keyId = logicalId(stack.data.key);

  const grantsOf = (name: RouteName) => {
    const role = stack.api.functions[name].role;
    if (!role) throw new Error(`${name} has no role`);
    const roleId = logicalId(role);
    const statements = roleStatements(json, roleId).filter((s) => s.Effect === 'Allow');
    const actions = new Set(statements.flatMap((s) => list(s.Action)));
    const managed = JSON.stringify(json.Resources[roleId]?.Properties?.ManagedPolicyArns ?? []);
    return { statements, actions, managed };
  };

  const routesWith = (table: 'none' | 'read' | 'write'): RouteName[] =>
    (Object.keys(httpRoutes) as RouteName[]).filter((name) => httpRoutes[name].table === table);

  test('the wiring declares routes of every access level, so each rule below is exercised', () => {
    expect(routesWith('read').length).toBeGreaterThan(0);
    expect(routesWith('write').length).toBeGreaterThan(0);
    expect(routesWith('none').length).toBeGreaterThan(0);
  });

  test.each(routesWith('read'))('%s (table: read) can read the table and its index but has no DynamoDB write action and cannot encrypt', (name) => {
    const { actions } = grantsOf(name);
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'kms:Decrypt']) expect(actions).toContain(action);
    for (const action of WRITE_ACTIONS) expect(actions).not.toContain(action);
    for (const action of actions) expect(action).not.toMatch(/^kms:(Encrypt|GenerateDataKey|ReEncrypt)/);
  });

  test.each(routesWith('write'))('%s (table: write) can write the table (put, update, delete, condition-check, batch)', (name) => {
    const { actions } = grantsOf(name);
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:BatchWriteItem', 'kms:GenerateDataKey*'])
      expect(actions).toContain(action);
    for (const action of ['dynamodb:CreateTable', 'dynamodb:DeleteTable', 'dynamodb:UpdateTable']) expect(actions).not.toContain(action);
  });

  test.each(routesWith('none'))('%s (table: none) has no DynamoDB or KMS action at all', (name) => {
    const { actions } = grantsOf(name);
    for (const action of actions) expect(action).not.toMatch(/^(dynamodb|kms):/);
  });

  test.each(Object.keys(httpRoutes) as RouteName[])('%s: DynamoDB actions reach only the table and its indexes, KMS actions only the table key', (name) => {
    const { statements, managed } = grantsOf(name);
    for (const statement of statements) {
      const actions = list(statement.Action);
      const resources = list(statement.Resource).map((r) => JSON.stringify(r));
      if (actions.some((a) => a.startsWith('dynamodb:')))
        for (const resource of resources)
          expect([`{"Fn::GetAtt":["${tableId}","Arn"]}`, `{"Fn::Join":["",[{"Fn::GetAtt":["${tableId}","Arn"]},"/index/*"]]}`]).toContain(resource);
      if (actions.some((a) => a.startsWith('kms:'))) expect(resources).toEqual([`{"Fn::GetAtt":["${keyId}","Arn"]}`]);
    }
    // The only managed policy: writing its own logs.
    expect(managed).not.toMatch(/policy\/(?!service-role\/AWSLambdaBasicExecutionRole")/);
  });

  test('no policy statement anywhere allows "*" or a whole service ("dynamodb:*", ...)', () => {
    const statements = allStatements(json);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements)
      for (const action of list(statement.Action)) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/^[a-z0-9-]+:\*$/i);
      }
  });

  test('Resource "*" appears only for the X-Ray actions and SMS publishing (to a phone number, no ARN) that cannot be scoped', () => {
    for (const statement of allStatements(json))
      if (list(statement.Resource).includes('*'))
        for (const action of list(statement.Action)) expect(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'sns:Publish']).toContain(action);
    // sns:Publish on "*" only for the notification consumer (test/infra/notifications.test.ts checks whose role).
    const smsStatements = allStatements(json).filter((st) => list(st.Action).includes('sns:Publish') && list(st.Resource).includes('*'));
    expect(smsStatements).toHaveLength(1);
  });

  test('the template has no IAM users, groups or managed policies of its own', () => {
    for (const type of ['AWS::IAM::User', 'AWS::IAM::Group', 'AWS::IAM::ManagedPolicy']) expect(resourcesOfType(json, type)).toEqual([]);
  });
});
