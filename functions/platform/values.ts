/** Drops undefined fields, so stored items and responses carry only what was given. */
export const definedOnly = <T extends object>(value: T): T => {
  const copy = { ...value };
  // Object.keys forgets that the keys are the keys of T.
  for (const key of Object.keys(copy) as (keyof T)[]) if (copy[key] === undefined) delete copy[key];
  return copy;
};
