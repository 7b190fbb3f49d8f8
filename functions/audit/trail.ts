import type { Deps } from '../platform/context';
import { AppError, validationFailed } from '../platform/errors';
import { storedAuditRecordSchema, type AuditRecord } from '../platform/audit';
import { keys } from '../platform/keys';
import { queryDigest } from '../platform/pagination';
import { decodeWith, queryPage } from '../platform/storage';
import { auditTableName } from '../platform/table';
import { when, type Condition } from '../platform/writes';
import { DEFAULT_AUDIT_RANGE_DAYS, MAX_AUDIT_RANGE_DAYS, type ListAuditQuery } from './schemas';
import * as z from 'zod';

const DAY_MS = 86_400_000;
const DEFAULT_LIMIT = 50;
/** Reads one day's partition may take to fill a filtered page before the page returns what it has (with a cursor). */
const READS_PER_DAY = 4;

const decodeRecord = decodeWith('audit record', storedAuditRecordSchema);

/** A date alone is a whole UTC day: its start as `from`, its end as `to`. */
const instantOf = (text: string, end: boolean): Date => (/^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T${end ? '23:59:59.999' : '00:00:00.000'}Z`) : new Date(text));

const rangeOf = (query: ListAuditQuery, now: Date): { from: Date; to: Date } => {
  const to = query.to === undefined ? now : instantOf(query.to, true);
  const from = query.from === undefined ? new Date(to.getTime() - DEFAULT_AUDIT_RANGE_DAYS * DAY_MS) : instantOf(query.from, false);
  if (from.getTime() > to.getTime()) throw validationFailed([{ in: 'query', path: 'from', message: 'must not be after `to`' }]);
  if (to.getTime() - from.getTime() > MAX_AUDIT_RANGE_DAYS * DAY_MS) {
    throw validationFailed([{ in: 'query', path: 'from', message: `must be at most ${MAX_AUDIT_RANGE_DAYS} days before \`to\`: query a longer time in windows` }]);
  }
  return { from, to };
};

/** The UTC days from `to` back to `from`, newest first: the day partitions a query reads. */
const daysOf = (from: Date, to: Date): string[] => {
  const days: string[] = [];
  for (let day = Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate()); day >= from.getTime() - DAY_MS + 1; day -= DAY_MS) {
    days.push(new Date(day).toISOString().slice(0, 10));
  }
  return days;
};

const filterOf = (query: ListAuditQuery): Condition | undefined => {
  const conditions: Condition[] = [];
  if (query.actor !== undefined) conditions.push(when.or(when.equals('actor_subject', query.actor), when.equals('actor_email', query.actor)));
  if (query.action !== undefined) conditions.push(when.equals('action', query.action));
  if (query.target_id !== undefined) conditions.push(when.contains('target_ids', query.target_id));
  if (query.outcome === 'replay') conditions.push(when.equals('replay', true));
  else if (query.outcome === 'success' || query.outcome === 'refused' || query.outcome === 'failed') conditions.push(when.equals('result', query.outcome));
  else if (query.outcome !== undefined) conditions.push(when.equals('status', Number(query.outcome)));
  return conditions.length === 0 ? undefined : conditions.length === 1 ? conditions[0] : when.and(...conditions);
};

/** The trail's cursor: the day partition to go on in, the platform's cursor inside it (none: from its newest), and the query it continues. */
const trailCursor = z.strictObject({
  d: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  c: z.string().nullable(),
  q: z.string(),
  /** The range the first page resolved (`to` defaults to the time of that first page): later pages read the same. */
  f: z.iso.datetime(),
  t: z.iso.datetime(),
});

const notOurs = (): AppError =>
  new AppError('VALIDATION_FAILED', 'the cursor is not one this list returned', { fields: [{ in: 'query', path: 'cursor', message: 'unknown or tampered cursor' }] });

const decodeTrailCursor = (cursor: string, digest: string): z.infer<typeof trailCursor> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw notOurs();
  }
  const shape = trailCursor.safeParse(parsed);
  if (!shape.success) throw notOurs();
  if (shape.data.q !== digest) {
    throw new AppError('VALIDATION_FAILED', 'the cursor was returned by another query (other filters or dates): repeat that query, or start again without a cursor', {
      fields: [{ in: 'query', path: 'cursor', message: 'cursor of another query' }],
    });
  }
  return shape.data;
};

const encodeTrailCursor = (cursor: z.infer<typeof trailCursor>): string => Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');

/**
 * GET /api/audit: the caller's tenant's records between `from` and `to`, newest first, filtered,
 * a page at a time. Each UTC day is a partition (functions/platform/keys.ts auditRecord), read
 * backwards within the time range; a page goes on into older days until it is full. The cursor
 * names the day and the platform's own cursor inside it (which checks its partition, range and
 * filter), and is bound to the query: another filter or range is 400.
 */
export const listAudit = async ({ db, ctx }: Deps, query: ListAuditQuery): Promise<{ records: AuditRecord[]; next_cursor: string | null }> => {
  const filter = filterOf(query);
  const digest = queryDigest({ from: query.from ?? null, to: query.to ?? null, filter: filter ?? null });
  const start = query.cursor === undefined ? undefined : decodeTrailCursor(query.cursor, digest);
  // A later page reads the range the first page resolved; the cursor's own range is checked as a query's would be.
  const { from, to } = start ? rangeOf({ from: start.f, to: start.t }, ctx.now()) : rangeOf(query, ctx.now());
  const days = daysOf(from, to);
  if (start && !days.includes(start.d)) throw notOurs();
  const sort = { between: [from.toISOString(), `${to.toISOString()}~`] as [string, string] };
  const range = { f: from.toISOString(), t: to.toISOString() };
  const limit = query.limit ?? DEFAULT_LIMIT;
  const trail = { client: db.client, table: auditTableName() };
  const records: AuditRecord[] = [];
  for (let at = start ? days.indexOf(start.d) : 0; at < days.length; at++) {
    const day = days[at] as string;
    const page = await queryPage(
      trail,
      {
        partition: keys.auditDay(ctx.caller.tenantId, day),
        sort,
        newestFirst: true,
        filter,
        limit: limit - records.length,
        maxReads: READS_PER_DAY,
        cursor: start && at === days.indexOf(start.d) ? (start.c ?? undefined) : undefined,
      },
      decodeRecord,
    );
    records.push(...page.items);
    if (page.next_cursor !== null) return { records, next_cursor: encodeTrailCursor({ d: day, c: page.next_cursor, q: digest, ...range }) };
    if (records.length >= limit) {
      const next = days[at + 1];
      return { records, next_cursor: next === undefined ? null : encodeTrailCursor({ d: next, c: null, q: digest, ...range }) };
    }
  }
  return { records, next_cursor: null };
};
