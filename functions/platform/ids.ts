import { encodeTime, monotonicFactory, TIME_LEN, ulid } from 'ulid';
import * as z from 'zod';

/**
 * Ids are chosen by callers and end up inside DynamoDB keys, where `#` is the
 * separator. The safe set is: 1-64 characters of letters, digits, `_`, `-`
 * and `.`, starting with a letter or digit. Anything else is rejected with 400
 * before it can reach a key.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const idSchema = z
  .string()
  .regex(ID_PATTERN, 'must be 1-64 characters of letters, digits, "_", "-" or ".", starting with a letter or digit');

export const newId = (): string => ulid();

const monotonic = monotonicFactory();

/**
 * A ULID that sorts after every other this process made, even within one millisecond (the random
 * part is incremented then): for ids whose order is meaning, such as demand-history imports, where
 * the later import wins. Across processes the order is the clock's.
 */
export const newSortableId = (): string => monotonic();

/**
 * A chosen id that sorts among ULIDs by its instant: the ULID time part of `epochMs`, then `-<name>`
 * (`-` sorts below every ULID character, so it comes before the ULIDs made in the same millisecond).
 * For ids a schedule derives from its slot (one per slot, however often the slot fires) in a partition
 * whose other ids are ULIDs, so a newest-first query still finds the latest.
 */
export const timeOrderedId = (epochMs: number, name: string): string => `${encodeTime(epochMs, TIME_LEN)}-${name}`;

/**
 * The instants a ULID can carry: its first 48 bits are milliseconds since
 * 1970-01-01T00:00:00Z, so nothing before the epoch and nothing after
 * 10889-08-02T05:31:50.655Z. Ids that sort by time (ledger rows) cannot
 * express a range bound outside these.
 */
export const ULID_TIME_MIN_MS = 0;
export const ULID_TIME_MAX_MS = 2 ** 48 - 1;

export const isUlidTime = (epochMs: number): boolean => Number.isInteger(epochMs) && epochMs >= ULID_TIME_MIN_MS && epochMs <= ULID_TIME_MAX_MS;
