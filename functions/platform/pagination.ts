import { z } from 'zod';
import { AppError } from './errors';

type KeyMap = Record<string, unknown>;

/** A LastEvaluatedKey of this table: key attribute names to string values. */
const storedKey = z.record(z.string(), z.string());

/**
 * Opaque cursors: the DynamoDB LastEvaluatedKey, base64url-encoded. A
 * decoded cursor must belong to the partition being read, so a cursor
 * crafted from another tenant's key is refused, never followed.
 */
export const encodeCursor = (key: KeyMap | undefined): string | null =>
  key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : null;

export const decodeCursor = (
  cursor: string | undefined,
  partition: { attribute: string; value: string },
): KeyMap | undefined => {
  if (cursor === undefined) return undefined;
  const invalid = new AppError('VALIDATION_FAILED', 'the cursor is not one this list returned', {
    fields: [{ in: 'query', path: 'cursor', message: 'unknown or tampered cursor' }],
  });
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const map = storedKey.safeParse(key);
  if (!map.success || map.data[partition.attribute] !== partition.value) throw invalid;
  return map.data;
};

export const DEFAULT_PAGE_SIZE = 50;
