import { demandImportKeys } from '../../functions/forecasting/imports';
import { eventConsumers, httpRoutes, lakeTables, type EventConsumer, type RouteName } from '../../functions/wiring';
import { DEMAND_IMPORTS_PREFIX } from '../../functions/platform/lake-objects';
import { LAKE_IMPORT_ROUTES, LAKE_QUERY_ROUTES } from '../../lib/inventory-stack';
import { LAKE_CLOSE_SCHEDULES, LAKE_SCHEDULES } from '../../lib/schedules';
import { LAKE_CONSUMERS } from '../../lib/consumers';

import { logicalId, roleOf, resourcesOfType, synthesized, type CfnTemplate } from './synth';

/** A consumer's declared lake access (the wiring's `as const` entries type it only where it is set). */
const lakeOf = (name: string): EventConsumer['lake'] => (name in eventConsumers ? (eventConsumers[name as keyof typeof eventConsumers] as EventConsumer).lake : undefined);

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
  const auditTableId = logicalId(stack.audit.table);

  /** The roles a role may assume (its sts:AssumeRole statements' resources): a token route's tenant role (lib/tenant-access.ts). */
  const assumedRoleIds = (statements: Statement[]): string[] =>
    statements
      .filter((s) => list(s.Action).includes('sts:AssumeRole'))
      .flatMap((s) => list(s.Resource))
      .flatMap((resource) => {
        const getAtt = /^\{"Fn::GetAtt":\["([^"]+)","Arn"\]\}$/.exec(JSON.stringify(resource));
        return getAtt?.[1] ? [getAtt[1]] : [];
      });

  /** What a route's function can do: its role's grants and those of the tenant role it reaches the table through. */
  const grantsOf = (name: RouteName) => {
    const role = stack.api.functions[name].role;
    if (!role) throw new Error(`${name} has no role`);
    const roleId = logicalId(role);
    // The audit trail's own table (PutItem for every token route, Query for its reader) is held to test/infra/audit.test.ts.
    const allowed = (id: string) => roleStatements(json, id).filter((s) => s.Effect === 'Allow' && !JSON.stringify(s.Resource).includes(`"${auditTableId}"`));
    const own = allowed(roleId);
    const statements = [...own, ...assumedRoleIds(own).flatMap(allowed)];
    const actions = new Set(statements.flatMap((s) => list(s.Action)));
    const managed = JSON.stringify(json.Resources[roleId]?.Properties?.ManagedPolicyArns ?? []);
    return { statements, actions, managed };
  };

  const routesWith = (table: 'none' | 'read' | 'write'): RouteName[] =>
    (Object.keys(httpRoutes) as RouteName[]).filter((name) => httpRoutes[name].table === table);

  test("the health route's function may describe the table and read nothing of it: no item action, no key, no tenant role", () => {
    const statements = roleStatements(json, logicalId(roleOf(stack.api.health))).filter((s) => s.Effect === 'Allow');
    const actions = statements.flatMap((s) => list(s.Action));
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:DescribeTable']);
    expect(actions.filter((a) => /^(kms|sts|s3|secretsmanager):/.test(a))).toEqual([]);
    expect(JSON.stringify(statements.filter((s) => list(s.Action).includes('dynamodb:DescribeTable')))).toContain(`"${tableId}"`);
  });

  test('the wiring declares routes of every access level, so each rule below is exercised', () => {
    expect(routesWith('read').length).toBeGreaterThan(0);
    expect(routesWith('write').length).toBeGreaterThan(0);
    expect(routesWith('none').length).toBeGreaterThan(0);
  });

  const lakeKeyId = logicalId(stack.lake.key);
  const lakeKeyArn = `{"Fn::GetAtt":["${lakeKeyId}","Arn"]}`;
  const isLakeQueryRoute = (name: RouteName): boolean => (LAKE_QUERY_ROUTES as readonly RouteName[]).includes(name);
  const isLakeImportRoute = (name: RouteName): boolean => (LAKE_IMPORT_ROUTES as readonly RouteName[]).includes(name);
  /** A function's KMS statements on the table key (its own data) and on the lake key (the report routes' Athena results). */
  const kmsStatementsOf = (name: RouteName) => {
    const kms = grantsOf(name).statements.filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
    const onLakeKey = kms.filter((s) => list(s.Resource).map((r) => JSON.stringify(r)).includes(lakeKeyArn));
    return { onTableKey: kms.filter((s) => !onLakeKey.includes(s)), onLakeKey };
  };

  test.each(routesWith('read'))('%s (table: read) can read the table and its index but has no DynamoDB write action and cannot encrypt with the table key', (name) => {
    const { actions } = grantsOf(name);
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'kms:Decrypt']) expect(actions).toContain(action);
    for (const action of WRITE_ACTIONS) expect(actions).not.toContain(action);
    for (const statement of kmsStatementsOf(name).onTableKey)
      for (const action of list(statement.Action)) expect(action).not.toMatch(/^kms:(Encrypt|GenerateDataKey|ReEncrypt)/);
  });

  test('the routes that query the lake are routes of the reports context that never write the table, and no other route but the imports holds a lake-key grant', () => {
    for (const name of LAKE_QUERY_ROUTES) {
      expect(['read', 'none']).toContain(httpRoutes[name].table);
      expect(httpRoutes[name].entry).toMatch(/^functions\/reports\//);
    }
    for (const name of Object.keys(httpRoutes) as RouteName[]) if (!isLakeQueryRoute(name) && !isLakeImportRoute(name)) expect(kmsStatementsOf(name).onLakeKey).toEqual([]);
  });

  test.each([...LAKE_IMPORT_ROUTES])(
    '%s (lake: import) may put objects under the demand imports prefix and encrypt them with the lake key through S3, and nothing else of the lake',
    (name) => {
      expect(LAKE_IMPORT_ROUTES.length).toBeGreaterThan(0);
      expect(httpRoutes[name].table).not.toBe('write');
      const bucketId = logicalId(stack.lake.bucket);
      const { statements } = grantsOf(name);
      const onLake = statements.filter((s) => JSON.stringify(s.Resource).includes(`"${bucketId}"`) || list(s.Resource).map((r) => JSON.stringify(r)).includes(lakeKeyArn));
      expect(onLake.map((s) => ({ Action: s.Action, Resource: s.Resource, Condition: (s as { Condition?: unknown }).Condition }))).toEqual([
        { Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${DEMAND_IMPORTS_PREFIX}*`]] }, Condition: undefined },
        { Action: 'kms:GenerateDataKey', Resource: { 'Fn::GetAtt': [lakeKeyId, 'Arn'] }, Condition: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } } },
      ]);
      for (const statement of statements) for (const action of list(statement.Action)) expect(action).not.toMatch(/^(athena|glue|firehose):/);
      const env = JSON.stringify(json.Resources[logicalId(stack.api.functions[name])]?.Properties?.Environment);
      expect(env).toContain('"LAKE_BUCKET"');
      // What the import writes (functions/forecasting/imports.ts) is what is granted, and lies outside every lake table's location.
      const key = demandImportKeys.object('t-1', '01J0000000000000000000000A');
      expect(key.startsWith(DEMAND_IMPORTS_PREFIX)).toBe(true);
      for (const { table } of lakeTables) expect(key.startsWith(`${table}/`)).toBe(false);
    },
  );

  test('the functions with any lake grant (the lake key or bucket, Athena, Glue) are exactly the lake query and import routes and the schedules and consumers that declare lake access', () => {
    const { fallback } = stack.api;
    const functions = [
      ...Object.entries(stack.api.functions).map(([name, fn]) => [`route ${name}`, fn] as const),
      ['fallback route', fallback] as const,
      ['health route', stack.api.health] as const,
      ['stream processor', stack.events.processor] as const,
      ['audit exporter', stack.audit.exporter] as const,
      ...Object.entries(stack.schedules.functions).map(([name, fn]) => [`schedule ${name}`, fn] as const),
      ...Object.entries(stack.consumers.consumers).map(([name, c]) => [`consumer ${name}`, c.function] as const),
      ...Object.entries(stack.channels.schedules.functions).map(([name, fn]) => [`channel schedule ${name}`, fn] as const),
      ...Object.entries(stack.channels.consumers.consumers).map(([name, c]) => [`channel consumer ${name}`, c.function] as const),
      ...Object.entries(stack.channels.syncQueues).map(([name, q]) => [`sync queue ${name}`, q.function] as const),
    ];
    expect(functions).toHaveLength(resourcesOfType(json, 'AWS::Lambda::Function').length);
    const lakeIds = [lakeKeyId, logicalId(stack.lake.bucket), logicalId(stack.lake.resultsBucket)];
    const withLakeGrants = functions
      .filter(([, fn]) => {
        const statements = roleStatements(json, logicalId(roleOf(fn))).filter((s) => s.Effect === 'Allow');
        const text = JSON.stringify(statements);
        return lakeIds.some((id) => text.includes(`"${id}"`)) || statements.some((s) => list(s.Action).some((a) => /^(athena|glue|firehose):/.test(a)));
      })
      .map(([name]) => name);
    expect(withLakeGrants.sort()).toEqual(
      [
        ...LAKE_QUERY_ROUTES.map((name) => `route ${name}`),
        ...LAKE_IMPORT_ROUTES.map((name) => `route ${name}`),
        ...LAKE_SCHEDULES.map((name) => `schedule ${name}`),
        ...LAKE_CONSUMERS.map((name) => `consumer ${name}`),
        // It writes the trail's Object Lock'ed copy under audit/ (test/infra/audit.test.ts).
        'audit exporter',
      ].sort(),
    );
  });

  test('only the Firehose delivery roles, the lake close, the demand-history import, the forecast planner and the audit exporter may write or delete objects in the lake bucket', () => {
    const bucketId = logicalId(stack.lake.bucket);
    const writers = Object.values(json.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) =>
        (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement.some(
          (s) => s.Effect === 'Allow' && list(s.Action).some((a) => /^s3:(Put|Delete|\*)/.test(a)) && JSON.stringify(s.Resource).includes(`"${bucketId}"`),
        ),
      )
      .flatMap((r) => (r.Properties?.Roles as { Ref: string }[]).map((role) => role.Ref));
    const expected = [
      ...Object.values(stack.lake.datasets).map((dataset) => logicalId(dataset.deliveryRole)),
      ...LAKE_CLOSE_SCHEDULES.map((name) => logicalId(roleOf(stack.schedules.functions[name]))),
      ...LAKE_CONSUMERS.filter((name) => lakeOf(name) === 'forecast-plan').map((name) => logicalId(roleOf(stack.consumers.consumers[name].function))),
      ...LAKE_IMPORT_ROUTES.map((name) => logicalId(roleOf(stack.api.functions[name]))),
      logicalId(roleOf(stack.audit.exporter)),
    ];
    expect(LAKE_CLOSE_SCHEDULES.length).toBeGreaterThan(0);
    expect([...new Set(writers)].sort()).toEqual(expected.sort());
  });

  test.each([...LAKE_CONSUMERS, ...LAKE_SCHEDULES.filter((name) => !LAKE_CLOSE_SCHEDULES.includes(name))])(
    '%s touches the lake through S3 only: no Athena, Glue or delete, and it writes nothing but a forecasting run\'s chunks (forecast/)',
    (name) => {
      const fn = name in stack.consumers.consumers ? stack.consumers.consumers[name as keyof typeof stack.consumers.consumers].function : stack.schedules.functions[name as keyof typeof stack.schedules.functions];
      const statements = roleStatements(json, logicalId(roleOf(fn))).filter((s) => s.Effect === 'Allow');
      const actions = statements.flatMap((s) => list(s.Action));
      expect(actions.filter((a) => /^(athena|glue|firehose):|^s3:Delete/.test(a))).toEqual([]);
      const writes = statements.filter((s) => list(s.Action).some((a) => /^s3:Put/.test(a)));
      for (const statement of writes) expect(JSON.stringify(statement.Resource)).toMatch(/"\/forecast\/\*"/);
      expect(writes.length).toBe(lakeOf(name) === 'forecast-plan' ? 1 : 0);
    },
  );

  test.each([...LAKE_QUERY_ROUTES])(
    '%s may use the lake key exactly for Athena results through S3: one statement, kms:Decrypt and kms:GenerateDataKey, only via S3 in this region',
    (name) => {
      const { onLakeKey } = kmsStatementsOf(name);
      expect(onLakeKey).toHaveLength(1);
      const [statement] = onLakeKey;
      expect(list(statement?.Action ?? []).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(list(statement?.Resource).map((r) => JSON.stringify(r))).toEqual([lakeKeyArn]);
      expect(statement).toMatchObject({ Condition: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } } });
      // Athena itself: start, poll and read queries in the one workgroup, nothing else of Athena.
      const athena = grantsOf(name).statements.filter((s) => list(s.Action).some((a) => a.startsWith('athena:')));
      expect(athena.flatMap((s) => list(s.Action)).sort()).toEqual(['athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StartQueryExecution']);
      expect(JSON.stringify(athena.map((s) => s.Resource))).toContain(`:workgroup/${stack.lake.workGroupName}"`);
      // Glue: read the database and the lake tables only.
      const glue = grantsOf(name).statements.filter((s) => list(s.Action).some((a) => a.startsWith('glue:')));
      expect(glue.flatMap((s) => list(s.Action)).sort()).toEqual(['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable']);
      expect(JSON.stringify(glue.map((s) => s.Resource))).not.toContain('*');
    },
  );

  test.each(routesWith('write'))('%s (table: write) can write the table (put, update, delete, condition-check, batch)', (name) => {
    const { actions } = grantsOf(name);
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:BatchWriteItem', 'kms:GenerateDataKey*'])
      expect(actions).toContain(action);
    for (const action of ['dynamodb:CreateTable', 'dynamodb:DeleteTable', 'dynamodb:UpdateTable']) expect(actions).not.toContain(action);
  });

  test.each(routesWith('none'))('%s (table: none) has no DynamoDB action, and no KMS action but a lake query route\'s on the lake key', (name) => {
    const { actions } = grantsOf(name);
    for (const action of actions) expect(action).not.toMatch(/^dynamodb:/);
    expect(kmsStatementsOf(name).onTableKey).toEqual([]);
    if (!isLakeQueryRoute(name)) for (const action of actions) expect(action).not.toMatch(/^kms:/);
  });

  test.each(Object.keys(httpRoutes) as RouteName[])('%s: DynamoDB actions reach only the table and its indexes, KMS actions only the table key', (name) => {
    const { statements, managed } = grantsOf(name);
    for (const statement of statements) {
      const actions = list(statement.Action);
      const resources = list(statement.Resource).map((r) => JSON.stringify(r));
      if (actions.some((a) => a.startsWith('dynamodb:')))
        for (const resource of resources)
          expect([`{"Fn::GetAtt":["${tableId}","Arn"]}`, `{"Fn::Join":["",[{"Fn::GetAtt":["${tableId}","Arn"]},"/index/*"]]}`]).toContain(resource);
      // KMS: the table key; for the lake query routes also the lake key (that exception is pinned above).
      if (actions.some((a) => a.startsWith('kms:')))
        expect(resources).toEqual((isLakeQueryRoute(name) || isLakeImportRoute(name)) && resources.includes(lakeKeyArn) ? [lakeKeyArn] : [`{"Fn::GetAtt":["${keyId}","Arn"]}`]);
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
    // sns:Publish on "*" only for the two notifiers, stock alerts' and operational alerts' (test/infra/notifications.test.ts checks whose roles).
    const smsStatements = allStatements(json).filter((st) => list(st.Action).includes('sns:Publish') && list(st.Resource).includes('*'));
    expect(smsStatements).toHaveLength(2);
  });

  test('the template has no IAM users, groups or managed policies of its own', () => {
    for (const type of ['AWS::IAM::User', 'AWS::IAM::Group', 'AWS::IAM::ManagedPolicy']) expect(resourcesOfType(json, type)).toEqual([]);
  });
});
