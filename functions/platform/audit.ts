import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type { AuditPut, AuditScope } from './audit-scope';
import type { UserCaller } from './context';
import { keys } from './keys';
import { permissionsOf } from './permissions';
import type { TokenRoute } from './routes';
import { AUDIT_TABLE } from './table';
import { canonicalJson } from './values';
import { isConditionalCheckFailed } from './writes';

/**
 * The audit trail's record (issue 12, part 4): who (tenant, subject, e-mail, role), what (the route's
 * name in the wiring, its targets), when, from where, how it ended (status, and the refusal's code
 * and message), and for a change what it changed. One record per request, written by the HTTP layer
 * (http.ts auditStep): in the request's own transaction where the change is one transaction
 * (transactions.ts), else durably before the answer. Records are never updated or deleted: the key
 * is unique per request and every put is conditional on its absence.
 */

/** What the trail records of a route: its changes, or its reads; undefined: only refusals of authority (403). */
export type AuditKind = 'change' | 'read' | undefined;

/**
 * Driven by the wiring, so a new route is recorded without anyone remembering to: a route that may
 * write (the table, the lake's imports, channel credentials) records every call; a route flagged
 * `audit` records its reads (for callers holding `readWith`, when it says so). A read-only POST (an
 * order plan's dry run) is no change.
 */
export const auditKindOf = (route: TokenRoute, caller: Pick<UserCaller, 'role'>): AuditKind => {
  if (route.table === 'write' || route.lake === 'import' || route.channelSecrets === 'write') return 'change';
  if (route.audit === 'read') return 'read';
  if (route.audit && permissionsOf[caller.role].includes(route.audit.readWith)) return 'read';
  return undefined;
};

/** Set to 'off' only by the benchmark (test/bench), to measure what the trail costs; read once per handler. */
export const AUDIT_TRAIL_ENV = 'STOCKROOM_AUDIT_TRAIL';

export type AuditResult = 'success' | 'refused' | 'failed';

/** A stored record as the audit API answers it (the storage attributes aside). */
export const auditRecordSchema = z.object({
  at: z.string(),
  request_id: z.string(),
  actor_subject: z.string(),
  actor_email: z.string().optional(),
  role: z.string(),
  action: z.string(),
  method: z.string(),
  path: z.string(),
  target_ids: z.array(z.string()),
  targets: z.record(z.string(), z.array(z.string())),
  status: z.number().int(),
  result: z.enum(['success', 'refused', 'failed']),
  replay: z.boolean(),
  error_code: z.string().optional(),
  error_message: z.string().optional(),
  idempotency_key: z.string().optional(),
  source_ip: z.string().optional(),
  user_agent: z.string().optional(),
  changes: z.array(z.record(z.string(), z.unknown())),
  ledger_ids: z.array(z.string()),
  changes_truncated: z.number().int().optional(),
  /** 'transaction': put in the change's own transaction; 'after': put by the HTTP layer before it answered. */
  written: z.enum(['transaction', 'after']),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;

/**
 * A JSON text attribute decoded into `schema`'s output: what a stored record keeps of its nested parts. The
 * trail is written on the hottest paths, inside their transactions, and a nested map costs the SDK (marshalling)
 * and the database (parsing, storing) per attribute inside it; nothing filters on these parts, so they are kept
 * as one string each and read back here, at the boundary.
 */
const jsonText = <S extends z.ZodType>(schema: S) =>
  z.string().transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON text' });
      return z.NEVER;
    }
  }).pipe(schema);

/** A record as stored (auditItem writes it): `changes` and `targets` as JSON text, the rest as the record has it. */
export const storedAuditRecordSchema = auditRecordSchema.extend({
  changes: jsonText(auditRecordSchema.shape.changes),
  targets: jsonText(auditRecordSchema.shape.targets),
});

/** What the HTTP layer knows of a request when its record is built. */
export interface AuditRequest {
  route: TokenRoute;
  action: string;
  caller: UserCaller;
  at: string;
  requestId: string;
  path: string;
  pathParameters: Readonly<Record<string, string | undefined>>;
  /** The body as JSON, when it was JSON (targets are read from it even when it failed validation). */
  body: unknown;
  idempotencyKey?: string;
  sourceIp?: string;
  userAgent?: string;
}

export interface AuditOutcome {
  status: number;
  errorCode?: string;
  errorMessage?: string;
}

const MAX_TARGET_IDS = 100;
const MAX_DEPTH = 4;

/**
 * The ids a request names: its path parameters, and every `<name>_id` (string) or `<name>_ids`
 * (strings) field of its body at any depth up to four (lines, updates, suggestions...), by name
 * without the plural; derived, so a new route's ids are found without a list to keep.
 */
export const targetsOf = (pathParameters: Readonly<Record<string, string | undefined>>, body: unknown): Record<string, string[]> => {
  const found = new Map<string, Set<string>>();
  let count = 0;
  const add = (name: string, id: unknown): void => {
    if (typeof id !== 'string' || id === '' || id.length > 256 || count >= MAX_TARGET_IDS) return;
    const ids = found.get(name) ?? new Set<string>();
    if (!ids.has(id)) count++;
    found.set(name, ids.add(id));
  };
  for (const [name, value] of Object.entries(pathParameters)) add(name, value);
  const walk = (value: unknown, depth: number): void => {
    if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const each of value) walk(each, depth + 1);
      return;
    }
    for (const [name, field] of Object.entries(value)) {
      if (name.endsWith('_id')) add(name, field);
      else if (name.endsWith('_ids') && Array.isArray(field)) for (const id of field) add(name.slice(0, -1), id);
      else walk(field, depth + 1);
    }
  };
  walk(body, 0);
  return Object.fromEntries([...found].map(([name, ids]) => [name, [...ids]]));
};

export const resultOf = (status: number): AuditResult => (status >= 500 ? 'failed' : status >= 400 ? 'refused' : 'success');

/** The stored item of one request's record. */
export const auditItem = (
  request: AuditRequest,
  outcome: AuditOutcome,
  scope: Pick<AuditScope, 'changes' | 'ledgerIds' | 'truncated' | 'replayed'>,
  written: AuditRecord['written'],
): Record<string, unknown> => {
  const targets = targetsOf(request.pathParameters, request.body);
  const { caller } = request;
  const changed = scope.changes.length > 0 || scope.ledgerIds.length > 0;
  const record: AuditRecord = {
    at: request.at,
    request_id: request.requestId,
    actor_subject: caller.subject,
    ...(caller.email === undefined ? {} : { actor_email: caller.email }),
    role: caller.role,
    action: request.action,
    method: request.route.method,
    path: request.path,
    target_ids: [...new Set(Object.values(targets).flat())],
    targets,
    status: outcome.status,
    result: resultOf(outcome.status),
    // A request answered from its idempotency record that changed nothing itself: the earlier request's change, replayed.
    replay: scope.replayed && !changed && outcome.status < 400,
    ...(outcome.errorCode === undefined ? {} : { error_code: outcome.errorCode }),
    ...(outcome.errorMessage === undefined ? {} : { error_message: outcome.errorMessage.slice(0, 1_000) }),
    ...(request.idempotencyKey === undefined ? {} : { idempotency_key: request.idempotencyKey }),
    ...(request.sourceIp ? { source_ip: request.sourceIp } : {}),
    ...(request.userAgent ? { user_agent: request.userAgent.slice(0, 512) } : {}),
    changes: scope.changes.map((change) => ({ ...change })),
    ledger_ids: [...scope.ledgerIds],
    ...(scope.truncated > 0 ? { changes_truncated: scope.truncated } : {}),
    written,
  };
  // The nested parts as JSON text (storedAuditRecordSchema reads them back); target_ids stays a list: the trail filters on it.
  return {
    ...keys.auditRecord(caller.tenantId, request.at, request.requestId),
    entity: 'audit',
    tenant_id: caller.tenantId,
    ...record,
    changes: JSON.stringify(record.changes),
    targets: JSON.stringify(record.targets),
  };
};

/** The conditional put of a record: refused if any record has its key (a record is written once, never replaced). */
export const auditPut = (table: string, item: Record<string, unknown>): AuditPut => ({
  TableName: table,
  Item: item,
  ConditionExpression: 'attribute_not_exists(#pk)',
  ExpressionAttributeNames: { '#pk': AUDIT_TABLE.partitionKey },
});

/** A record's key is taken by another record: records are never overwritten. */
export class AuditRecordExists extends Error {
  constructor(readonly key: string) {
    super(`an audit record ${key} exists already; records are never replaced`);
    this.name = 'AuditRecordExists';
  }
}

const existingOf = (error: unknown): Record<string, unknown> | undefined => {
  if (typeof error !== 'object' || error === null || !('Item' in error) || typeof error.Item !== 'object' || error.Item === null) return undefined;
  return unmarshall(error.Item as Record<string, AttributeValue>);
};

/**
 * Puts one record, once. The SDK may resend a put whose answer it lost: finding this very record
 * (every field equal) there is success. Any other record under the key is AuditRecordExists.
 */
export const writeAuditRecord = async (client: DynamoDBDocumentClient, table: string, item: Record<string, unknown>): Promise<void> => {
  try {
    await client.send(new PutCommand({ ...auditPut(table, item), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    const existing = existingOf(error);
    if (existing !== undefined && canonicalJson(existing) === canonicalJson(item)) return;
    throw new AuditRecordExists(`${String(item.pk)} / ${String(item.sk)}`);
  }
};
