import * as z from 'zod';

/** Drops undefined fields, so stored items and responses carry only what was given. */
export const definedOnly = <T extends object>(value: T): T => {
  const copy = { ...value };
  // Object.keys forgets that the keys are the keys of T.
  for (const key of Object.keys(copy) as (keyof T)[]) if (copy[key] === undefined) delete copy[key];
  return copy;
};

/**
 * JSON with object keys sorted at every level, so two values that are equal
 * as JSON give the same text whatever order their keys were built in (for
 * digests and fingerprints).
 */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

/**
 * Keys a free-form record (caller-chosen names) may not use. `__proto__` is
 * what zod's z.record silently drops (it would replace the prototype of the
 * object it builds), `constructor` makes the DynamoDB marshaller take the
 * record for a class instance and fail, and both with `prototype` are the
 * names of prototype-pollution attacks on any JavaScript client that merges
 * such a record. They are refused with 400 rather than stored, so what is
 * stored is always exactly what was sent.
 */
export const RESERVED_RECORD_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];
const reserved = new Set(RESERVED_RECORD_KEYS);

/**
 * A free-form record that refuses the reserved keys by name (400 on
 * `<field>.<key>`). The check runs before `record` parses, since z.record
 * never shows `__proto__` to its key schema; the documented schema is
 * `record`'s own.
 */
export const freeFormRecord = <S extends z.ZodType>(record: S) =>
  z.preprocess((input, ctx) => {
    if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
      for (const key of Object.keys(input)) {
        if (reserved.has(key)) {
          ctx.addIssue({ code: 'custom', path: [key], input, message: `"${key}" is a reserved name: use another (${RESERVED_RECORD_KEYS.join(', ')} are refused)` });
        }
      }
    }
    return input;
  }, record);
