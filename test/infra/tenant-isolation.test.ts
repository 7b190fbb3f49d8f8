import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { TENANT_SESSION_TAG, TENANT_TABLE_ROLE_ENV } from '../../functions/platform/db';
import { keys, SYSTEM_PARTITIONS_OF_REQUESTS, TENANT_LEADING_KEYS } from '../../functions/platform/keys';
import { isWebhookRoute } from '../../functions/platform/routes';
import { httpRoutes, type RouteName } from '../../functions/wiring';
import { TENANT_TABLE_ACTIONS } from '../../lib/tenant-access';
import { logicalId, resourcesOfType, roleOf, synthesized, type CfnResource } from './synth';

/**
 * Token vending (issue 12, item 5; lib/tenant-access.ts): in AWS a token route reaches the table
 * only through a tenant role whose policy allows the keys of the session's tenant tag, and only the
 * HTTP functions may assume it. The system's functions keep their own narrow roles.
 */
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: { AWS?: unknown };
  Condition?: Record<string, Record<string, unknown>>;
}
const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

const { json, stack } = synthesized();
const tableId = logicalId(stack.data.table);
const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
const indexArn = { 'Fn::Join': ['', [tableArn, '/index/*']] };
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

const tenantRoleIds = stack.api.tenantAccess.flatMap((access) => Object.values(access.roles).map((role) => logicalId(role)));
const resource = (id: string): CfnResource => {
  const found = json.Resources[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
};
const inlineStatements = (roleId: string): Statement[] =>
  ((resource(roleId).Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []).flatMap((p) => p.PolicyDocument.Statement);
const trustOf = (roleId: string): Statement[] => (resource(roleId).Properties?.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
/** Every statement attached to a role (its AWS::IAM::Policy resources and inline policies). */
const statementsOf = (roleId: string): Statement[] => [
  ...resourcesOfType(json, 'AWS::IAM::Policy')
    .filter(([, policy]) => JSON.stringify(policy.Properties?.Roles).includes(`"${roleId}"`))
    .flatMap(([, policy]) => (policy.Properties?.PolicyDocument as { Statement: Statement[] }).Statement),
  ...inlineStatements(roleId),
];

/** The routes that reach the table: the token routes, and the webhook once its signature names the tenant. */
const tokenRoutes = (Object.keys(httpRoutes) as RouteName[]).filter((name) => httpRoutes[name].table !== 'none');
const webhookRoutes = tokenRoutes.filter((name) => isWebhookRoute(httpRoutes[name]));
const accessOf = (name: RouteName): 'read' | 'write' => (httpRoutes[name].table === 'write' ? 'write' : 'read');
/** The tenant role of a route's stack and access level. */
const tenantRoleOf = (name: RouteName): string => {
  const fnStack = Stack.of(stack.api.functions[name]);
  const access = stack.api.tenantAccess.find((each) => Stack.of(each) === fnStack);
  const role = access?.roles[accessOf(name)];
  if (!role) throw new Error(`${name}: no tenant role in its stack`);
  return logicalId(role);
};

describe('the tenant roles', () => {
  test('one read and one write role in each stack that builds token routes (the main stack, the channels and the order routes nested stacks)', () => {
    const pathsOf = (stacks: Stack[]): string[] => stacks.map((each) => each.node.path).sort();
    expect(pathsOf(stack.api.tenantAccess.map((each) => Stack.of(each)))).toEqual(pathsOf([stack, stack.channels, stack.orderRoutes]));
    expect(stack.api.tenantAccess).toHaveLength(3);
    expect(tenantRoleIds).toHaveLength(6);
  });

  test.each(['read', 'write'] as const)('the %s role allows its actions on the table and its index only where every key is under T#<the session tag>#', (access) => {
    for (const each of stack.api.tenantAccess) {
      const role = each.roles[access];
      if (!role) throw new Error(`no ${access} role`);
      const [tenantItems] = inlineStatements(logicalId(role)).filter((s) => s.Sid === 'TenantItemsOnly');
      const byText = (a: unknown, b: unknown): number => JSON.stringify(a).localeCompare(JSON.stringify(b));
      expect({ ...tenantItems, Resource: list(tenantItems?.Resource).sort(byText) }).toEqual({
        Sid: 'TenantItemsOnly',
        Effect: 'Allow',
        Action: [...TENANT_TABLE_ACTIONS[access]].sort(),
        Resource: [tableArn, indexArn].sort(byText),
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#${aws:PrincipalTag/tenant_id}#*'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      });
    }
    // The pattern is the one every key is built by: a tenant's key matches it with the tag filled in, another's does not.
    const pattern = new RegExp(`^${TENANT_LEADING_KEYS.replace('${aws:PrincipalTag/tenant_id}', 't-1').replace('*', '.*')}$`);
    expect(pattern.test(keys.sku('t-1', 's').pk)).toBe(true);
    expect(pattern.test(keys.sku('t-2', 's').pk)).toBe(false);
    expect(pattern.test(keys.sku('t-1x', 's').pk)).toBe(false);
  });

  test('no tenant role may scan, run PartiQL, read the stream or manage the table; the read roles write nothing', () => {
    for (const id of tenantRoleIds) {
      const actions = inlineStatements(id).flatMap((s) => list(s.Action));
      expect(actions.filter((a) => /^dynamodb:(Scan|PartiQL|GetRecords|GetShardIterator|DescribeStream|ListStreams|CreateTable|DeleteTable|UpdateTable|\*)/.test(a))).toEqual([]);
    }
    for (const each of stack.api.tenantAccess) {
      const read = each.roles.read;
      if (!read) throw new Error('no read role');
      const actions = inlineStatements(logicalId(read)).flatMap((s) => list(s.Action));
      expect(actions.filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)|^kms:(Encrypt|GenerateDataKey|ReEncrypt)/.test(a))).toEqual([]);
    }
  });

  test('every DynamoDB statement of a tenant role carries a LeadingKeys condition: the tenant prefix, or an allow-listed system partition on the write role only', () => {
    for (const each of stack.api.tenantAccess) {
      for (const [access, role] of Object.entries(each.roles)) {
        const dynamo = inlineStatements(logicalId(role)).filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
        const patterns = dynamo.map((s) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']);
        expect(patterns).toEqual([[TENANT_LEADING_KEYS], ...(access === 'write' ? SYSTEM_PARTITIONS_OF_REQUESTS.map((system) => [system.leadingKeys]) : [])]);
        for (const statement of dynamo) expect(statement.Condition?.Null).toEqual({ 'dynamodb:LeadingKeys': 'false' });
      }
    }
  });

  test('the system partition a request reaches (the shop registrations) gets only its item actions on the table, no query, no index', () => {
    expect(SYSTEM_PARTITIONS_OF_REQUESTS.map((system) => system.leadingKeys)).toEqual([`${keys.shopRegistration('').pk}*`]);
    for (const each of stack.api.tenantAccess) {
      const write = each.roles.write;
      if (!write) throw new Error('no write role');
      const system = inlineStatements(logicalId(write)).filter((s) => s.Sid?.startsWith('SystemPartition'));
      expect(system.map((s) => ({ Action: s.Action, Resource: s.Resource }))).toEqual([
        { Action: ['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], Resource: tableArn },
      ]);
    }
  });

  test('the trust policy lets only the token routes\' roles of its stack and access level assume it, tagging the session with tenant_id and nothing else', () => {
    for (const each of stack.api.tenantAccess) {
      for (const [access, role] of Object.entries(each.roles)) {
        const expected = [
          ...new Set(tokenRoutes.filter((name) => Stack.of(stack.api.functions[name]) === Stack.of(each) && accessOf(name) === access).map((name) => logicalId(roleOf(stack.api.functions[name])))),
        ].sort();
        expect(expected.length).toBeGreaterThan(0);
        const trust = trustOf(logicalId(role));
        const principals = trust.flatMap((s) => list(s.Principal?.AWS)).map((p) => JSON.stringify(p));
        expect(principals.sort()).toEqual(expected.map((id) => JSON.stringify(arnOf(id))).sort());
        for (const statement of trust) {
          expect({ Effect: statement.Effect, Action: list(statement.Action).sort(), Condition: statement.Condition }).toEqual({
            Effect: 'Allow',
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Condition: { StringLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: '?*' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_SESSION_TAG] } },
          });
          expect(Object.keys(statement.Principal ?? {})).toEqual(['AWS']);
        }
      }
    }
  });
});

describe('the token routes', () => {
  test.each(tokenRoutes)('%s reaches the table only through its tenant role: no DynamoDB action of its own (a webhook: its verification reads), the role in its environment, AssumeRole and TagSession on it alone', (name) => {
    const fn = stack.api.functions[name];
    // Its grants on the audit trail's own table (its own records, and the reader's Query) are held to test/infra/audit.test.ts.
    const onAuditTrail = (s: { Resource?: unknown }): boolean => JSON.stringify(s.Resource).includes(`"${logicalId(stack.audit.table)}"`);
    const own = statementsOf(logicalId(roleOf(fn))).filter((s) => s.Effect === 'Allow' && !onAuditTrail(s) && !(isWebhookRoute(httpRoutes[name]) && s.Sid?.endsWith('WebhookRegistration')));
    expect(own.flatMap((s) => list(s.Action)).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    // Nor the table key (a lake route keeps its own grants on the lake's key).
    expect(own.filter((s) => JSON.stringify(s.Resource).includes(`"${logicalId(stack.data.key)}"`))).toEqual([]);
    const tenantRole = tenantRoleOf(name);
    const sts = own.filter((s) => list(s.Action).some((a) => a.startsWith('sts:')));
    expect(sts.map((s) => ({ Action: list(s.Action).sort(), Resource: s.Resource }))).toEqual([{ Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: arnOf(tenantRole) }]);
    const environment = (resource(logicalId(fn)).Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(environment[TENANT_TABLE_ROLE_ENV]).toEqual(arnOf(tenantRole));
  });
});

describe('the Shopify webhook, which learns its tenant from the shop', () => {
  test('exists, so the rule below is exercised', () => {
    expect(webhookRoutes).toEqual(['shopifyWebhook']);
  });

  test.each(webhookRoutes)('%s reads with its own role only what verifying a delivery needs: GetItem of shop registrations and connections, decrypted with the table key', (name) => {
    const own = statementsOf(logicalId(roleOf(stack.api.functions[name]))).filter((s) => s.Sid?.endsWith('WebhookRegistration'));
    expect(own.map((s) => ({ Sid: s.Sid, Action: s.Action, Resource: s.Resource, Condition: s.Condition }))).toEqual([
      {
        Sid: 'ReadWebhookRegistration',
        Action: 'dynamodb:GetItem',
        Resource: tableArn,
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${keys.shopRegistration('').pk}*`, keys.channels('*')] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
      },
      { Sid: 'DecryptWebhookRegistration', Action: 'kms:Decrypt', Resource: arnOf(logicalId(stack.data.key)), Condition: undefined },
    ]);
    const write = stack.api.tenantAccess.map((access) => access.roles.write).find((role) => role && Stack.of(role) === Stack.of(stack.api.functions[name]));
    expect(write && JSON.stringify(trustOf(logicalId(write)))).toContain(`"${logicalId(roleOf(stack.api.functions[name]))}"`);
  });
});

describe('the system keeps its own narrow roles', () => {
  const systemFunctions: [string, { role?: IConstruct }][] = [
    ['stream processor', stack.events.processor],
    ['route-not-found fallback', stack.api.fallback],
    ['health probe', stack.api.health],
    ...Object.entries(stack.schedules.functions).map(([name, fn]): [string, { role?: IConstruct }] => [`schedule ${name}`, fn]),
    ...Object.entries(stack.consumers.consumers).map(([name, c]): [string, { role?: IConstruct }] => [`consumer ${name}`, c.function]),
    ...Object.entries(stack.channels.schedules.functions).map(([name, fn]): [string, { role?: IConstruct }] => [`channel schedule ${name}`, fn]),
    ...Object.entries(stack.channels.consumers.consumers).map(([name, c]): [string, { role?: IConstruct }] => [`channel consumer ${name}`, c.function]),
    ...Object.entries(stack.channels.syncQueues).map(([name, q]): [string, { role?: IConstruct }] => [`sync worker ${name}`, q.function]),
    ['audit exporter', stack.audit.exporter],
  ];

  test('the list covers every function that is not a token route', () => {
    expect(systemFunctions.length + tokenRoutes.length + (Object.keys(httpRoutes) as RouteName[]).filter((name) => httpRoutes[name].table === 'none').length).toBe(
      resourcesOfType(json, 'AWS::Lambda::Function').length,
    );
  });

  test.each(systemFunctions)('%s is trusted by no tenant role, may assume none, and has no TENANT_TABLE_ROLE_ARN', (_name, fn) => {
    const roleId = logicalId(roleOf(fn));
    for (const tenantRoleId of tenantRoleIds) expect(JSON.stringify(trustOf(tenantRoleId))).not.toContain(`"${roleId}"`);
    expect(statementsOf(roleId).flatMap((s) => list(s.Action)).filter((a) => a.startsWith('sts:'))).toEqual([]);
    const fnId = logicalId(fn as IConstruct);
    const environment = (resource(fnId).Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(environment).not.toHaveProperty(TENANT_TABLE_ROLE_ENV);
  });

  test('the stream processor still reaches the table with its own role (its event markers)', () => {
    const actions = statementsOf(logicalId(roleOf(stack.events.processor))).flatMap((s) => list(s.Action));
    expect(actions.some((a) => a.startsWith('dynamodb:'))).toBe(true);
  });
});
