import { ulid } from 'ulid';
import { z } from 'zod';

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
