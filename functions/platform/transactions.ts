import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AppError } from './errors';
import type { Db } from './db';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's hard cap on the items in one TransactWriteItems call. */
export const MAX_TRANSACTION_ITEMS = 100;

/**
 * A transaction DynamoDB cancelled; `reasons[i]` is the outcome code of item i
 * and `items[i]` the item as it stood, when that write asked for it with
 * ReturnValuesOnConditionCheckFailure (so a retry need not read it again).
 */
export class TransactionCancelled extends Error {
  constructor(
    readonly reasons: string[],
    readonly items: (Record<string, unknown> | undefined)[] = [],
  ) {
    super(`transaction cancelled: ${reasons.join(',')}`);
    this.name = 'TransactionCancelled';
  }
  failedAt(index: number): boolean {
    return this.reasons[index] === 'ConditionalCheckFailed';
  }
  /** Cancelled because another transaction touched the same items at the same time (worth a retry). */
  get isConflict(): boolean {
    return this.reasons.includes('TransactionConflict');
  }
}

interface CancellationError {
  name: string;
  CancellationReasons?: { Code?: string; Item?: Record<string, AttributeValue> }[];
}

const isCancellation = (error: unknown): error is CancellationError =>
  typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TransactionCanceledException';

export const transactWrite = async (db: Db, items: TransactItem[]): Promise<void> => {
  if (items.length > MAX_TRANSACTION_ITEMS) {
    throw new AppError('VALIDATION_FAILED', `one change may write at most ${MAX_TRANSACTION_ITEMS} items atomically`);
  }
  try {
    await db.client.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if (isCancellation(error)) {
      const reasons = error.CancellationReasons ?? [];
      throw new TransactionCancelled(
        reasons.map((r) => r.Code ?? 'None'),
        reasons.map((r) => (r.Item ? unmarshall(r.Item) : undefined)),
      );
    }
    throw error;
  }
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter exponential backoff (AWS architecture blog): spreads retrying writers apart. */
export const backoff = (attempt: number, baseMs = 4, capMs = 200): Promise<void> =>
  sleep(Math.random() * Math.min(capMs, baseMs * 2 ** attempt));
