import { DeleteCommand, PutCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Db } from './db';
import { errorName, type AppError } from './errors';
import type { IndexKey, Key } from './keys';
import { noteRead, noteWritten, type WriteChange } from './audit-scope';
import { CORRELATION_ATTRIBUTE, currentCorrelationId } from './log';
import { countMetric, METRIC_NAMES } from './metrics';

/**
 * One way to write: every conditional put, update, delete or check is built
 * here from *named* conditions, and a failed condition becomes the domain
 * error its writer declared, built from the item as it stands (DynamoDB
 * returns it: ReturnValuesOnConditionCheckFailure ALL_OLD). This is the
 * shape of Powertools' idempotency persistence layer, whose conditional put
 * turns into IdempotencyItemAlreadyExistsError carrying the existing record.
 */
/** An item as DynamoDB holds it, before decoding. */
export type StoredItem = Record<string, unknown>;

export type Condition =
  | { op: 'absent' }
  | { op: 'missing'; attribute: string }
  | { op: 'exists' }
  | { op: 'equals'; attribute: string; value: NativeAttributeValue }
  | { op: 'in'; attribute: string; values: readonly NativeAttributeValue[] }
  | { op: 'atLeast'; attribute: string; value: number }
  | { op: 'below'; attribute: string; value: number | string }
  | { op: 'atMost'; attribute: string; value: number }
  | { op: 'contains'; attribute: string; value: NativeAttributeValue }
  | { op: 'and' | 'or'; of: Condition[] };

export const when = {
  /** The item does not exist yet (create). */
  absent: (): Condition => ({ op: 'absent' }),
  /** The item (if any) has no such attribute. */
  missing: (attribute: string): Condition => ({ op: 'missing', attribute }),
  exists: (): Condition => ({ op: 'exists' }),
  /** Optimistic concurrency: the item is still at the version this change was computed from. */
  versionIs: (version: number): Condition => ({ op: 'equals', attribute: 'version', value: version }),
  equals: (attribute: string, value: NativeAttributeValue): Condition => ({ op: 'equals', attribute, value }),
  statusIn: (statuses: readonly string[]): Condition => ({ op: 'in', attribute: 'status', values: statuses }),
  atLeast: (attribute: string, value: number): Condition => ({ op: 'atLeast', attribute, value }),
  /** Numbers compare as numbers; strings by their bytes, so ISO instants written alike (toISOString) compare in time order. */
  below: (attribute: string, value: number | string): Condition => ({ op: 'below', attribute, value }),
  atMost: (attribute: string, value: number): Condition => ({ op: 'atMost', attribute, value }),
  /** A list (or set) attribute holds the value; a string attribute contains it. */
  contains: (attribute: string, value: NativeAttributeValue): Condition => ({ op: 'contains', attribute, value }),
  and: (...of: Condition[]): Condition => ({ op: 'and', of }),
  or: (...of: Condition[]): Condition => ({ op: 'or', of }),
  /** A new item, or a versioned one still at `previousVersion`. */
  newOrVersion: (previousVersion: number | undefined): Condition =>
    previousVersion === undefined ? when.absent() : when.versionIs(previousVersion),
};

interface Expression {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, NativeAttributeValue>;
}

/** Builds expressions with generated placeholders, so conditions and updates of one write never collide. */
class Placeholders {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, NativeAttributeValue> = {};
  private count = 0;
  name(attribute: string): string {
    const placeholder = `#n${this.count++}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }
  value(value: NativeAttributeValue): string {
    const placeholder = `:v${this.count++}`;
    this.values[placeholder] = value;
    return placeholder;
  }
  expression(): Omit<Expression, 'ConditionExpression'> {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

const compile = (condition: Condition, p: Placeholders): string => {
  switch (condition.op) {
    case 'absent':
      return `attribute_not_exists(${p.name('pk')})`;
    case 'missing':
      return `attribute_not_exists(${p.name(condition.attribute)})`;
    case 'exists':
      return `attribute_exists(${p.name('pk')})`;
    case 'equals':
      return `${p.name(condition.attribute)} = ${p.value(condition.value)}`;
    case 'in':
      return `${p.name(condition.attribute)} IN (${condition.values.map((v) => p.value(v)).join(', ')})`;
    case 'atLeast':
      return `${p.name(condition.attribute)} >= ${p.value(condition.value)}`;
    case 'below':
      return `${p.name(condition.attribute)} < ${p.value(condition.value)}`;
    case 'atMost':
      return `${p.name(condition.attribute)} <= ${p.value(condition.value)}`;
    case 'contains':
      return `contains(${p.name(condition.attribute)}, ${p.value(condition.value)})`;
    case 'and':
    case 'or':
      return condition.of.map((c) => `(${compile(c, p)})`).join(condition.op === 'and' ? ' AND ' : ' OR ');
  }
};

/** A condition as a query's FilterExpression, with its own placeholders. */
export const compileFilter = (condition: Condition): { expression: string; names: Record<string, string>; values: Record<string, NativeAttributeValue> } => {
  const p = new Placeholders();
  const expression = compile(condition, p);
  return { expression, names: p.names, values: p.values };
};

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * A write with its meaning: `name` says what it is in errors and logs, and
 * `onConditionFailed` turns a failed condition into the caller's answer
 * (built from the current item, undefined when there is none). Without it,
 * or when it returns undefined, the state simply moved: the change is
 * re-planned and retried.
 */
export interface Write {
  name: string;
  item: TransactItem;
  onConditionFailed?: (current: StoredItem | undefined) => AppError | undefined;
  /** What the write changes, for the request's audit record (audit-scope.ts); the builders below fill it. */
  change?: WriteChange;
}

interface Named {
  /** What the write is, e.g. 'order' or 'product exists'. */
  name: string;
  onConditionFailed?: Write['onConditionFailed'];
}

const conditionOf = (condition: Condition | undefined, p: Placeholders) =>
  condition === undefined ? {} : { ConditionExpression: compile(condition, p), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };

/**
 * Top-level fields holding an empty map are not stored (a put leaves them out, an update removes
 * them): DynamoDB Local's GetRecords hangs for good on a stream record with an empty map, which
 * would stop the local runtime's stream (every consumer and the lake feed) until a restart. In AWS
 * an empty map is fine, and an absent field decodes the same wherever one may be empty (an
 * optional record). Only plain objects: a Set, Date or buffer is not a map.
 */
const isEmptyMap = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).length === 0;
const withoutEmptyMaps = (value: object): Record<string, unknown> => Object.fromEntries(Object.entries(value).filter(([, v]) => !isEmptyMap(v)));

/**
 * The correlation id of the work writing (functions/platform/log.ts), stamped on the item so the
 * events the stream makes of this change carry it on to the consumers' logs. Not part of the
 * item's value: decoders ignore it, and the audit trail's record of the change leaves it out.
 */
const correlationStamp = (): Record<string, string> => {
  const id = currentCorrelationId();
  return id === undefined ? {} : { [CORRELATION_ATTRIBUTE]: id };
};

/** A whole item: its key, index key, `entity` and `tenant_id` (storage attributes), then the value's fields. */
export const putItem = (
  db: Db,
  spec: Named & { key: Key; index?: IndexKey; entity: string; tenantId: string; value: object; when?: Condition },
): Write => {
  const p = new Placeholders();
  const condition = conditionOf(spec.when, p);
  return {
    name: spec.name,
    onConditionFailed: spec.onConditionFailed,
    change: { op: 'put', key: spec.key, entity: spec.entity, value: withoutEmptyMaps(spec.value) },
    item: {
      Put: {
        TableName: db.table,
        Item: { ...spec.key, ...spec.index, entity: spec.entity, tenant_id: spec.tenantId, ...withoutEmptyMaps(spec.value), ...correlationStamp() },
        ...condition,
        ...p.expression(),
      },
    },
  };
};

/** Changes to some attributes: `add` for counters (no read needed), `set` and `remove` for the rest. */
export const updateItem = (
  db: Db,
  spec: Named & {
    key: Key;
    add?: Record<string, number>;
    set?: Record<string, NativeAttributeValue>;
    remove?: string[];
    when?: Condition;
  },
): Write => {
  const p = new Placeholders();
  const set = Object.entries(spec.set ?? {}).filter(([, v]) => !isEmptyMap(v));
  const remove = [...(spec.remove ?? []), ...Object.entries(spec.set ?? {}).flatMap(([a, v]) => (isEmptyMap(v) ? [a] : []))];
  const stamped = [...set, ...Object.entries(correlationStamp())];
  const clauses = [
    spec.add && Object.keys(spec.add).length ? `ADD ${Object.entries(spec.add).map(([a, v]) => `${p.name(a)} ${p.value(v)}`).join(', ')}` : '',
    stamped.length ? `SET ${stamped.map(([a, v]) => `${p.name(a)} = ${p.value(v)}`).join(', ')}` : '',
    remove.length ? `REMOVE ${remove.map((a) => p.name(a)).join(', ')}` : '',
  ].filter(Boolean);
  const condition = conditionOf(spec.when, p);
  return {
    name: spec.name,
    onConditionFailed: spec.onConditionFailed,
    change: { op: 'update', key: spec.key, set: Object.fromEntries(set), ...(spec.add ? { add: spec.add } : {}), remove },
    item: { Update: { TableName: db.table, Key: spec.key, UpdateExpression: clauses.join(' '), ...condition, ...p.expression() } },
  };
};

/** A condition on another item that must hold for the transaction to apply (e.g. "the product exists"). */
export const checkItem = (db: Db, spec: Named & { key: Key; when: Condition }): Write => {
  const p = new Placeholders();
  return {
    name: spec.name,
    onConditionFailed: spec.onConditionFailed,
    item: { ConditionCheck: { TableName: db.table, Key: spec.key, ConditionExpression: compile(spec.when, p), ...p.expression() } },
  };
};

export const deleteItem = (db: Db, spec: Named & { key: Key; when?: Condition }): Write => {
  const p = new Placeholders();
  const condition = conditionOf(spec.when, p);
  return {
    name: spec.name,
    onConditionFailed: spec.onConditionFailed,
    change: { op: 'delete', key: spec.key },
    item: { Delete: { TableName: db.table, Key: spec.key, ...condition, ...p.expression() } },
  };
};

/** A write's condition failed and its writer gave no domain error for it: `current` is the item as it stands. */
export class ConditionFailed extends Error {
  constructor(
    readonly write: string,
    readonly current: StoredItem | undefined,
  ) {
    super(`condition of '${write}' failed`);
    this.name = 'ConditionFailed';
  }
}

/** The one test for DynamoDB's refusal of a single conditional write. */
export const isConditionalCheckFailed = (error: unknown): boolean => errorName(error) === 'ConditionalCheckFailedException';

const currentItemOf = (error: unknown): StoredItem | undefined => {
  if (typeof error !== 'object' || error === null || !('Item' in error)) return undefined;
  const item: unknown = error.Item;
  return item && typeof item === 'object' ? unmarshall(item as Record<string, AttributeValue>) : undefined;
};

/**
 * One write on its own (not in a transaction). Resolves with the item as it
 * was before a delete; a failed condition throws the writer's domain error,
 * or ConditionFailed carrying the current item.
 */
export const writeOne = async (db: Db, write: Write): Promise<StoredItem | undefined> => {
  const { Put, Update, Delete } = write.item;
  try {
    if (Put) await db.client.send(new PutCommand(Put));
    else if (Update) await db.client.send(new UpdateCommand(Update));
    else if (Delete) {
      const old = (await db.client.send(new DeleteCommand({ ...Delete, ReturnValues: 'ALL_OLD' }))).Attributes;
      // The item as it was: the "before" of the audit record's delete.
      noteRead([old]);
      noteWritten([write.change]);
      return old;
    } else throw new Error(`'${write.name}' is a condition check: it only exists inside a transaction`);
    noteWritten([write.change]);
    return undefined;
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    countMetric(METRIC_NAMES.conditionalCheckFailures);
    const current = currentItemOf(error);
    throw write.onConditionFailed?.(current) ?? new ConditionFailed(write.name, current);
  }
};
