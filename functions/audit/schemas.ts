import * as z from 'zod';
import { auditRecordSchema } from '../platform/audit';

/**
 * GET /api/audit: the audit trail of the caller's tenant (functions/platform/audit.ts writes it),
 * newest first, a page at a time.
 */

/** The widest window one query reads: a day partition each, so a query's cost is bounded. */
export const MAX_AUDIT_RANGE_DAYS = 93;
/** Without `from`: this many days before `to`. */
export const DEFAULT_AUDIT_RANGE_DAYS = 30;

/** A calendar date that exists (2026-02-30 does not), and an instant JavaScript can read. */
const realDate = (text: string): boolean => {
  const day = text.slice(0, 10);
  const midnight = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(midnight.getTime()) && midnight.toISOString().slice(0, 10) === day && !Number.isNaN(Date.parse(text));
};

const instant = z
  .string()
  .refine((text) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text) && realDate(text), {
    message: 'must be a date (YYYY-MM-DD, UTC) or an ISO 8601 instant with its offset',
  });

export const AUDIT_OUTCOMES = ['success', 'refused', 'failed', 'replay'] as const;

export const listAuditQuery = z
  .strictObject({
    actor: z.string().min(1).max(254).optional().describe('The actor: their subject or e-mail address'),
    action: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,99}$/, 'must be a route name, e.g. updateStock').optional().describe("The route's name in the wiring"),
    target_id: z.string().min(1).max(256).optional().describe('An id the request named (path or body)'),
    from: instant.optional().describe('Earliest record (inclusive); a date is its start (UTC). Default: 30 days before `to`'),
    to: instant.optional().describe('Latest record (inclusive); a date is its end (UTC). Default: now'),
    outcome: z
      .union([z.enum(AUDIT_OUTCOMES), z.string().regex(/^[1-5]\d\d$/, 'must be success, refused, failed, replay or an HTTP status')])
      .optional()
      .describe('success, refused (4xx), failed (5xx), replay, or an HTTP status'),
    cursor: z.string().max(4096).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  });
export type ListAuditQuery = z.output<typeof listAuditQuery>;

export const auditRecordResponse = auditRecordSchema;

export const auditListResponse = z.object({
  records: z.array(auditRecordResponse),
  next_cursor: z.string().nullable(),
});

/**
 * A record as a CSV row: one column per field of the record (lists and objects are JSON in their cell), less what
 * only restates others (`targets`: the ids by field, already in target_ids) or is the store's (`written`, the cap).
 */
export const auditCsvRow = auditRecordSchema.omit({ targets: true, changes_truncated: true, written: true });
