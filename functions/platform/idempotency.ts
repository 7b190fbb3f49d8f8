import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { AppError } from './errors';
import { keys } from './keys';
import { TABLE } from './table';
import { backoff, TransactionCancelled, transactWrite, type TransactItem } from './transactions';
import type { Db } from './db';
import type { RequestContext } from './http';

/** A caller's Idempotency-Key and the fingerprint of the request it was first used with. */
export interface Idempotency {
  key: string;
  fingerprint: string;
}

/** Records outlive any sane client retry window, then DynamoDB TTL removes them. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

/** Same operation and same JSON body (key order and whitespace ignored) give the same fingerprint. */
export const fingerprint = (operation: string, body: unknown): string =>
  createHash('sha256').update(operation).update('\n').update(canonicalJson(body ?? null)).digest('hex');

/** One key per item of a batch, so each item of a retried batch replays on its own. */
export const childIdempotency = (parent: Idempotency | undefined, index: number, body: unknown): Idempotency | undefined =>
  parent && { key: `${parent.key}:${index}`, fingerprint: fingerprint(parent.fingerprint, body) };

interface StoredRecord {
  fingerprint: string;
  response?: string;
}

const readRecord = async (db: Db, tenantId: string, idem: Idempotency): Promise<StoredRecord | undefined> => {
  const out = await db.client.send(
    new GetCommand({ TableName: db.table, Key: keys.idempotency(tenantId, idem.key), ConsistentRead: true }),
  );
  return out.Item as StoredRecord | undefined;
};

const recordPut = (db: Db, tenantId: string, idem: Idempotency, response: unknown, now: Date): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: {
      ...keys.idempotency(tenantId, idem.key),
      entity: 'idempotency',
      fingerprint: idem.fingerprint,
      ...(response === undefined ? {} : { response: JSON.stringify(response) }),
      created_at: now.toISOString(),
      [TABLE.ttlAttribute]: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
    },
    ConditionExpression: 'attribute_not_exists(pk)',
  },
});

const reused = (): AppError =>
  new AppError(
    'IDEMPOTENCY_KEY_REUSED',
    'this Idempotency-Key was already used with a different request; use a new key for a new request',
  );

/** The stored response for this key, 422 if the key was used for another request, undefined if unused. */
const replay = <R>(record: StoredRecord | undefined, idem: Idempotency): { result: R } | undefined => {
  if (!record) return undefined;
  if (record.fingerprint !== idem.fingerprint) throw reused();
  return { result: (record.response === undefined ? undefined : JSON.parse(record.response)) as R };
};

/** Claims a key for a request whose parts carry their own records (non-atomic batches): 422 on a different body. */
export const claimKey = async (db: Db, tenantId: string, idem: Idempotency, now: Date): Promise<void> => {
  try {
    await transactWrite(db, [recordPut(db, tenantId, idem, undefined, now)]);
  } catch (error) {
    if (!(error instanceof TransactionCancelled)) throw error;
    replay(await readRecord(db, tenantId, idem), idem);
  }
};

/** What one attempt decided: the writes, the answer, and how to explain a cancelled transaction. */
export interface WritePlan<R> {
  items: TransactItem[];
  result: R;
  /** A domain error for a cancelled transaction, or undefined when state moved and a fresh attempt may succeed. */
  explainCancellation?: (cancelled: TransactionCancelled) => AppError | undefined;
}

export interface CommitOptions {
  tenantId: string;
  idempotency?: Idempotency;
  now: () => Date;
  maxAttempts?: number;
  /** Epoch ms: no new attempt starts after it (the request must still answer in time). */
  deadline?: number;
}

/** The commit options of a request: its tenant, key, clock and deadline. */
export const commitOptionsOf = (ctx: RequestContext, idempotency = ctx.idempotency): CommitOptions => ({
  tenantId: ctx.caller.tenantId,
  idempotency,
  now: ctx.now,
  deadline: ctx.deadline,
});

/**
 * Optimistic concurrency with exactly-once effect: each attempt reads and
 * plans, then writes the plan and the idempotency record in one
 * TransactWriteItems, so the change, its ledger rows and the record can
 * never disagree. A cancelled attempt re-plans from fresh reads (bounded,
 * with jitter); a cancelled idempotency record means a duplicate won, and
 * its stored answer is returned instead.
 */
export const commitIdempotent = async <R>(
  db: Db,
  options: CommitOptions,
  plan: (attempt: number, lastCancelled?: TransactionCancelled) => Promise<WritePlan<R>>,
): Promise<R> => {
  const { tenantId, idempotency } = options;
  const maxAttempts = options.maxAttempts ?? 40;
  if (idempotency) {
    const earlier = replay<R>(await readRecord(db, tenantId, idempotency), idempotency);
    if (earlier) return earlier.result;
  }
  let lastCancelled: TransactionCancelled | undefined;
  let attempt = 0;
  for (; attempt < maxAttempts && (attempt === 0 || options.deadline === undefined || Date.now() < options.deadline); attempt++) {
    const decided = await plan(attempt, lastCancelled);
    const items = idempotency
      ? [...decided.items, recordPut(db, tenantId, idempotency, decided.result, options.now())]
      : decided.items;
    // Nothing to change (e.g. cancelling a cancelled order): the answer needs no write.
    if (items.length === 0) return decided.result;
    try {
      await transactWrite(db, items);
      return decided.result;
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      if (idempotency && error.failedAt(items.length - 1)) {
        const winner = replay<R>(await readRecord(db, tenantId, idempotency), idempotency);
        if (winner) return winner.result;
      }
      const explained = decided.explainCancellation?.(error);
      if (explained) throw explained;
      lastCancelled = error;
      await backoff(attempt);
    }
  }
  throw new AppError('CONFLICT', 'the data kept changing under this request; it was not applied, retry it', { attempts: attempt });
};
