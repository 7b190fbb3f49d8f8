import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AppError, errorName, unavailabilityOf } from './errors';
import { log } from './log';
import type { Db } from './db';
import type { StoredItem, Write } from './writes';
import { changesOf, currentAuditScope, noteRead, noteWritten } from './audit-scope';
import { countMetric, METRIC_NAMES } from './metrics';

/** DynamoDB's hard cap on the items in one TransactWriteItems call. */
export const MAX_TRANSACTION_ITEMS = 100;

/**
 * A transaction DynamoDB cancelled, read by write name rather than by
 * position: which writes' conditions failed, the items they found (each
 * write asks for ALL_OLD), and the domain error the first of them declares.
 */
export class TransactionCancelled extends Error {
  constructor(
    readonly writes: readonly Write[],
    readonly reasons: readonly string[],
    readonly items: readonly (StoredItem | undefined)[],
  ) {
    super(`transaction cancelled: ${reasons.join(',')}`);
    this.name = 'TransactionCancelled';
    const failedConditions = reasons.filter((reason) => reason === 'ConditionalCheckFailed').length;
    if (failedConditions > 0) countMetric(METRIC_NAMES.conditionalCheckFailures, failedConditions);
  }

  /** Did the condition of the write with this name fail? */
  failed(name: string): boolean {
    return this.writes.some((write, i) => write.name === name && this.reasons[i] === 'ConditionalCheckFailed');
  }

  /** Did the condition of the write with this name fail because its item does not exist? */
  missing(name: string): boolean {
    return this.writes.some((write, i) => write.name === name && this.reasons[i] === 'ConditionalCheckFailed' && this.items[i] === undefined);
  }

  /** The domain error of the first failed condition whose writer declared one; undefined: state moved, retry. */
  explain(): AppError | undefined {
    for (const [i, write] of this.writes.entries()) {
      if (this.reasons[i] !== 'ConditionalCheckFailed') continue;
      const explained = write.onConditionFailed?.(this.items[i]);
      if (explained) return explained;
    }
    return undefined;
  }

  /** Items of one entity the cancelled writes found as they now stand: fresher than any earlier read. */
  returned(entity: string): StoredItem[] {
    return this.items.flatMap((item) => (item?.entity === entity ? [item] : []));
  }
}

interface CancellationReason {
  Code?: string;
  Item?: Record<string, AttributeValue>;
}

const cancellationReasons = (error: unknown): CancellationReason[] | undefined => {
  if (errorName(error) !== 'TransactionCanceledException' || typeof error !== 'object' || error === null) return undefined;
  const reasons: unknown = 'CancellationReasons' in error ? error.CancellationReasons : undefined;
  return Array.isArray(reasons) ? reasons : [];
};

/**
 * The request's audit record, put in this very transaction when the transaction is the request's
 * whole change (issue 12: "in the same transaction as the change"): the request's first write, not
 * one part of a split request (audit-scope.ts noteParts), with room left under the 100-item cap.
 * Otherwise the HTTP layer writes the record itself before it answers.
 */
const ridingAuditItem = (writes: readonly Write[]): NonNullable<Write['item']> | undefined => {
  const scope = currentAuditScope();
  if (!scope?.transactionItem || scope.recordedInTransaction || scope.parts || scope.writes > 0 || writes.length >= MAX_TRANSACTION_ITEMS) return undefined;
  const { changes, ledgerIds } = changesOf(scope, writes.map((w) => w.change));
  const put = scope.transactionItem(changes, ledgerIds);
  return put && { Put: put };
};

export const transactWrite = async (db: Db, writes: readonly Write[]): Promise<void> => {
  if (writes.length > MAX_TRANSACTION_ITEMS) {
    throw new AppError('VALIDATION_FAILED', `one change may write at most ${MAX_TRANSACTION_ITEMS} items atomically`);
  }
  const auditItem = ridingAuditItem(writes);
  try {
    await db.client.send(new TransactWriteCommand({ TransactItems: [...writes.map((w) => w.item), ...(auditItem ? [auditItem] : [])] }));
    noteWritten(writes.map((w) => w.change));
    const scope = currentAuditScope();
    if (auditItem && scope) scope.recordedInTransaction = true;
  } catch (error) {
    // Cancelled only because DynamoDB is throttling: the database is overloaded (503), not a state
    // that moved, so re-planning would only add load.
    if (unavailabilityOf(error) !== undefined) throw error;
    const reasons = cancellationReasons(error);
    if (!reasons && auditItem) {
      // The transaction carried the request's audit record and failed as a whole (the trail's table
      // unreachable or refused): nothing changed, and the caller is told to retry, as when the HTTP
      // layer cannot put a record (http.ts auditStep).
      log.error('a transaction carrying the audit record failed: nothing written', { error: errorName(error) ?? String(error) });
      throw new AppError('UNAVAILABLE', 'the change could not be recorded in the audit trail, so nothing was changed; retry it with the same Idempotency-Key');
    }
    if (!reasons) throw error;
    // The audit item, if it rode along, is last: its reason (if any) is past the writes' and ignored.
    const items = reasons.slice(0, writes.length).map((r) => (r.Item ? unmarshall(r.Item) : undefined));
    // What a cancellation returns is fresher than any earlier read: the "before" of the next attempt's writes.
    noteRead(items);
    throw new TransactionCancelled(
      writes,
      reasons.slice(0, writes.length).map((r) => r.Code ?? 'None'),
      items,
    );
  }
};
