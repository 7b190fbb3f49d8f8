import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { Deps } from './context';
import type { Db } from './db';
import { AppError, keptChanging } from './errors';
import { keys } from './keys';
import { CONTENDED_WRITE, RetriesExhausted, retrying } from './retry';
import { decodeWith, getItem } from './storage';
import { TABLE } from './table';
import { canonicalJson } from './values';
import { TransactionCancelled, transactWrite } from './transactions';
import { ConditionFailed, putItem, when, writeOne, type Write } from './writes';
import { noteParts, noteReplay } from './audit-scope';
import { countMetric, METRIC_NAMES } from './metrics';

/** A caller's Idempotency-Key and the fingerprint of the request it was first used with. */
export interface Idempotency {
  key: string;
  fingerprint: string;
}

/** Records outlive any sane client retry window, then DynamoDB TTL removes them. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Same operation and same JSON body (key order and whitespace ignored) give the same fingerprint. */
export const fingerprint = (operation: string, body: unknown): string =>
  createHash('sha256').update(operation).update('\n').update(canonicalJson(body ?? null)).digest('hex');

/** One key per item of a batch, so each item of a retried batch replays on its own. */
export const childIdempotency = (parent: Idempotency | undefined, index: number | string, body: unknown): Idempotency | undefined => {
  // A request split into parts is no one transaction: its audit record is written after them, not in the first.
  noteParts();
  return parent && { key: `${parent.key}:${index}`, fingerprint: fingerprint(parent.fingerprint, body) };
};

const storedRecord = decodeWith('idempotency record', z.object({ fingerprint: z.string(), response: z.string().optional() }));
type StoredRecord = ReturnType<typeof storedRecord>;

const readRecord = (db: Db, tenantId: string, idem: Idempotency): Promise<StoredRecord | undefined> =>
  getItem(db, keys.idempotency(tenantId, idem.key), storedRecord);

const RECORD = 'idempotency record';

const recordPut = (db: Db, tenantId: string, idem: Idempotency, response: unknown, now: Date): Write =>
  putItem(db, {
    name: RECORD,
    key: keys.idempotency(tenantId, idem.key),
    entity: 'idempotency',
    tenantId,
    value: {
      fingerprint: idem.fingerprint,
      ...(response === undefined ? {} : { response: JSON.stringify(response) }),
      created_at: now.toISOString(),
      [TABLE.ttlAttribute]: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
    },
    when: when.absent(),
  });

const reused = (): AppError =>
  new AppError(
    'IDEMPOTENCY_KEY_REUSED',
    'this Idempotency-Key was already used with a different request; use a new key for a new request',
  );

/**
 * The stored response for this key, 422 if the key was used for another
 * request, undefined if unused. The response is JSON this very code wrote
 * for the same request (same fingerprint), so it has the result's type.
 */
const replay = <R>(record: StoredRecord | undefined, idem: Idempotency): { result: R } | undefined => {
  if (!record) return undefined;
  if (record.fingerprint !== idem.fingerprint) throw reused();
  const result: unknown = record.response === undefined ? undefined : JSON.parse(record.response);
  noteReplay();
  countMetric(METRIC_NAMES.idempotentReplays);
  // The one place a stored value is trusted to be R: it is this request's own answer, serialised by recordPut.
  return { result: result as R };
};

/** Claims a key for a request whose parts carry their own records (non-atomic batches): 422 on a different body. */
export const claimKey = async ({ db, ctx }: Deps, idem: Idempotency): Promise<void> => {
  noteParts();
  try {
    await writeOne(db, recordPut(db, ctx.caller.tenantId, idem, undefined, ctx.now()));
  } catch (error) {
    if (!(error instanceof ConditionFailed)) throw error;
    replay(await readRecord(db, ctx.caller.tenantId, idem), idem);
  }
};

/** What one attempt decided: the writes and the answer. Each write's own `onConditionFailed` explains a cancellation. */
export interface WritePlan<R> {
  writes: Write[];
  result: R;
}

/**
 * Optimistic concurrency with exactly-once effect: each attempt reads and
 * plans, then writes the plan and the idempotency record in one
 * TransactWriteItems, so the change, its ledger rows and the record can
 * never disagree. A cancelled attempt is explained by the failed write's own
 * domain error, or re-planned (with what the cancellation returned) under the
 * one retry policy; a cancelled idempotency record means a duplicate won,
 * and its stored answer is returned instead.
 */
export const commitIdempotent = async <R>(
  deps: Deps,
  plan: (attempt: number, lastCancelled: TransactionCancelled | undefined) => Promise<WritePlan<R>>,
  idempotency: Idempotency | undefined = deps.ctx.idempotency,
): Promise<R> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  if (idempotency) {
    const earlier = replay<R>(await readRecord(db, tenantId, idempotency), idempotency);
    if (earlier) return earlier.result;
  }
  try {
    return await retrying<R, TransactionCancelled>({ ...CONTENDED_WRITE, deadline: ctx.deadline }, async (attempt, lastCancelled) => {
      const decided = await plan(attempt, lastCancelled);
      // Nothing to change (e.g. cancelling a cancelled order): the answer needs no write.
      if (decided.writes.length === 0) return { done: decided.result };
      const writes = idempotency ? [...decided.writes, recordPut(db, tenantId, idempotency, decided.result, ctx.now())] : decided.writes;
      try {
        await transactWrite(db, writes);
        return { done: decided.result };
      } catch (error) {
        if (!(error instanceof TransactionCancelled)) throw error;
        if (idempotency && error.failed(RECORD)) {
          const winner = replay<R>(await readRecord(db, tenantId, idempotency), idempotency);
          if (winner) return { done: winner.result };
        }
        const explained = error.explain();
        if (explained) throw explained;
        return { retry: error };
      }
    });
  } catch (error) {
    if (error instanceof RetriesExhausted) throw keptChanging(error.attempts);
    // A refusal may be this request's own duplicate having won meanwhile (sent twice at once with one key:
    // the other copy committed after this one read the record, and this one then found the state moved,
    // e.g. the order already shipped). The key's record says so: answer what the winner answered.
    if (idempotency && error instanceof AppError) {
      const winner = replay<R>(await readRecord(db, tenantId, idempotency), idempotency);
      if (winner) return winner.result;
    }
    throw error;
  }
};
