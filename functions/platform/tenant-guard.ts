import { inWorkScope, workScope } from './work-scope';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isTenantPartition, SYSTEM_PARTITIONS_OF_REQUESTS, type Key } from './keys';
import { log } from './log';
import { TABLE } from './table';

/**
 * Tenant isolation that does not rest on key building alone. A request's work runs inside
 * `inTenantScope(tenant, ...)` (httpHandler enters it once the caller is known, the Shopify webhook
 * once its signature names the tenant), and every DynamoDB client this app creates carries
 * `tenantGuard`: inside a scope, a call whose keys are not the scope's tenant's (`T#<tenant>#...`,
 * or one of keys.ts SYSTEM_PARTITIONS_OF_REQUESTS) throws TenantIsolationBreach before anything is
 * sent. It is the local twin of the tenant role's `dynamodb:LeadingKeys` condition in AWS
 * (lib/tenant-access.ts), and checks what that condition checks: the partition key of every item a
 * call names and the partition a query reads. The system outside any scope (schedules, consumers,
 * the stream processor, which work across tenants by design) is not checked here.
 */

/** Runs `work` (and everything it starts) as the tenant's: its DynamoDB calls may touch that tenant's keys only. */
export const inTenantScope = <T>(tenantId: string, work: () => Promise<T>): Promise<T> => inWorkScope({ tenantId }, work);

/** The tenant whose scope this code runs in; undefined for the system. */
export const currentTenant = (): string | undefined => workScope().tenantId;

/** A DynamoDB call that would have crossed the tenant boundary: our bug, never the caller's input (a 500, logged as a security event). */
export class TenantIsolationBreach extends Error {
  override readonly name = 'TenantIsolationBreach';
  constructor(
    readonly tenantId: string,
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`${operation} refused in tenant ${tenantId}'s scope: ${reason}`);
  }
}

// ---------------------------------------------------------------------------------------------
// What a call names, read from its low-level input (the document client has marshalled it by then)

type Fields = Readonly<Record<string, unknown>>;

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
const listOf = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
/** A string attribute value (`{ S: '...' }`); undefined for anything else (a key of another type is refused). */
const stringValue = (value: unknown): string | undefined => {
  const s = fieldsOf(value).S;
  return typeof s === 'string' ? s : undefined;
};

const tableKeyOf = (key: unknown): { pk: string | undefined; sk: string | undefined } => ({
  pk: stringValue(fieldsOf(key)[TABLE.partitionKey]),
  sk: stringValue(fieldsOf(key)[TABLE.sortKey]),
});

/** Why one item key (a Key, or an Item, which holds its key) is refused; undefined when it is the tenant's or allow-listed. */
const itemKeyRefusal = (tenantId: string, key: unknown): string | undefined => {
  const { pk, sk } = tableKeyOf(key);
  if (pk === undefined) return `an item key without a string ${TABLE.partitionKey}`;
  if (isTenantPartition(tenantId, pk)) return undefined;
  if (sk !== undefined && SYSTEM_PARTITIONS_OF_REQUESTS.some((system) => system.matches({ pk, sk } satisfies Key))) return undefined;
  return `the partition ${JSON.stringify(pk)} is not the tenant's`;
};

const firstRefusal = (tenantId: string, keys: readonly unknown[]): string | undefined => {
  for (const key of keys) {
    const refusal = itemKeyRefusal(tenantId, key);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
};

/** The partition key attribute of the table or of an index a query names; undefined for an index the table does not have. */
const partitionAttributeOf = (indexName: unknown): string | undefined =>
  indexName === undefined ? TABLE.partitionKey : indexName === TABLE.gsi1.name ? TABLE.gsi1.partitionKey : undefined;

/**
 * The partition a query's key condition reads: the one `<partition key> = :value` clause (a key
 * condition joins its clauses with AND only, and must name the partition by equality). Undefined
 * when there is none to find, which the guard refuses: it lets through only what it can read.
 */
const queryPartitionOf = (input: Fields, attribute: string): string | undefined => {
  const expression = input.KeyConditionExpression;
  if (typeof expression !== 'string') return undefined;
  const names = fieldsOf(input.ExpressionAttributeNames);
  const values = fieldsOf(input.ExpressionAttributeValues);
  const nameOf = (token: string): unknown => (token.startsWith('#') ? names[token] : token);
  const found: (string | undefined)[] = [];
  for (const clause of expression.split(/\s+AND\s+/i)) {
    const equality = /^\(*\s*([#\w.]+)\s*=\s*(:\w+)\s*\)*$/.exec(clause.trim()) ?? /^\(*\s*(:\w+)\s*=\s*([#\w.]+)\s*\)*$/.exec(clause.trim());
    if (!equality) continue;
    const [name, placeholder] = equality[1]?.startsWith(':') ? [equality[2], equality[1]] : [equality[1], equality[2]];
    if (name !== undefined && placeholder !== undefined && nameOf(name) === attribute) found.push(stringValue(values[placeholder]));
  }
  return found.length === 1 ? found[0] : undefined;
};

const queryRefusal = (tenantId: string, input: Fields): string | undefined => {
  const attribute = partitionAttributeOf(input.IndexName);
  if (attribute === undefined) return `a query of the unknown index ${JSON.stringify(input.IndexName)}`;
  if (input.KeyConditions !== undefined) return 'a query by the legacy KeyConditions parameter';
  const partition = queryPartitionOf(input, attribute);
  if (partition === undefined) return `a query whose partition (${attribute}) the guard cannot read from its key condition`;
  if (!isTenantPartition(tenantId, partition)) return `a query of the partition ${JSON.stringify(partition)}, not the tenant's`;
  // A cursor resumes at a key: it must be the tenant's too (it is a key of the partition read, table and index attributes alike).
  for (const [name, value] of Object.entries(fieldsOf(input.ExclusiveStartKey))) {
    const pk = name === TABLE.partitionKey || name === TABLE.gsi1.partitionKey ? stringValue(value) : '';
    if (pk !== '' && (pk === undefined || !isTenantPartition(tenantId, pk))) return `a query resuming at a key outside the tenant (${name})`;
  }
  return undefined;
};

/** Every item key a batch or transaction names. */
const batchGetKeys = (input: Fields): unknown[] => Object.values(fieldsOf(input.RequestItems)).flatMap((request) => [...listOf(fieldsOf(request).Keys)]);
const batchWriteKeys = (input: Fields): unknown[] =>
  Object.values(fieldsOf(input.RequestItems)).flatMap((requests) =>
    listOf(requests).map((request) => {
      const { PutRequest, DeleteRequest } = fieldsOf(request);
      return PutRequest !== undefined ? fieldsOf(PutRequest).Item : fieldsOf(DeleteRequest).Key;
    }),
  );
const transactKeys = (input: Fields): unknown[] =>
  listOf(input.TransactItems).map((entry) => {
    const { Get, Put, Update, Delete, ConditionCheck } = fieldsOf(entry);
    return Put !== undefined ? fieldsOf(Put).Item : fieldsOf(Get ?? Update ?? Delete ?? ConditionCheck).Key;
  });

/**
 * Why a call is refused in the tenant's scope; undefined when it may go. Deny by default: an
 * operation not named here (Scan, PartiQL, table management) has no place in a tenant's request.
 */
export const tenantRefusal = (tenantId: string, operation: string, input: unknown): string | undefined => {
  const fields = fieldsOf(input);
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return firstRefusal(tenantId, [fields.Key]);
    case 'PutItem':
      return firstRefusal(tenantId, [fields.Item]);
    case 'BatchGetItem':
      return firstRefusal(tenantId, batchGetKeys(fields));
    case 'BatchWriteItem':
      return firstRefusal(tenantId, batchWriteKeys(fields));
    case 'TransactGetItems':
    case 'TransactWriteItems':
      return firstRefusal(tenantId, transactKeys(fields));
    case 'Query':
      return queryRefusal(tenantId, fields);
    case 'Scan':
      return 'a scan reads every tenant';
    case 'ExecuteStatement':
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction':
      return 'a PartiQL statement (its keys are not checked, so it is not sent from a tenant scope)';
    default:
      return `the operation ${operation} is not one a tenant's request makes`;
  }
};

/** `GetItemCommand` -> `GetItem`: the operation as DynamoDB (and IAM) names it. */
const operationOf = (commandName: unknown): string => (typeof commandName === 'string' ? commandName.replace(/Command$/, '') : 'unknown');

export const TENANT_GUARD_MIDDLEWARE = 'tenantGuard';

/**
 * Puts the guard on a client (the base client's stack, which its document client shares). It
 * runs at the build step: after the document client has marshalled its input (so one check reads
 * document and low-level commands alike), before signing, the retry loop and the wire, so a refused
 * call is never sent, nor retried.
 */
export const installTenantGuard = (client: DynamoDBClient | DynamoDBDocumentClient): void => {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const tenantId = workScope().tenantId;
      if (tenantId !== undefined) {
        const operation = operationOf(context.commandName);
        const reason = tenantRefusal(tenantId, operation, args.input);
        if (reason !== undefined) {
          // Logged here, where it is found: whatever the caller does with the error, the event is on record.
          log.error('tenant isolation breach', { security_event: 'tenant_isolation_breach', tenant_id: tenantId, operation, reason });
          throw new TenantIsolationBreach(tenantId, operation, reason);
        }
      }
      return next(args);
    },
    { step: 'build', priority: 'high', name: TENANT_GUARD_MIDDLEWARE, override: true },
  );
};
