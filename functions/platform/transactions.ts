import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AppError, errorName, unavailabilityOf } from './errors';
import type { Db } from './db';
import type { StoredItem, Write } from './writes';

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

export const transactWrite = async (db: Db, writes: readonly Write[]): Promise<void> => {
  if (writes.length > MAX_TRANSACTION_ITEMS) {
    throw new AppError('VALIDATION_FAILED', `one change may write at most ${MAX_TRANSACTION_ITEMS} items atomically`);
  }
  try {
    await db.client.send(new TransactWriteCommand({ TransactItems: writes.map((w) => w.item) }));
  } catch (error) {
    // Cancelled only because DynamoDB is throttling: the database is overloaded (503), not a state
    // that moved, so re-planning would only add load.
    if (unavailabilityOf(error) !== undefined) throw error;
    const reasons = cancellationReasons(error);
    if (!reasons) throw error;
    throw new TransactionCancelled(
      writes,
      reasons.map((r) => r.Code ?? 'None'),
      reasons.map((r) => (r.Item ? unmarshall(r.Item) : undefined)),
    );
  }
};
