import { isDeepStrictEqual } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { z, type ZodType } from 'zod';
import type { Db } from '../../functions/platform/db';
import type { HttpMethod } from '../../functions/platform/routes';
import { ROLES, type Role } from '../../functions/identity/roles';

/**
 * Building blocks of the wiring-driven property test (test/integration/fuzz.test.ts):
 * a snapshot of every item a tenant owns, and fast-check arbitraries for
 * hostile bodies, query strings, path segments, cursors and headers.
 */

// ---------- the tenant's state ----------

export type Item = Record<string, unknown>;

const SCAN_SEGMENTS = 4;

/**
 * Every item of the tenant in the table, whatever its kind (items carry
 * `tenant_id`; partitions start with `T#<tenant>#`), sorted by key: two
 * snapshots are equal exactly when nothing of the tenant was written.
 */
export const snapshotTenant = async (db: Db, tenantId: string): Promise<Item[]> => {
  const segments = await Promise.all(
    Array.from({ length: SCAN_SEGMENTS }, async (_, segment) => {
      const items: Item[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await db.client.send(
          new ScanCommand({
            TableName: db.table,
            Segment: segment,
            TotalSegments: SCAN_SEGMENTS,
            ConsistentRead: true,
            FilterExpression: 'tenant_id = :tenant OR begins_with(pk, :prefix)',
            ExpressionAttributeValues: { ':tenant': tenantId, ':prefix': `T#${tenantId}#` },
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    }),
  );
  const keyOf = (item: Item): string => `${String(item.pk)}\u0000${String(item.sk)}`;
  return segments.flat().sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
};

/** What changed between two snapshots, by key: items added, removed and changed (with the changed attributes). */
export const stateDiff = (before: Item[], after: Item[]): string[] => {
  const keyOf = (item: Item): string => `${String(item.pk)} | ${String(item.sk)}`;
  const was = new Map(before.map((item) => [keyOf(item), item]));
  const now = new Map(after.map((item) => [keyOf(item), item]));
  const changes: string[] = [];
  for (const [key, item] of now) {
    const old = was.get(key);
    if (!old) changes.push(`added ${key}: ${clip(JSON.stringify(item))}`);
    else if (!isDeepStrictEqual(old, item)) {
      const attributes = [...new Set([...Object.keys(old), ...Object.keys(item)])].filter((a) => !isDeepStrictEqual(old[a], item[a]));
      changes.push(`changed ${key}: ${attributes.map((a) => `${a} ${clip(JSON.stringify(old[a]))} -> ${clip(JSON.stringify(item[a]))}`).join(', ')}`);
    }
  }
  for (const key of was.keys()) if (!now.has(key)) changes.push(`removed ${key}`);
  return changes;
};

// ---------- requests ----------

export interface FuzzRequest {
  role: Role;
  method: HttpMethod;
  /** Path and query exactly as sent: encoded, or deliberately malformed. */
  target: string;
  headers: Record<string, string>;
  body?: string;
}

const CLIP = 300;
/** Long values shortened for a readable report, saying how long they were. */
export const clip = (text: string | undefined): string =>
  text === undefined ? '(none)' : text.length <= CLIP ? text : `${text.slice(0, CLIP)}... (${text.length} characters)`;

export const describeRequest = (request: FuzzRequest): string =>
  [
    `${request.method} ${clip(request.target)} as ${request.role}`,
    `headers ${clip(JSON.stringify(request.headers))}`,
    `body ${clip(request.body)}`,
  ].join('\n  ');

/** A real next_cursor and the listing (route path, as declared) that returned it. */
export interface RealCursor {
  listing: string;
  cursor: string;
}

/** What the ids and cursors of the fuzzed tenant and of another tenant are. */
export interface World {
  tenantId: string;
  otherTenantId: string;
  /** The fuzzed tenant's real ids by kind (`sku_id`, `order_id`, ...). */
  ids: Record<string, string[]>;
  /** Another tenant's real ids by kind. */
  foreignIds: Record<string, string[]>;
  /** Real cursors of the fuzzed tenant's listings, of the first id of each kind where the path names one. */
  cursors: RealCursor[];
  /** Real cursors of the other tenant's listings. */
  foreignCursors: RealCursor[];
}

const weighted = <T>(...entries: [number, fc.Arbitrary<T>][]): fc.Arbitrary<T> =>
  fc.oneof(...entries.filter(([weight]) => weight > 0).map(([weight, arbitrary]) => ({ weight, arbitrary })));

const pick = <T>(values: readonly T[], fallback: T): fc.Arbitrary<T> => fc.constantFrom(...(values.length ? values : [fallback]));

const allOf = (ids: Record<string, string[]>): string[] => [...new Set(Object.values(ids).flat())];

/** Strings with everything: unicode, controls, separators, and long ones. */
const anyText = weighted<string>(
  [3, fc.string({ unit: 'grapheme', maxLength: 40 })],
  [2, fc.string({ unit: 'binary', maxLength: 40 })],
  [1, fc.constantFrom('', ' ', '#', 'T#', '\u0000', 'null', 'undefined', '__proto__', 'constructor', '😀'.repeat(30), 'ǅ\u0301\u200d')],
  [1, fc.integer({ min: 65, max: 5000 }).map((n) => 'x'.repeat(n))],
);

const encode = (text: string): string => {
  try {
    return encodeURIComponent(text);
  } catch {
    // A lone surrogate: send its code units as single percent-encoded bytes, which no decoder accepts as UTF-8.
    return [...text].map((char) => `%${(char.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')}`).join('');
  }
};

// ---------- the families of hostile input ----------

/**
 * Each kind of hostile input is a family, and every route is fuzzed with
 * every family that applies to it (a few runs each), so a rare kind is never
 * crowded out by a common one within a small number of runs.
 */
export const FAMILIES = [
  'path: malformed percent-encoding',
  'path: random, encoded and unicode segments',
  "path: another tenant's and other kinds' real ids",
  'query: dates the ledger cannot express, impossible dates',
  'query: forged cursors (a real one with the wrong key shape)',
  'query: real cursors reused with other filters, from other listings and another tenant',
  'query: odd numbers',
  'query: wrong enum values and ids',
  'query: unknown keys and malformed syntax',
  'body: __proto__, constructor and other prototype keys',
  'body: wrong types',
  'body: negative, fractional and huge numbers',
  'body: empty, huge and unicode strings',
  'body: unknown fields',
  'body: fields removed, wrapped or repeated',
  'body: arbitrary JSON, deep nesting and malformed text',
  'headers: random Idempotency-Key and content type',
  'roles: every role',
] as const;
export type Family = (typeof FAMILIES)[number];

/** Families whose failures hide in a few specific combinations (a cursor next to the wrong filters): they get more runs. */
export const SEARCHING_FAMILIES: readonly Family[] = [
  'query: dates the ledger cannot express, impossible dates',
  'query: forged cursors (a real one with the wrong key shape)',
  'query: real cursors reused with other filters, from other listings and another tenant',
];

// ---------- path segments ----------

/** Percent-encodings a decoder refuses or that decode to something surprising. */
const MALFORMED_PERCENT = ['%', '%%', '%E0%A4%A', '%ZZ', '%00', '%2F', '%23', '%3F', '%C0%AF', '%FF', '%F0%9F', 'a%', '%2e%2e', '%2E', '%20', '%u0041', '%ED%A0%80'];

const malformedSegment = fc
  .tuple(fc.constantFrom('', 'sku-1', 'a'), fc.constantFrom(...MALFORMED_PERCENT), fc.constantFrom('', 'x', '%41', '%'))
  .map((parts) => parts.join(''));

const randomSegment = (world: World): fc.Arbitrary<string> =>
  weighted<string>(
    [3, anyText.map(encode)],
    // Raw characters (fetch encodes what a URL cannot hold); '/', '?' and '#' would end the segment.
    [2, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s) => s.replace(/[/?#%]/g, '_'))],
    [1, fc.constantFrom(encode('a#b'), encode('T#other#SKU'), encode(`T#${world.otherTenantId}#SKU`), 'a'.repeat(65), 'a'.repeat(3000), '.', '..', '-a', 'a.b', '%20a', 'A'.repeat(64))],
  );

const foreignSegment = (world: World): fc.Arbitrary<string> => weighted<string>([3, pick(allOf(world.foreignIds), 'none')], [1, pick(allOf(world.ids), 'none')]);

// ---------- cursors ----------

const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

const decodedKey = (cursor: string): Record<string, unknown> => {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return typeof key === 'object' && key !== null && !Array.isArray(key) ? { ...key } : {};
  } catch {
    return {};
  }
};

/** A real cursor's key made wrong in one way: an attribute dropped, emptied, retyped or added, the tenant swapped. */
const forgedCursor = (world: World, listing: string): fc.Arbitrary<string> => {
  const own = world.cursors.filter((c) => c.listing === listing);
  const real = pick((own.length ? own : world.cursors).map((c) => c.cursor), base64url('{}'));
  const odd = weighted<unknown>([3, fc.constantFrom('', ' ', '#', 'zzz', '~', 'x'.repeat(1100))], [1, fc.constantFrom<unknown>(0, -1, null, true, [], {}, { S: 'x' })], [1, anyText]);
  return fc
    .tuple(real, fc.nat(), odd, fc.constantFrom('extra', 'tenant_id', 'entity', 'gsi1pk', 'gsi1sk', 'pk', 'sk', '__proto__'), fc.nat(5), fc.boolean())
    .map(([cursor, at, value, extra, how, standardBase64]) => {
      const key = decodedKey(cursor);
      const names = Object.keys(key);
      const name = names.length ? (names[at % names.length] ?? 'pk') : 'pk';
      const forged: Record<string, unknown> =
        how === 0
          ? Object.fromEntries(Object.entries(key).filter(([k]) => k !== name))
          : how === 1
            ? { ...key, [name]: value }
            : how === 2
              ? { ...key, [extra]: typeof value === 'string' ? value : 'x' }
              : how === 3
                ? { pk: key.pk ?? key.gsi1pk }
                : how === 4
                  ? JSON.parse(JSON.stringify(key).replaceAll(world.tenantId, world.otherTenantId))
                  : { ...key, sk: '' };
      const text = JSON.stringify(forged);
      return standardBase64 ? Buffer.from(text, 'utf8').toString('base64') : base64url(text);
    });
};

/**
 * Real cursors used where they do not belong: this listing's own next to
 * other filters than the ones that made it, other listings' of this tenant,
 * another tenant's; whole, cut or with a character changed.
 */
const foreignCursor = (world: World, listing: string): fc.Arbitrary<string> => {
  const sameListing = world.cursors.filter((c) => c.listing === listing).map((c) => c.cursor);
  const others = [...world.cursors.filter((c) => c.listing !== listing), ...world.foreignCursors].map((c) => c.cursor);
  const any = pick([...sameListing, ...others], base64url('{}'));
  return weighted<string>(
    [sameListing.length ? 8 : 0, pick(sameListing, base64url('{}'))],
    [3, pick(others, base64url('{}'))],
    [1, any.map((c) => c.slice(0, Math.floor(c.length / 2)))],
    [1, fc.tuple(any, fc.nat(), fc.constantFrom('A', '_', '-', '=', '%', '+')).map(([c, at, char]) => `${c.slice(0, at % Math.max(c.length, 1))}${char}${c.slice((at % Math.max(c.length, 1)) + 1)}`)],
    [1, fc.jsonValue({ maxDepth: 2 }).map((v) => base64url(JSON.stringify(v)))],
    [1, fc.constantFrom('', '!!!', '====', 'x'.repeat(2049), base64url('x'.repeat(1600)))],
  );
};

// ---------- query strings ----------

/** Dates the ledger's ids cannot express (before 1970, far future), impossible dates, and unusual forms. */
export const DATES = [
  '0000-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '1969-12-31T23:59:59.999Z',
  '1900-01-01T00:00:00+01:00',
  '1970-01-01T00:00:00Z',
  '1970-01-01T00:00:00.000+00:01',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00.000Z',
  '-000001-01-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:60Z',
  '2026-01-01T00:00:00+23:59',
  '2026-01-01T00:00:00.123456789Z',
  '2026-01-01',
  'now',
];

const NUMBERS = ['0', '-1', '1.5', '201', '1e2', 'NaN', 'Infinity', '-0', '0x10', ' 5', '', '9'.repeat(400), '00001', '2e308'];

const jsonSchemaProperties = z.record(
  z.string(),
  z.looseObject({ enum: z.array(z.unknown()).optional(), format: z.string().optional(), type: z.string().optional() }),
);
type Property = z.infer<typeof jsonSchemaProperties>[string];

/** The properties of a query schema (a zod object), read from its JSON Schema: enum values, format, type. */
const propertiesOf = (schema: ZodType | undefined): Record<string, Property> =>
  schema ? (jsonSchemaProperties.safeParse(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }).properties).data ?? {}) : {};

const encodePair = ([key, value]: [string, string], encoded: boolean): string =>
  // Mostly encoded as a client would; sometimes raw, so '&', '=', '+' and stray '%' reach the parser.
  encoded ? `${encode(key)}=${encode(value)}` : `${key.replace(/[#\s]/g, '')}=${value.replace(/[#\s]/g, '')}`;

/** A value the query schema accepts for this property: an enum member, a real id, a plain date, a page size. */
const validValueFor = (world: World, name: string, property: Property): fc.Arbitrary<string> | undefined => {
  if (property.enum?.length) return fc.constantFrom(...property.enum.map(String));
  if (property.format === 'date-time') return fc.date({ noInvalidDate: true, min: new Date('2020-01-01'), max: new Date('2030-01-01') }).map((d) => d.toISOString());
  if (property.type === 'integer') return fc.integer({ min: 1, max: 200 }).map(String);
  if (name.endsWith('_id')) return pick(world.ids[name] ?? [], 'none');
  // A cursor is only valid from its own listing; the hostile families cover it.
  return undefined;
};

/** Pairs the schema accepts: the route's required ones (`validQuery`), and a random subset of its other properties. */
const validPairs = (world: World, properties: Record<string, Property>, fixed: Readonly<Record<string, string>> = {}): fc.Arbitrary<[string, string][]> => {
  const required = Object.entries(fixed);
  const candidates = Object.entries(properties).filter(([name]) => !Object.hasOwn(fixed, name)).flatMap(([name, property]) => {
    const value = validValueFor(world, name, property);
    return value ? [fc.option(value.map((v): [string, string] => [name, v]), { nil: undefined, freq: 1 })] : [];
  });
  return fc.tuple(...candidates).map((pairs) => [...required, ...pairs.filter((pair): pair is [string, string] => pair !== undefined)]);
};

const toQuery = (pairs: string[]): string => (pairs.length ? `?${pairs.join('&')}` : '');

/** An accepted query with the given hostile pairs put in (each replacing the valid value of its key). */
const withPairs = (
  world: World,
  properties: Record<string, Property>,
  hostile: fc.Arbitrary<[string, string][]>,
  encoded: fc.Arbitrary<boolean> = fc.constant(true),
  fixed: Readonly<Record<string, string>> = {},
): fc.Arbitrary<string> =>
  fc.tuple(validPairs(world, properties, fixed), hostile, encoded).map(([valid, bad, encodeThem]) => {
    const replaced = new Set(bad.map(([key]) => key));
    return toQuery([...valid.filter(([key]) => !replaced.has(key)).map((pair) => encodePair(pair, true)), ...bad.map((pair) => encodePair(pair, encodeThem))]);
  });

const namesWhere = (properties: Record<string, Property>, test: (name: string, property: Property) => boolean): string[] =>
  Object.entries(properties).flatMap(([name, property]) => (test(name, property) ? [name] : []));

/** The hostile query of one family, or undefined when the route's query has nothing it applies to. */
const hostileQuery = (world: World, route: FuzzedRoute, family: Family): fc.Arbitrary<string> | undefined => {
  const properties = propertiesOf(route.query);
  const pairsWith = (hostile: fc.Arbitrary<[string, string][]>, encoded?: fc.Arbitrary<boolean>) => withPairs(world, properties, hostile, encoded, route.validQuery);
  // A report's window bounds take dates or date-times (no one JSON Schema format): its valid query says which they are.
  const dates = namesWhere(properties, (name, p) => p.format === 'date-time' || /^\d{4}-\d{2}-\d{2}/.test(route.validQuery?.[name] ?? ''));
  const numbers = namesWhere(properties, (_, p) => p.type === 'integer' || p.type === 'number');
  const enumsAndIds = namesWhere(properties, (name, p) => Boolean(p.enum?.length) || name.endsWith('_id'));
  const hasCursor = 'cursor' in properties;
  const some = (names: string[], value: fc.Arbitrary<string>) =>
    fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: names.length }).chain((keys) => fc.tuple(...keys.map((key) => value.map((v): [string, string] => [key, v]))));
  switch (family) {
    case 'query: dates the ledger cannot express, impossible dates':
      return dates.length ? pairsWith(some(dates, weighted<string>([4, fc.constantFrom(...DATES)], [1, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())]))) : undefined;
    case 'query: forged cursors (a real one with the wrong key shape)':
      return hasCursor ? pairsWith(forgedCursor(world, route.path).map((c): [string, string][] => [['cursor', c]])) : undefined;
    case 'query: real cursors reused with other filters, from other listings and another tenant':
      return hasCursor ? pairsWith(foreignCursor(world, route.path).map((c): [string, string][] => [['cursor', c]])) : undefined;
    case 'query: odd numbers':
      return numbers.length ? pairsWith(some(numbers, fc.constantFrom(...NUMBERS))) : undefined;
    case 'query: wrong enum values and ids':
      return enumsAndIds.length
        ? pairsWith(some(enumsAndIds, weighted<string>([2, pick(allOf(world.foreignIds), 'none')], [1, fc.constantFrom('', 'OPEN', 'draft ', 'a#b', 'x'.repeat(65))], [1, anyText])))
        : undefined;
    case 'query: unknown keys and malformed syntax': {
      const key = weighted<string>([2, fc.constantFrom('limit', 'cursor', 'from', 'status', '__proto__', 'constructor', 'toString', 'cursor[]', '', 'a')], [1, anyText]);
      const value = weighted<string>([1, anyText], [1, fc.constantFrom(...NUMBERS)], [1, fc.constantFrom(...DATES)]);
      return weighted<string>(
        [3, pairsWith(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }), fc.boolean())],
        [1, fc.constantFrom('?', '?&&', '?=', '?limit', '?limit=1&limit=2', '?cursor=%', '?from=%E0%A4%A', '?%', '?a=%ZZ', `?${'a=1&'.repeat(300)}`, `?${'x'.repeat(9000)}=1`)],
      );
    }
    default:
      return undefined;
  }
};

// ---------- bodies ----------

/** Marks a number the JSON text should carry beyond double range (JSON.stringify cannot write one). */
const HUGE_NUMBER = '\u0000fuzz-1e400\u0000';
const toJsonText = (value: unknown): string => JSON.stringify(value)?.replaceAll(JSON.stringify(HUGE_NUMBER), '1e400') ?? 'null';

const own = (value: unknown) => ({ value, enumerable: true, writable: true, configurable: true });

/** A copy of `object` with `key` set as an own property, even `__proto__` (which plain assignment would not create). */
const withOwn = (object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> => {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(object)) Object.defineProperty(copy, k, own(v));
  Object.defineProperty(copy, key, own(value));
  return copy;
};

const withoutOwn = (object: Record<string, unknown>, key: string): Record<string, unknown> => {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(object)) if (k !== key) Object.defineProperty(copy, k, own(v));
  return copy;
};

type Path = (string | number)[];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every path into a JSON value, the root included, with the node there. */
const nodesOf = (value: unknown, prefix: Path = []): { path: Path; node: unknown }[] => {
  const here = { path: prefix, node: value };
  if (Array.isArray(value)) return [here, ...value.flatMap((v, i) => nodesOf(v, [...prefix, i]))];
  if (isRecord(value)) return [here, ...Object.entries(value).flatMap(([k, v]) => nodesOf(v, [...prefix, k]))];
  return [here];
};

/** `value` with the node at `path` replaced by what `change` makes of it (undefined: removed). */
const updateAt = (value: unknown, path: Path, change: (node: unknown) => unknown): unknown => {
  const [head, ...rest] = path;
  if (head === undefined) return change(value);
  if (Array.isArray(value) && typeof head === 'number') {
    const next = updateAt(value[head], rest, change);
    return next === undefined ? value.filter((_, i) => i !== head) : value.map((v, i) => (i === head ? next : v));
  }
  if (isRecord(value) && typeof head === 'string') {
    const next = updateAt(value[head], rest, change);
    return next === undefined ? withoutOwn(value, head) : withOwn(value, head, next);
  }
  return value;
};

const DANGEROUS_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then'];

const EXTREME_NUMBERS = [-1, 0, -0, 0.5, 1.5, -1.5, 1e9, 1e9 + 1, 2 ** 31, 2 ** 53, 2 ** 53 + 1, 1e21, 1e308, -1e308, Number.MIN_VALUE, HUGE_NUMBER];
const EXTREME_STRINGS = ['', ' ', '  padded  ', 'x'.repeat(201), 'x'.repeat(2001), 'x'.repeat(100_000), 'T#other#SKU', 'a#b', '\u0000', '😀', 'é', 'e\u0301', '\u202e', '1', '-1.00', '4.2000001', '1e3', 'USD ', 'usd'];

const anyJson = fc.jsonValue({ maxDepth: 2 });

/** One change at one node of a valid body, for one body family; the nodes it may touch are chosen by the family. */
const mutation = (world: World, family: Family, valid: unknown): fc.Arbitrary<unknown> | undefined => {
  const nodes = nodesOf(valid);
  const where = (test: (node: unknown) => boolean) => nodes.filter(({ node }) => test(node)).map(({ path }) => path);
  const objects = where(isRecord);
  const leaves = where((node) => !isRecord(node) && !Array.isArray(node));
  const numbers = where((node) => typeof node === 'number');
  const strings = where((node) => typeof node === 'string');
  const members = nodes.filter(({ path }) => path.length > 0).map(({ path }) => path);
  const at = (paths: Path[], change: fc.Arbitrary<(node: unknown) => unknown>) =>
    paths.length ? fc.tuple(fc.constantFrom(...paths), change).map(([path, apply]) => updateAt(valid, path, apply)) : undefined;
  switch (family) {
    case 'body: __proto__, constructor and other prototype keys':
      // The value is a sibling's when there is one, so the key passes a record's value type and reaches storage.
      return at(
        objects,
        fc.tuple(fc.constantFrom('__proto__', 'constructor', ...DANGEROUS_KEYS), weighted<unknown>([3, fc.constant(undefined)], [1, anyJson], [1, fc.constant({ polluted: true })])).map(
          ([key, value]) => (node: unknown) => {
            const record = isRecord(node) ? node : {};
            const sibling = Object.values(record)[0];
            return withOwn(record, key, value === undefined ? (sibling ?? 'y') : value);
          },
        ),
      );
    case 'body: wrong types':
      return at(leaves, weighted<unknown>([2, fc.constantFrom<unknown>(null, true, [], {}, [null], '1', 1)], [1, anyJson]).map((v) => () => v));
    case 'body: negative, fractional and huge numbers':
      return at(numbers.length ? numbers : leaves, weighted<unknown>([3, fc.constantFrom<unknown>(...EXTREME_NUMBERS)], [1, fc.double({ noNaN: true, noDefaultInfinity: true })]).map((v) => () => v));
    case 'body: empty, huge and unicode strings':
      return at(strings.length ? strings : leaves, weighted<string>([3, fc.constantFrom(...EXTREME_STRINGS)], [1, anyText], [1, pick(allOf(world.foreignIds), 'x')]).map((v) => () => v));
    case 'body: unknown fields':
      return at(objects, fc.tuple(weighted<string>([1, fc.constantFrom('extra', 'tenant_id', 'pk', 'sk', 'version', 'status', 'created_at')], [1, anyText]), anyJson).map(([key, v]) => (node: unknown) => withOwn(isRecord(node) ? node : {}, key, v)));
    case 'body: fields removed, wrapped or repeated':
      return at(
        members,
        fc.constantFrom<(node: unknown) => unknown>(
          () => undefined,
          (node) => [node],
          (node) => ({ value: node }),
          (node) => (Array.isArray(node) ? Array.from({ length: 120 }, () => node[0]) : node),
          (node) => (Array.isArray(node) ? [] : node),
        ),
      );
    default:
      return undefined;
  }
};

/** Nesting deep enough to hurt recursive code (parsers, validators, fingerprints, marshalling). */
const deeplyNested = fc.tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean(), fc.constantFrom('attributes', 'lines', 'a', '__proto__')).map(
  ([depth, arrays, key]) => (arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${`{"${key}":`.repeat(depth)}1${'}'.repeat(depth)}`),
);

const arbitraryBody = weighted<string>(
  [3, fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v))],
  [2, deeplyNested],
  [2, fc.constantFrom('', '{', '{"a":}', '[1,]', 'null', '"x"', '1e400', '{"a":1}{"b":2}', '\u0000', '\ufeff{}', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"x":1}}}', '{}', '[]')],
  [1, fc.string({ unit: 'binary', maxLength: 60 })],
);

/** Headers besides the token: an Idempotency-Key (valid, invalid or absent) and a content type. */
const hostileHeaders = (hasBody: boolean): fc.Arbitrary<Record<string, string>> => {
  const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 40 });
  const idempotencyKey = weighted<string | undefined>(
    [1, fc.constant(undefined)],
    [3, fc.stringMatching(/^[A-Za-z0-9_.:-]{1,128}$/)],
    [2, printable],
    [1, fc.constantFrom('a'.repeat(129), 'a'.repeat(5000), 'has spaces', 'ÿ', ':', '.')],
  );
  const contentType = weighted<string | undefined>(
    [hasBody ? 3 : 1, fc.constant('application/json')],
    [1, fc.constant(undefined)],
    [2, fc.constantFrom('text/plain', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded', 'application/merge-patch+json', 'APPLICATION/JSON', 'application/json; charset=utf-16', '', '*/*')],
  );
  return fc.tuple(idempotencyKey, contentType).map(([key, type]) => ({
    ...(key === undefined ? {} : { 'idempotency-key': key }),
    ...(type === undefined ? {} : { 'content-type': type }),
  }));
};

// ---------- whole requests ----------

/** What the fuzz needs of a route: its method and path, its query schema, and a body it accepts (if it takes one). */
export interface FuzzedRoute {
  method: HttpMethod;
  path: string;
  query?: ZodType;
  validBody?: unknown;
  /** Query parameters a valid request must have (a report's window), always sent unless a family replaces them. */
  validQuery?: Readonly<Record<string, string>>;
}

const paramsOf = (path: string): string[] => [...path.matchAll(/\{([a-z_]+)\}/g)].flatMap((match) => (match[1] === undefined ? [] : [match[1]]));

/**
 * Requests of one family for one route: hostile in that one respect, valid
 * elsewhere (real ids in the path, an accepted query, the valid body, an
 * admin's token), so a forged cursor or a bad date reaches the code behind
 * validation instead of being refused for something else. Undefined when
 * the family does not apply to the route (no path ids, no dates, no body...).
 */
export const requestsFor = (world: World, route: FuzzedRoute, family: Family): fc.Arbitrary<FuzzRequest> | undefined => {
  const params = paramsOf(route.path);
  const properties = propertiesOf(route.query);
  // fetch sends no body with a GET.
  const takesBody = route.method !== 'GET';
  const validBody = route.validBody === undefined ? undefined : toJsonText(route.validBody);
  const jsonHeaders: Record<string, string> = validBody === undefined ? {} : { 'content-type': 'application/json' };
  let segments: fc.Arbitrary<string[]> = fc.tuple(...params.map((param) => pick(world.ids[param] ?? [], 'none')));
  let query: fc.Arbitrary<string> = validPairs(world, properties, route.validQuery).map((pairs) => toQuery(pairs.map((pair) => encodePair(pair, true))));
  let body: fc.Arbitrary<string | undefined> = fc.constant(validBody);
  let sentHeaders: fc.Arbitrary<Record<string, string>> = fc.constant(jsonHeaders);
  let role: fc.Arbitrary<Role> = fc.constant('admin');
  const hostilePath = (segment: fc.Arbitrary<string>) => (params.length ? fc.tuple(...params.map(() => segment)) : undefined);
  if (family.startsWith('path:')) {
    const hostile = hostilePath(
      family === 'path: malformed percent-encoding' ? malformedSegment : family === 'path: random, encoded and unicode segments' ? randomSegment(world) : foreignSegment(world),
    );
    if (!hostile) return undefined;
    segments = hostile;
  } else if (family.startsWith('query:')) {
    const hostile = hostileQuery(world, route, family);
    if (!hostile) return undefined;
    query = hostile;
    // The real cursors were taken from the listings of each kind's first id (World.cursors): keep to those, so a
    // cursor is refused for what the family changed, not for naming another SKU's partition.
    if (family.includes('cursor')) segments = fc.tuple(...params.map((param) => fc.constant(world.ids[param]?.[0] ?? 'none')));
  } else if (family === 'body: arbitrary JSON, deep nesting and malformed text') {
    if (!takesBody) return undefined;
    body = arbitraryBody;
    sentHeaders = fc.constant({ 'content-type': 'application/json' });
  } else if (family.startsWith('body:')) {
    const mutated = takesBody && route.validBody !== undefined ? mutation(world, family, route.validBody) : undefined;
    if (!mutated) return undefined;
    body = mutated.map(toJsonText);
  } else if (family === 'headers: random Idempotency-Key and content type') {
    sentHeaders = hostileHeaders(validBody !== undefined);
  } else {
    role = fc.constantFrom(...ROLES);
  }
  return fc.record({ segments, query, body, sentHeaders, role }).map((parts): FuzzRequest => {
    let i = 0;
    const path = route.path.replace(/\{[a-z_]+\}/g, () => parts.segments[i++] ?? '');
    return { role: parts.role, method: route.method, target: `${path}${parts.query}`, headers: parts.sentHeaders, ...(parts.body === undefined ? {} : { body: parts.body }) };
  });
};
