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

/** One failing field: `path` is the JSON path inside the request part named by `in`. */
export interface FieldIssue {
  in: 'body' | 'query' | 'path' | 'header';
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

export const validationFailed = (issues: FieldIssue[]): AppError =>
  new AppError('VALIDATION_FAILED', 'The request is invalid: see details for each failing field', { fields: issues });

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
