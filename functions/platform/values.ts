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
