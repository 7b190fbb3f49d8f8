import { inWorkScope, workScope } from './work-scope';
import { CORRELATION_ATTRIBUTE } from './log';
import type { Key } from './keys';

/**
 * What one HTTP request's audit record learns while the request runs (functions/platform/audit.ts
 * builds and writes the record): the items the domain read (the "before" of what it then writes),
 * what it wrote, whether it answered from an idempotency record, and, for a request whose change
 * is one transaction, the audit item that rides in it. Held in an AsyncLocalStorage that the HTTP
 * layer opens around the request, so storage code notes these without any domain function passing
 * anything along. Outside a request (consumers, schedules, tests calling domain code) there is no
 * scope and every note is a no-op.
 *
 * This module imports nothing of the platform but key types: storage.ts, writes.ts,
 * transactions.ts and idempotency.ts import it, and it must not import them back.
 */

/** What a write does, kept beside its DynamoDB form by the write builders (writes.ts). */
export interface WriteChange {
  op: 'put' | 'update' | 'delete';
  key: Key;
  entity?: string;
  /** A put's whole value (storage attributes aside). */
  value?: Record<string, unknown>;
  set?: Record<string, unknown>;
  add?: Record<string, number>;
  remove?: readonly string[];
}

/** One entity change as the audit record keeps it: the changed fields before and after. */
export interface Change {
  entity?: string;
  /** The item's key without the tenant prefix: `<partition>/<sort>` (e.g. `STOCK#sku-1/wh-1`). */
  key: string;
  op: 'create' | 'update' | 'delete';
  /** The changed fields as they were (null: the item did not exist; absent: not read by this request). */
  before?: Record<string, unknown> | null;
  /** The changed fields as written (null: deleted). */
  after?: Record<string, unknown> | null;
  /** Counters incremented without a read (e.g. a sale's on_hand -1): the increments. */
  added?: Record<string, number>;
}

/** Items of these entities are append-only rows (the stock ledger): the record keeps their ids, not their fields. */
const LEDGER_ENTITIES = new Set(['movement']);
/** Bookkeeping, not business state: the idempotency record is the request's own answer, event markers the stream's. */
const UNRECORDED_ENTITIES = new Set(['idempotency', 'event_marker']);
/** Storage attributes and bookkeeping fields: never part of "what changed". */
// The writer's correlation id (log.ts) is for the logs: not a change anyone made.
const UNRECORDED_FIELDS = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'entity', 'tenant_id', 'expires_at', CORRELATION_ATTRIBUTE]);

/** A record stays far below DynamoDB's 400 KB item: at most this many changes and ledger ids, each field value at most this long. */
export const MAX_CHANGES = 50;
export const MAX_LEDGER_IDS = 200;
const MAX_VALUE_CHARS = 1_000;

/** The conditional put of an audit record, as a TransactWriteItems Put (or a PutCommand input). */
export interface AuditPut {
  TableName: string;
  Item: Record<string, unknown>;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
}

export interface AuditScope {
  /** Whether this request's changes are recorded (a mutating route); reads are only kept then. */
  collects: boolean;
  reads: Map<string, Record<string, unknown>>;
  changes: Change[];
  ledgerIds: string[];
  /** Changes and ledger ids beyond the caps, counted. */
  truncated: number;
  /** Writes (of any kind) committed so far in this request. */
  writes: number;
  /** The request's change is split into parts with their own idempotency records (non-atomic batches): it is not one transaction. */
  parts: boolean;
  /** The request was answered from an idempotency record (a replay). */
  replayed: boolean;
  /** The audit item for a transaction that is the request's whole change; undefined where the record cannot ride in one. */
  transactionItem?: (changes: readonly Change[], ledgerIds: readonly string[]) => AuditPut | undefined;
  /** Set once the record rode in a committed transaction: the HTTP layer then writes nothing more. */
  recordedInTransaction: boolean;
  /** Writes committed after the record rode in a transaction (should not happen: logged by the HTTP layer). */
  writesAfterRecord: number;
}


export const newAuditScope = (collects: boolean): AuditScope => ({
  collects,
  reads: new Map(),
  changes: [],
  ledgerIds: [],
  truncated: 0,
  writes: 0,
  parts: false,
  replayed: false,
  recordedInTransaction: false,
  writesAfterRecord: 0,
});

export const inAuditScope = <T>(scope: AuditScope, run: () => Promise<T>): Promise<T> => inWorkScope({ audit: scope }, run);

export const currentAuditScope = (): AuditScope | undefined => workScope().audit;

const keyText = (pk: unknown, sk: unknown): string => `${String(pk)}\n${String(sk)}`;

/** Items a request read: what its writes change them from. */
export const noteRead = (items: readonly (Record<string, unknown> | undefined)[]): void => {
  const scope = workScope().audit;
  if (!scope?.collects) return;
  for (const item of items) if (item && typeof item.pk === 'string') scope.reads.set(keyText(item.pk, item.sk), item);
};

/** The request answered a replay from an idempotency record. */
export const noteReplay = (): void => {
  const scope = workScope().audit;
  if (scope) scope.replayed = true;
};

/** The request is split into parts, each its own transaction (childIdempotency, claimKey). */
export const noteParts = (): void => {
  const scope = workScope().audit;
  if (scope) scope.parts = true;
};

/** The key as the record shows it: the tenant prefix `T#<tenant>#` is the record's own tenant. */
const shownKey = (key: Key): string => `${key.pk.replace(/^T#[^#]+#/, '')}/${key.sk}`;

const shownValue = (value: unknown): unknown => {
  const text = JSON.stringify(value);
  return text !== undefined && text.length > MAX_VALUE_CHARS ? `[${text.length} characters, not recorded]` : value;
};

const recordedFields = (value: Record<string, unknown> | undefined): Record<string, unknown> =>
  Object.fromEntries(Object.entries(value ?? {}).filter(([name]) => !UNRECORDED_FIELDS.has(name)).map(([name, v]) => [name, shownValue(v)]));

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What one write changes, given what the request read of the item before; undefined: nothing to record (bookkeeping). */
const changeOf = (write: WriteChange, before: Record<string, unknown> | undefined): Change | { ledgerId: string } | undefined => {
  const entity = write.entity ?? (typeof before?.entity === 'string' ? before.entity : undefined);
  if (entity !== undefined && UNRECORDED_ENTITIES.has(entity)) return undefined;
  if (entity !== undefined && LEDGER_ENTITIES.has(entity) && write.op === 'put') return { ledgerId: write.key.sk };
  const key = shownKey(write.key);
  const old = before === undefined ? undefined : recordedFields(before);
  const common = { ...(entity === undefined ? {} : { entity }), key };
  if (write.op === 'delete') return { ...common, op: 'delete', ...(old === undefined ? {} : { before: old }), after: null };
  if (write.op === 'put') {
    const next = recordedFields(write.value);
    if (old === undefined) return { ...common, op: 'create', before: null, after: next };
    const names = [...new Set([...Object.keys(old), ...Object.keys(next)])].filter((name) => !same(old[name], next[name]));
    return { ...common, op: 'update', before: pick(old, names), after: pick(next, names) };
  }
  const set = recordedFields(write.set);
  const removed = (write.remove ?? []).filter((name) => !UNRECORDED_FIELDS.has(name));
  const added = write.add ?? {};
  const changed = [...Object.keys(set).filter((name) => !same(old?.[name], set[name])), ...removed];
  const after: Record<string, unknown> = { ...pick(set, changed), ...Object.fromEntries(removed.map((name) => [name, null])) };
  // A counter incremented on an item this request read: its value before and after are known.
  const known = old === undefined ? {} : Object.fromEntries(Object.entries(added).filter(([name]) => typeof old[name] === 'number'));
  for (const [name, n] of Object.entries(known)) after[name] = (old?.[name] as number) + n;
  const unknown = Object.fromEntries(Object.entries(added).filter(([name]) => !(name in known)));
  const beforeNames = [...changed, ...Object.keys(known)];
  return {
    ...common,
    op: 'update',
    ...(old === undefined ? {} : { before: pick(old, beforeNames) }),
    after,
    ...(Object.keys(unknown).length ? { added: unknown } : {}),
  };
};

const pick = (value: Record<string, unknown>, names: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(names.filter((name) => name in value).map((name) => [name, value[name]]));

/** The changes and ledger ids of some writes (as they would be recorded), without noting them. */
export const changesOf = (scope: AuditScope, writes: readonly (WriteChange | undefined)[]): { changes: Change[]; ledgerIds: string[] } => {
  const changes: Change[] = [];
  const ledgerIds: string[] = [];
  for (const write of writes) {
    if (!write) continue;
    const change = changeOf(write, scope.reads.get(keyText(write.key.pk, write.key.sk)));
    if (change === undefined) continue;
    if ('ledgerId' in change) ledgerIds.push(change.ledgerId);
    else changes.push(change);
  }
  return { changes, ledgerIds };
};

/** Writes the request committed: counted, and (on a recorded route) added to what changed, within the caps. */
export const noteWritten = (writes: readonly (WriteChange | undefined)[]): void => {
  const scope = workScope().audit;
  if (!scope) return;
  scope.writes += writes.length;
  if (scope.recordedInTransaction) scope.writesAfterRecord += writes.length;
  if (!scope.collects) return;
  const { changes, ledgerIds } = changesOf(scope, writes);
  for (const change of changes) {
    if (scope.changes.length < MAX_CHANGES) scope.changes.push(change);
    else scope.truncated++;
  }
  for (const id of ledgerIds) {
    if (scope.ledgerIds.length < MAX_LEDGER_IDS) scope.ledgerIds.push(id);
    else scope.truncated++;
  }
  // What was written is now what a later write of the same item changes from.
  for (const write of writes) {
    if (!write) continue;
    const k = keyText(write.key.pk, write.key.sk);
    if (write.op === 'put') scope.reads.set(k, { ...write.value, ...(write.entity ? { entity: write.entity } : {}) });
    else if (write.op === 'delete') scope.reads.delete(k);
    else {
      const current = scope.reads.get(k);
      if (current) {
        const next: Record<string, unknown> = { ...current, ...write.set };
        for (const name of write.remove ?? []) delete next[name];
        for (const [name, n] of Object.entries(write.add ?? {})) next[name] = typeof next[name] === 'number' ? next[name] + n : n;
        scope.reads.set(k, next);
      }
    }
  }
};
