/**
 * The one error contract of the API: every failure leaves a handler as
 * `{"error": {"code", "message", "details"}}` with the status below.
 * Domain code throws these; the HTTP middleware maps them, so no handler
 * builds an error body by hand.
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'MALFORMED_JSON'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'INSUFFICIENT_STOCK'
  | 'VERSION_CONFLICT'
  | 'CONFLICT'
  | 'ALREADY_EXISTS'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'ROUTE_NOT_FOUND'
  | 'TIMEOUT'
  | 'INTERNAL';

const statusByCode: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  INSUFFICIENT_STOCK: 409,
  VERSION_CONFLICT: 409,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  INTERNAL: 500,
  TIMEOUT: 503,
};

/**
 * One failing field: `path` is the dotted path inside the input (`lines.2.sku_id`).
 * Domain code names the path only; the HTTP layer says which request part
 * (`in`) it came from, `body` unless a schema of another part said so.
 */
export interface FieldIssue {
  in?: 'body' | 'query' | 'path' | 'header';
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = statusByCode[code];
  }
}

export const notFound = (what: string, id: string): AppError =>
  new AppError('NOT_FOUND', `${what} '${id}' does not exist`, { [`${what}_id`]: id });

/** What a read found, or 404 for `what` `id` when it found nothing. */
export const orNotFound = async <T>(what: string, id: string, read: Promise<T | undefined>): Promise<T> => {
  const found = await read;
  if (found === undefined) throw notFound(what, id);
  return found;
};

export const alreadyExists = (what: string, id: string): AppError =>
  new AppError('ALREADY_EXISTS', `${what} '${id}' already exists`, { [`${what}_id`]: id });

/** 400 with every failing field; `message` when the request as a whole needs saying what to do. */
export const validationFailed = (issues: FieldIssue[], message = 'The request is invalid: see details for each failing field'): AppError =>
  new AppError('VALIDATION_FAILED', message, { fields: issues });

/** The "kept changing" answer when optimistic retries run out: nothing was applied. */
export const keptChanging = (attempts: number): AppError =>
  new AppError('CONFLICT', 'the data kept changing under this request; it was not applied, retry it', { attempts });

/** The message of anything thrown, for logs and failure reports. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The name of anything thrown (SDK errors are told apart by name). */
export const errorName = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string' ? error.name : undefined;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export const errorBody = (error: AppError): ErrorBody => ({
  error: {
    code: error.code,
    message: error.message,
    ...(error.details === undefined ? {} : { details: error.details }),
  },
});
