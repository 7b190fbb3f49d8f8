import { dbFromEnv } from '../../functions/platform/db';
import { registerUser } from '../../functions/identity/users';
import { ExecuteStatementCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  ExecuteTransactionCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { HttpEvent } from '../../functions/platform/http';
import { httpHandler } from '../../functions/platform/http';
import { lambdaContext } from '../../bin/local/lambda-context';
import { CLAIMS } from '../../functions/platform/permissions';
import { keys, SYSTEM_PARTITIONS_OF_REQUESTS, type Key } from '../../functions/platform/keys';
import { getItem } from '../../functions/platform/storage';
import { TABLE } from '../../functions/platform/table';
import { inTenantScope, TenantIsolationBreach } from '../../functions/platform/tenant-guard';
import { httpRoutes } from '../../functions/wiring';
import { captureOutput } from '../support/capture';
import { newTenantId } from '../support/api';
import { testDb } from '../support/domain';

/**
 * The tenant guard on the DynamoDB client (functions/platform/tenant-guard.ts), against DynamoDB
 * Local: inside a tenant's scope every kind of call that names another tenant's key is refused
 * before it leaves the process; the tenant's own calls, the system outside any scope, and the
 * allow-listed system partitions go through. What the client sends is counted on the wire side
 * of the guard, so "nothing is sent" is observed, not assumed.
 */
const db = testDb();
const captured = captureOutput();

/** Calls that reached the wire stage (after the guard, before signing and sending). */
let sent = 0;
db.client.middlewareStack.add(
  (next) => async (args) => {
    sent += 1;
    return next(args);
  },
  { step: 'finalizeRequest', priority: 'low', name: 'countSent' },
);
afterAll(() => db.client.destroy());

const mine = newTenantId();
const theirs = newTenantId();
const ownKey = (sk: string): Key => keys.sku(mine, sk);
const theirKey = (sk: string): Key => keys.sku(theirs, sk);
const table = db.table;

/** Writes as the system (no scope), which the guard does not check. */
const seed = async (key: Key, extra: Record<string, unknown> = {}): Promise<void> => {
  await db.client.send(new PutCommand({ TableName: table, Item: { ...key, tenant_id: key.pk.split('#')[1], name: key.pk.startsWith(`T#${mine}#`) ? 'mine' : 'theirs', ...extra } }));
};
const read = async (key: Key): Promise<Record<string, unknown> | undefined> => (await db.client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

beforeAll(async () => {
  await seed(theirKey('a'));
  await seed(theirKey('b'));
  await seed(ownKey('a'));
  await seed(ownKey('b'));
  await db.client.send(new PutCommand({ TableName: table, Item: { ...theirKey('indexed'), gsi1pk: keys.skusOfProductIndex(theirs, 'p'), gsi1sk: 'indexed' } }));
});

/** What one call does inside `mine`'s scope: the breach it is refused with, or 'sent', with how many calls reached the wire. */
const inMyScope = async (call: () => Promise<unknown>): Promise<{ outcome: string; wire: number }> => {
  const before = sent;
  try {
    await inTenantScope(mine, call);
    return { outcome: 'sent', wire: sent - before };
  } catch (error) {
    if (error instanceof TenantIsolationBreach) return { outcome: `breach:${error.operation}`, wire: sent - before };
    throw error;
  }
};

const refused = (operation: string) => ({ outcome: `breach:${operation}`, wire: 0 });

describe("inside a tenant's scope, a key built for another tenant", () => {
  const crossing: [string, string, () => Promise<unknown>][] = [
    ['GetItem', 'a get', () => db.client.send(new GetCommand({ TableName: table, Key: theirKey('a') }))],
    ['PutItem', 'a put', () => db.client.send(new PutCommand({ TableName: table, Item: { ...theirKey('put'), name: 'x' } }))],
    ['UpdateItem', 'an update', () => db.client.send(new UpdateCommand({ TableName: table, Key: theirKey('a'), UpdateExpression: 'SET #n = :n', ExpressionAttributeNames: { '#n': 'name' }, ExpressionAttributeValues: { ':n': 'changed' } }))],
    ['DeleteItem', 'a delete', () => db.client.send(new DeleteCommand({ TableName: table, Key: theirKey('b') }))],
    ['BatchGetItem', 'a batch get with one of its keys theirs', () => db.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [ownKey('a'), theirKey('a')] } } }))],
    ['BatchWriteItem', 'a batch put with one of its items theirs', () => db.client.send(new BatchWriteCommand({ RequestItems: { [table]: [{ PutRequest: { Item: { ...ownKey('bw'), name: 'x' } } }, { PutRequest: { Item: { ...theirKey('bw'), name: 'x' } } }] } }))],
    ['BatchWriteItem', 'a batch delete of theirs', () => db.client.send(new BatchWriteCommand({ RequestItems: { [table]: [{ DeleteRequest: { Key: theirKey('b') } }] } }))],
    ['TransactGetItems', 'a transactional get', () => db.client.send(new TransactGetCommand({ TransactItems: [{ Get: { TableName: table, Key: ownKey('a') } }, { Get: { TableName: table, Key: theirKey('a') } }] }))],
    ['TransactWriteItems', 'a transaction whose put is theirs', () => db.client.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: table, Item: { ...ownKey('tw'), name: 'x' } } }, { Put: { TableName: table, Item: { ...theirKey('tw'), name: 'x' } } }] }))],
    ['TransactWriteItems', 'a transaction whose update is theirs', () => db.client.send(new TransactWriteCommand({ TransactItems: [{ Update: { TableName: table, Key: theirKey('a'), UpdateExpression: 'SET #n = :n', ExpressionAttributeNames: { '#n': 'name' }, ExpressionAttributeValues: { ':n': 'changed' } } }] }))],
    ['TransactWriteItems', 'a transaction whose delete is theirs', () => db.client.send(new TransactWriteCommand({ TransactItems: [{ Delete: { TableName: table, Key: theirKey('b') } }] }))],
    ['TransactWriteItems', 'a transaction whose condition check is theirs', () => db.client.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: table, Item: { ...ownKey('cc'), name: 'x' } } }, { ConditionCheck: { TableName: table, Key: theirKey('a'), ConditionExpression: 'attribute_exists(pk)' } }] }))],
    ['Query', 'a query of their partition', () => db.client.send(new QueryCommand({ TableName: table, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' }, ExpressionAttributeValues: { ':pk': keys.skus(theirs) } }))],
    ['Query', 'a query naming the partition key without a placeholder name', () => db.client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)', ExpressionAttributeValues: { ':pk': keys.skus(theirs), ':s': 'a' } }))],
    ['Query', 'a query of their index partition (gsi1pk)', () => db.client.send(new QueryCommand({ TableName: table, IndexName: TABLE.gsi1.name, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': TABLE.gsi1.partitionKey }, ExpressionAttributeValues: { ':pk': keys.skusOfProductIndex(theirs, 'p') } }))],
    ['Query', 'a query of my partition that resumes at their key', () => db.client.send(new QueryCommand({ TableName: table, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' }, ExpressionAttributeValues: { ':pk': keys.skus(mine) }, ExclusiveStartKey: theirKey('a') }))],
    ['PutItem', 'a low-level (marshalled) put', () => db.client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: theirKey('raw').pk }, sk: { S: 'raw' } } }))],
  ];

  test.each(crossing)('is refused on %s (%s), and nothing is sent', async (operation, _what, command) => {
    expect(await inMyScope(command)).toEqual(refused(operation));
  });

  test('leaves their items as they were: nothing put, changed or deleted', async () => {
    expect(await read(theirKey('a'))).toMatchObject({ name: 'theirs' });
    expect(await read(theirKey('b'))).toMatchObject({ name: 'theirs' });
    for (const sk of ['put', 'bw', 'tw', 'raw']) expect(await read(theirKey(sk))).toBeUndefined();
    // The refused batch and transactions were refused whole: their own halves were not written either.
    for (const sk of ['bw', 'tw', 'cc']) expect(await read(ownKey(sk))).toBeUndefined();
  });

  test('is logged once as a security event, naming the tenant and the operation', async () => {
    captured.logged.length = 0;
    await inMyScope(() => db.client.send(new GetCommand({ TableName: table, Key: theirKey('a') })));
    const events = captured.logged.flatMap((line) => line.split('\n')).filter((line) => line.includes('tenant_isolation_breach')).map((line) => JSON.parse(line));
    expect(events).toEqual([expect.objectContaining({ level: 'ERROR', security_event: 'tenant_isolation_breach', tenant_id: mine, operation: 'GetItem' })]);
  });
});

describe("inside a tenant's scope, calls that cannot be checked by key are refused", () => {
  test.each([
    ['Scan', () => db.client.send(new ScanCommand({ TableName: table, Limit: 1 }))],
    ['ExecuteStatement', () => db.client.send(new ExecuteStatementCommand({ Statement: `SELECT * FROM "${table}" WHERE pk = ?`, Parameters: [{ S: keys.skus(mine) }] }))],
    ['BatchExecuteStatement', () => db.client.send(new BatchExecuteStatementCommand({ Statements: [{ Statement: `SELECT * FROM "${table}" WHERE pk = ? AND sk = ?`, Parameters: [keys.skus(mine), 'a'] }] }))],
    ['ExecuteTransaction', () => db.client.send(new ExecuteTransactionCommand({ TransactStatements: [{ Statement: `SELECT * FROM "${table}" WHERE pk = ? AND sk = ?`, Parameters: [keys.skus(mine), 'a'] }] }))],
  ] as const)('%s, even of the tenant\'s own partition', async (operation, command) => {
    expect(await inMyScope(command)).toEqual(refused(operation));
  });

  test('a query of an index the table does not have', async () => {
    const command = new QueryCommand({ TableName: table, IndexName: 'gsi9', KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'gsi9pk' }, ExpressionAttributeValues: { ':pk': keys.skus(mine) } });
    expect(await inMyScope(() => db.client.send(command))).toEqual(refused('Query'));
  });

  test('a query whose key condition names the wrong attribute as its partition (sk = a tenant-looking value)', async () => {
    const command = new QueryCommand({ TableName: table, IndexName: TABLE.gsi1.name, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' }, ExpressionAttributeValues: { ':pk': keys.skus(mine) } });
    expect(await inMyScope(() => db.client.send(command))).toEqual(refused('Query'));
  });
});

describe("inside a tenant's scope, the tenant's own keys", () => {
  test('go through for every kind of call, reads and writes alike', async () => {
    const calls: (() => Promise<unknown>)[] = [
      () => db.client.send(new GetCommand({ TableName: table, Key: ownKey('a') })),
      () => db.client.send(new PutCommand({ TableName: table, Item: { ...ownKey('own-put'), name: 'x' } })),
      () => db.client.send(new UpdateCommand({ TableName: table, Key: ownKey('a'), UpdateExpression: 'SET #n = :n', ExpressionAttributeNames: { '#n': 'name' }, ExpressionAttributeValues: { ':n': 'mine, updated' } })),
      () => db.client.send(new DeleteCommand({ TableName: table, Key: ownKey('own-put') })),
      () => db.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [ownKey('a'), ownKey('b')] } } })),
      () => db.client.send(new BatchWriteCommand({ RequestItems: { [table]: [{ PutRequest: { Item: { ...ownKey('own-bw'), name: 'x' } } }, { DeleteRequest: { Key: ownKey('own-bw-gone') } }] } })),
      () => db.client.send(new TransactGetCommand({ TransactItems: [{ Get: { TableName: table, Key: ownKey('a') } }] })),
      () => db.client.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: table, Item: { ...ownKey('own-tw'), name: 'x' } } }, { ConditionCheck: { TableName: table, Key: ownKey('b'), ConditionExpression: 'attribute_exists(pk)' } }] })),
      () => db.client.send(new QueryCommand({ TableName: table, KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi', ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' }, ExpressionAttributeValues: { ':pk': keys.skus(mine), ':lo': 'a', ':hi': 'z' }, ExclusiveStartKey: ownKey('a') })),
      () => db.client.send(new QueryCommand({ TableName: table, IndexName: TABLE.gsi1.name, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': TABLE.gsi1.partitionKey }, ExpressionAttributeValues: { ':pk': keys.skusOfProductIndex(mine, 'p') } })),
    ];
    const outcomes = [];
    for (const command of calls) outcomes.push((await inMyScope(command)).outcome);
    expect(outcomes).toEqual(calls.map(() => 'sent'));
    expect(await read(ownKey('a'))).toMatchObject({ name: 'mine, updated' });
    expect(await read(ownKey('own-tw'))).toMatchObject({ name: 'x' });
  });

  test('of a tenant whose id begins like another\'s are still another tenant', async () => {
    // `T#<mine>x#...` starts with `T#<mine>` but not with `T#<mine>#`.
    const lookalike = keys.sku(`${mine}x`, 'a');
    expect(await inMyScope(() => db.client.send(new GetCommand({ TableName: table, Key: lookalike })))).toEqual(refused('GetItem'));
  });

  test('through the storage helpers the domain uses, exactly as directly', async () => {
    const found = await inTenantScope(mine, () => getItem(db, ownKey('b'), (item) => item.name));
    expect(found).toBe('mine');
    await expect(inTenantScope(mine, () => getItem(db, theirKey('b'), (item) => item.name))).rejects.toBeInstanceOf(TenantIsolationBreach);
  });
});

describe('outside any tenant scope (the system: schedules, consumers, the stream processor)', () => {
  test('every tenant and every operation is reachable, as before', async () => {
    expect((await db.client.send(new GetCommand({ TableName: table, Key: theirKey('a') }))).Item).toMatchObject({ name: 'theirs' });
    const scanned = await db.client.send(new ScanCommand({ TableName: table, Limit: 1 }));
    expect(scanned.$metadata.httpStatusCode).toBe(200);
    const holds = await db.client.send(new QueryCommand({ TableName: table, IndexName: TABLE.gsi1.name, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': TABLE.gsi1.partitionKey }, ExpressionAttributeValues: { ':pk': keys.holdShards()[0] }, Limit: 1 }));
    expect(holds.$metadata.httpStatusCode).toBe(200);
  });

  test('work the scope started is still checked: the scope follows its promises and timers', async () => {
    const later = inTenantScope(mine, async () => new Promise<void>((resolve) => setImmediate(resolve)).then(() => db.client.send(new GetCommand({ TableName: table, Key: theirKey('a') }))));
    await expect(later).rejects.toBeInstanceOf(TenantIsolationBreach);
  });
});

describe('the allow-listed system partitions (keys.ts SYSTEM_PARTITIONS_OF_REQUESTS)', () => {
  const shop = keys.shopRegistration(`${mine}.myshopify.com`);

  test('is exactly the shop registration', () => {
    expect(SYSTEM_PARTITIONS_OF_REQUESTS.map((system) => system.name)).toEqual(['shop registration']);
  });

  test("a shop registration is put, read, checked and deleted from a tenant's scope", async () => {
    const outcomes = [
      await inMyScope(() => db.client.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: table, Item: { ...shop, tenant_id: mine, owner_tenant_id: mine, channel_id: 'c' } } }, { Put: { TableName: table, Item: { ...ownKey('with-shop'), name: 'x' } } }] }))),
      await inMyScope(() => db.client.send(new GetCommand({ TableName: table, Key: shop }))),
      await inMyScope(() => db.client.send(new TransactWriteCommand({ TransactItems: [{ ConditionCheck: { TableName: table, Key: shop, ConditionExpression: 'attribute_exists(pk)' } }, { Put: { TableName: table, Item: { ...ownKey('with-shop'), name: 'y' } } }] }))),
      await inMyScope(() => db.client.send(new DeleteCommand({ TableName: table, Key: shop }))),
    ];
    expect(outcomes.map((each) => each.outcome)).toEqual(['sent', 'sent', 'sent', 'sent']);
    expect(await read(shop)).toBeUndefined();
  });

  test('nothing else of a system partition is: another sort key under SHOP#, a query of a shop, the hold shards, the connection index', async () => {
    const outcomes = [
      await inMyScope(() => db.client.send(new GetCommand({ TableName: table, Key: { pk: shop.pk, sk: 'SOMETHING-ELSE' } }))),
      await inMyScope(() => db.client.send(new QueryCommand({ TableName: table, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' }, ExpressionAttributeValues: { ':pk': shop.pk } }))),
      await inMyScope(() => db.client.send(new QueryCommand({ TableName: table, IndexName: TABLE.gsi1.name, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': TABLE.gsi1.partitionKey }, ExpressionAttributeValues: { ':pk': keys.holdShards()[0] } }))),
      await inMyScope(() => db.client.send(new QueryCommand({ TableName: table, IndexName: TABLE.gsi1.name, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': TABLE.gsi1.partitionKey }, ExpressionAttributeValues: { ':pk': keys.connectionsOfPlatform('shopify') } }))),
      await inMyScope(() => db.client.send(new GetCommand({ TableName: table, Key: { pk: keys.holdShards()[0] ?? '', sk: 'x' } }))),
    ];
    expect(outcomes).toEqual([refused('GetItem'), refused('Query'), refused('Query'), refused('Query'), refused('GetItem')]);
  });
});

describe('a breach inside a route (httpHandler)', () => {
  const tokenEvent = (tenantId: string): HttpEvent => {
    const now = new Date();
    return {
      version: '2.0',
      routeKey: 'GET /api/skus/{sku_id}',
      rawPath: '/api/skus/b',
      rawQueryString: '',
      headers: { host: 'api.example.com' },
      isBase64Encoded: false,
      pathParameters: { sku_id: 'b' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'api',
        domainName: 'api.example.com',
        domainPrefix: 'api',
        http: { method: 'GET', path: '/api/skus/b', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
        requestId: 'request-1',
        routeKey: 'GET /api/skus/{sku_id}',
        stage: '$default',
        time: now.toISOString(),
        timeEpoch: now.getTime(),
        authorizer: { principalId: '', integrationLatency: 0, jwt: { scopes: [], claims: { [CLAIMS.tenant]: tenantId, [CLAIMS.role]: 'admin', [CLAIMS.subject]: 'u-1' } } },
      },
    };
  };
  /** A route whose key building has a bug: it reads the SKU of the tenant it was handed, not the caller's. */
  const buggyRoute = (readAs: string) => httpHandler(httpRoutes.getSku, ({ params }) => getItem(db, keys.sku(readAs, params.sku_id), (item) => ({ name: item.name })));

  test('answers 500 INTERNAL (our bug, never the caller\'s input) and reads nothing of the other tenant', async () => {
    const before = sent;
    // The token's user is one of the directory's (the HTTP layer refuses anyone else with 401).
    await registerUser(dbFromEnv(), mine, { userId: 'u-1', email: 'u-1@users.test', role: 'admin' });
    const result = await buggyRoute(theirs)(tokenEvent(mine), lambdaContext('getSku', 'request-1'));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(String(result.body))).toEqual({ error: expect.objectContaining({ code: 'INTERNAL' }) });
    expect(String(result.body)).not.toContain('theirs');
    expect(sent - before).toBe(0);
  });

  test("the same route with the caller's own key answers", async () => {
    await registerUser(dbFromEnv(), mine, { userId: 'u-1', email: 'u-1@users.test', role: 'admin' });
    const result = await buggyRoute(mine)(tokenEvent(mine), lambdaContext('getSku', 'request-2'));
    expect({ status: result.statusCode, body: JSON.parse(String(result.body)) }).toEqual({ status: 200, body: { name: 'mine' } });
  });
});
