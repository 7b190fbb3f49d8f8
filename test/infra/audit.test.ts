import { AUDIT_EXPORT_PREFIX } from '../../functions/audit/export';
import { isWebhookRoute } from '../../functions/platform/routes';
import { AUDIT_TABLE, AUDIT_TABLE_NAME_ENV } from '../../functions/platform/table';
import { TENANT_LEADING_KEYS } from '../../functions/platform/keys';
import { entriesOf, httpRoutes } from '../../functions/wiring';
import { AUDIT_READ_ROUTES } from '../../lib/inventory-stack';
import { logicalId, resourcesOfType, roleOf, synthesized, type CfnTemplate } from './synth';

/**
 * The audit trail in AWS (issue 12): its own table that the route functions may only add records
 * to and only its reader may query, nobody may change or delete; and its export to the lake bucket
 * under audit/ with Object Lock, retention per object.
 */
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every Allow statement of every policy, with the roles it is attached to. */
const grants = (json: CfnTemplate): { roles: string[]; statement: Statement }[] =>
  Object.values(json.Resources).flatMap((resource) => {
    const props = resource.Properties ?? {};
    if (resource.Type !== 'AWS::IAM::Policy') return [];
    const roles = ((props.Roles as { Ref?: string }[] | undefined) ?? []).map((role) => role.Ref ?? JSON.stringify(role));
    return (props.PolicyDocument as { Statement: Statement[] }).Statement.filter((s) => s.Effect === 'Allow').map((statement) => ({ roles, statement }));
  });

describe('the audit trail in AWS', () => {
  const { json, stack } = synthesized();
  const tableId = logicalId(stack.audit.table);
  const onTrail = grants(json).filter(({ statement }) => JSON.stringify(statement.Resource).includes(`"${tableId}"`));
  const tokenRoutes = entriesOf(httpRoutes).filter(([, route]) => !isWebhookRoute(route));

  test('has a table of its own, keyed as the writer keys it, with a stream of new images, point-in-time recovery and deletion protection, kept on stack deletion', () => {
    const table = json.Resources[tableId];
    expect(table).toMatchObject({ Type: 'AWS::DynamoDB::GlobalTable', DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(table?.Properties?.KeySchema).toEqual([
      { AttributeName: AUDIT_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: AUDIT_TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    expect(table?.Properties?.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    expect(table?.Properties?.Replicas).toEqual([expect.objectContaining({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })]);
    expect(logicalId(stack.audit.table)).not.toBe(logicalId(stack.data.table));
  });

  test('no function may change or delete a record: the only action any policy grants on the trail but reading it is PutItem', () => {
    const streamActions = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];
    expect(onTrail.length).toBeGreaterThan(0);
    for (const { roles, statement } of onTrail) {
      const actions = list(statement.Action);
      if (actions.some((action) => streamActions.includes(action))) {
        // Reading the stream (the exporter's event source) is on the stream's ARN, and the exporter's alone.
        expect(actions.every((action) => streamActions.includes(action))).toBe(true);
        expect(JSON.stringify(statement.Resource)).toContain('StreamArn');
        expect(roles).toEqual([logicalId(roleOf(stack.audit.exporter))]);
      } else {
        for (const action of actions) expect(['dynamodb:PutItem', 'dynamodb:Query']).toContain(action);
      }
    }
    for (const { statement } of grants(json)) for (const action of list(statement.Action)) expect(action).not.toBe('dynamodb:*');
  });

  test('the roles that may put records are exactly the token routes\' (no consumer, schedule or the exporter)', () => {
    const putters = new Set(onTrail.filter(({ statement }) => list(statement.Action).includes('dynamodb:PutItem')).flatMap(({ roles }) => roles));
    const routeRoles = new Set(tokenRoutes.map(([name]) => logicalId(roleOf(stack.api.functions[name]))));
    // The tenant sessions' write roles too: a change's one transaction carries its record, sent as the tenant.
    const tenantWriteRoles = stack.api.tenantAccess.flatMap((access) => (access.roles.write ? [logicalId(access.roles.write)] : []));
    expect(tenantWriteRoles.length).toBeGreaterThan(0);
    expect([...putters].sort()).toEqual([...routeRoles, ...tenantWriteRoles].sort());
    expect(putters.has(logicalId(roleOf(stack.audit.exporter)))).toBe(false);
    expect(putters.has(logicalId(roleOf(stack.events.processor)))).toBe(false);
  });

  test('a tenant session may put records only under its own tenant\'s keys', () => {
    const tenantWriteRoles = stack.api.tenantAccess.flatMap((access) => (access.roles.write ? [logicalId(access.roles.write)] : []));
    const ofTenants = onTrail.filter(({ roles }) => roles.some((role) => tenantWriteRoles.includes(role)));
    expect(ofTenants.length).toBe(tenantWriteRoles.length);
    for (const { statement } of ofTenants) {
      expect(list(statement.Action)).toEqual(['dynamodb:PutItem']);
      expect(statement).toHaveProperty('Condition', { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [TENANT_LEADING_KEYS] }, Null: { 'dynamodb:LeadingKeys': 'false' } });
    }
  });

  test('only the trail\'s reader may query it', () => {
    const readers = new Set(onTrail.filter(({ statement }) => list(statement.Action).includes('dynamodb:Query')).flatMap(({ roles }) => roles));
    expect([...readers].sort()).toEqual(AUDIT_READ_ROUTES.map((name) => logicalId(roleOf(stack.api.functions[name]))).sort());
  });

  test.each(tokenRoutes.map(([name]) => name))('%s is told the trail\'s table', (name) => {
    const fn = json.Resources[logicalId(stack.api.functions[name])];
    const variables = (fn?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[AUDIT_TABLE_NAME_ENV]).toEqual({ Ref: tableId });
  });

  test('the exporter reads the trail\'s stream and may only put (with retention) objects under audit/ in the lake bucket', () => {
    const exporterId = logicalId(stack.audit.exporter);
    const [mapping] = resourcesOfType(json, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties?.FunctionName).includes(`"${exporterId}"`));
    expect(JSON.stringify(mapping?.[1].Properties?.EventSourceArn)).toContain(`"${tableId}"`);
    const bucketId = logicalId(stack.lake.bucket);
    const roleId = logicalId(roleOf(stack.audit.exporter));
    const onBucket = grants(json).filter(({ roles, statement }) => roles.includes(roleId) && JSON.stringify(statement.Resource).includes(`"${bucketId}"`));
    expect(onBucket.map(({ statement }) => ({ Action: statement.Action, Resource: statement.Resource }))).toEqual([
      { Action: ['s3:PutObject', 's3:PutObjectRetention'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${AUDIT_EXPORT_PREFIX}*`]] } },
    ]);
  });

  test('nobody may bypass or shorten a lock: no policy grants s3:BypassGovernanceRetention', () => {
    for (const { statement } of grants(json)) for (const action of list(statement.Action)) expect(action).not.toMatch(/^s3:(BypassGovernanceRetention|\*)$/);
  });

  test('the lake bucket has Object Lock enabled with no default retention: only the exporter\'s objects are locked, each with its own date', () => {
    const bucket = json.Resources[logicalId(stack.lake.bucket)];
    expect(bucket?.Properties?.ObjectLockEnabled).toBe(true);
    expect(bucket?.Properties?.ObjectLockConfiguration).toBeUndefined();
  });
});
