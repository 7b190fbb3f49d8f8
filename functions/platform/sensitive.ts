import * as z from 'zod';
import type { ZodType } from 'zod';
import type { $ZodType } from 'zod/v4/core';
import type { Permission } from './permissions';

/**
 * Response fields only some roles are shown (issue 12 part 6): money (costs:read), supplier contacts
 * (suppliers:contact). A response schema tags such a field with `shownOnlyWith`; the HTTP layer
 * (http.ts) leaves every tagged field out of the answer, JSON or CSV, for a caller whose role lacks
 * the permission, wherever the field sits (lists, nested objects, report lines), and the OpenAPI
 * document (functions/api/openapi.ts) marks the field optional and says who sees it. Domain code
 * returns whole results and never needs to remember who may see what.
 */
const requirements = z.registry<{ requires: Permission }, $ZodType>();

/**
 * `schema` as a field only roles holding `permission` are shown. A tagged copy: a schema used elsewhere
 * untagged stays as it is. Tag the field as it sits in its object (after `.optional()`, `.describe()`).
 */
export const shownOnlyWith = <S extends ZodType>(permission: Permission, schema: S): S => {
  const tagged = schema.clone();
  requirements.add(tagged, { requires: permission });
  return tagged;
};

/** What `schema` wraps, when it only wraps one schema (optional, nullable, default, readonly, catch, lazy). */
const innerOf = (schema: $ZodType): $ZodType | undefined => {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodNonOptional) return schema.unwrap();
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodReadonly || schema instanceof z.ZodCatch) return schema.unwrap();
  if (schema instanceof z.ZodLazy) return schema.unwrap();
  return undefined;
};

/** The permission a field needs to be shown, looking through the wrappers of a tagged schema; undefined: everyone sees it. */
export const permissionToSee = (schema: $ZodType): Permission | undefined => {
  for (let at: $ZodType | undefined = schema; at !== undefined; at = innerOf(at)) {
    const meta = requirements.get(at);
    if (meta) return meta.requires;
  }
  return undefined;
};

/** The schemas a value of `schema` holds values of: fields, elements, options, wrapped schemas. */
const partsOf = (schema: $ZodType): $ZodType[] => {
  const inner = innerOf(schema);
  if (inner) return [inner];
  if (schema instanceof z.ZodObject) return Object.values<$ZodType>(schema.shape);
  if (schema instanceof z.ZodArray) return [schema.element];
  if (schema instanceof z.ZodUnion) return [...schema.options];
  if (schema instanceof z.ZodIntersection) return [schema._zod.def.left, schema._zod.def.right];
  if (schema instanceof z.ZodRecord) return [schema.valueType];
  if (schema instanceof z.ZodTuple) return [...schema._zod.def.items];
  // A response's pipe (a transform) answers what its output side is.
  if (schema instanceof z.ZodPipe) return [schema.out];
  return [];
};

const mentioned = new WeakMap<$ZodType, ReadonlySet<Permission>>();

/**
 * Every permission a field anywhere inside `schema` needs to be shown. Cached per schema (response schemas are
 * module constants), so a caller who holds them all costs one lookup, and the answer is passed on untouched.
 */
export const permissionsToSeeAll = (schema: $ZodType): ReadonlySet<Permission> => {
  const cached = mentioned.get(schema);
  if (cached) return cached;
  const found = new Set<Permission>();
  const seen = new Set<$ZodType>();
  const visit = (at: $ZodType): void => {
    // A recursive (lazy) schema comes round again: each schema is looked into once.
    if (seen.has(at)) return;
    seen.add(at);
    const own = requirements.get(at);
    if (own) found.add(own.requires);
    for (const part of partsOf(at)) visit(part);
  };
  visit(schema);
  mentioned.set(schema, found);
  return found;
};

const fields = z.record(z.string(), z.unknown());

/** `value` (a value of `schema`) without the fields `may` says no to; everything else as it was. */
const strip = (schema: $ZodType, value: unknown, may: (permission: Permission) => boolean): unknown => {
  if (value === undefined || value === null) return value;
  const inner = innerOf(schema);
  if (inner) return strip(inner, value, may);
  if (schema instanceof z.ZodObject) {
    const object = fields.safeParse(value);
    if (!object.success || Array.isArray(value)) return value;
    const shape: Record<string, $ZodType> = schema.shape;
    const kept: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(object.data)) {
      const fieldSchema = shape[name];
      if (fieldSchema === undefined) {
        kept[name] = field;
        continue;
      }
      const needs = permissionToSee(fieldSchema);
      if (needs !== undefined && !may(needs)) continue;
      kept[name] = strip(fieldSchema, field, may);
    }
    return kept;
  }
  if (schema instanceof z.ZodArray) return Array.isArray(value) ? value.map((each: unknown) => strip(schema.element, each, may)) : value;
  if (schema instanceof z.ZodRecord) {
    const record = fields.safeParse(value);
    if (!record.success || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(record.data).map(([name, each]) => [name, strip(schema.valueType, each, may)]));
  }
  if (schema instanceof z.ZodUnion) {
    // The option the value is (a report's kind, say); when none parses it, each option takes out what it would.
    const options: readonly $ZodType[] = schema.options;
    const matching = options.find((option) => permissionsToSeeAll(option).size > 0 && z.safeParse(option, value).success);
    if (matching) return strip(matching, value, may);
    return options.reduce<unknown>((each, option) => strip(option, each, may), value);
  }
  if (schema instanceof z.ZodIntersection) return strip(schema._zod.def.right, strip(schema._zod.def.left, value, may), may);
  if (schema instanceof z.ZodPipe) return strip(schema.out, value, may);
  return value;
};

/**
 * A response as a caller may see it: `value`, answered under `schema`, without every tagged field whose
 * permission `may` refuses. A caller who may see everything the schema tags gets `value` itself.
 */
export const withheldFrom = (schema: $ZodType, value: unknown, may: (permission: Permission) => boolean): unknown => {
  const needs = permissionsToSeeAll(schema);
  if (needs.size === 0 || [...needs].every(may)) return value;
  return strip(schema, value, may);
};

/** The columns of a CSV list (its row schema's keys, in order) a caller may see. */
export const columnsShown = (row: z.ZodObject, may: (permission: Permission) => boolean): string[] =>
  Object.entries<$ZodType>(row.shape)
    .filter(([, column]) => {
      const needs = permissionToSee(column);
      return needs === undefined || may(needs);
    })
    .map(([name]) => name);

/** The tagged columns of a CSV list and the permission each needs (what the OpenAPI document names for it). */
export const withheldColumns = (row: z.ZodObject): Record<string, Permission> =>
  Object.fromEntries(
    Object.entries<$ZodType>(row.shape).flatMap(([name, column]) => {
      const needs = permissionToSee(column);
      return needs === undefined ? [] : [[name, needs]];
    }),
  );

/**
 * The permissions of the tagged fields `value` (a value of `schema`) actually holds: what an answer shows
 * that not every role may see (for tests, and for whoever records reads of sensitive data).
 */
export const permissionsShownIn = (schema: $ZodType, value: unknown): ReadonlySet<Permission> => {
  const shown = new Set<Permission>();
  if (permissionsToSeeAll(schema).size === 0) return shown;
  strip(schema, value, (permission) => {
    shown.add(permission);
    return true;
  });
  return shown;
};
