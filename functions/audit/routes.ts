import * as audit from './schemas';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const auditRoutes = declareRoutes({
  // --- issue 12: the audit trail ---
  listAudit: {
    method: 'GET', path: '/api/audit', entry: handlerEntry('audit', 'list-audit'),
    permission: 'audit:read', table: 'read', audit: 'read',
    summary: 'The audit trail of this tenant, newest first: who did what (the route\'s name), to which ids, when, from where, how it ended and what it changed; filtered by actor, action, target id, time and outcome, a page at a time, or as CSV. Reading it is recorded too',
    query: audit.listAuditQuery, response: audit.auditListResponse, csv: { lists: { records: audit.auditCsvRow } },
  },
} as const satisfies Record<string, HttpRoute>);
