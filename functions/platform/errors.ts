import * as z from 'zod';

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
  | 'REPORT_TOO_LARGE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'HEADERS_TOO_LARGE'
  | 'MALFORMED_REQUEST'
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'INTERNAL';

interface ErrorContract {
  status: number;
  /** Sent as `Retry-After` (and `details.retry_after_seconds`): the failure is transient and the request may be repeated. */
  retryAfterSeconds?: number;
}

const contractByCode: Record<ErrorCode, ErrorContract> = {
  VALIDATION_FAILED: { status: 400 },
  MALFORMED_JSON: { status: 400 },
  MALFORMED_REQUEST: { status: 400 },
  UNAUTHORIZED: { status: 401 },
  FORBIDDEN: { status: 403 },
  NOT_FOUND: { status: 404 },
  ROUTE_NOT_FOUND: { status: 404 },
  METHOD_NOT_ALLOWED: { status: 405 },
  INSUFFICIENT_STOCK: { status: 409 },
  VERSION_CONFLICT: { status: 409 },
  CONFLICT: { status: 409 },
  ALREADY_EXISTS: { status: 409 },
  PAYLOAD_TOO_LARGE: { status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  IDEMPOTENCY_KEY_REUSED: { status: 422 },
  REPORT_TOO_LARGE: { status: 422 },
  HEADERS_TOO_LARGE: { status: 431 },
  INTERNAL: { status: 500 },
  // Both are the platform's trouble, not the request's: the same request, with the same
  // Idempotency-Key, may be sent again (a write may or may not have landed; the key makes that safe).
  TIMEOUT: { status: 503, retryAfterSeconds: 1 },
  UNAVAILABLE: { status: 503, retryAfterSeconds: 2 },
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

/** Whatever an error adds beyond its message; always an object, `{}` when there is nothing to add. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

export class AppError extends Error {
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  readonly details: ErrorDetails;
  constructor(
    readonly code: ErrorCode,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'AppError';
    const contract = contractByCode[code];
    this.status = contract.status;
    this.retryAfterSeconds = contract.retryAfterSeconds;
    this.details = contract.retryAfterSeconds === undefined ? details : { retry_after_seconds: contract.retryAfterSeconds, ...details };
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

/**
 * DynamoDB's "slow down" and "my fault" answers, and the SDK's own timeouts. They reach a
 * handler only once the SDK's retries (standard mode) ran out, so the caller is told to come back.
 */
const UNAVAILABLE_ERROR_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Node's socket failures: the database could not be reached, or hung up ("socket hang up" is ECONNRESET). */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Cancellation reasons of a transaction that say the table was throttled, not that a condition failed. */
export const THROTTLED_CANCELLATION_REASONS: ReadonlySet<string> = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded']);

/** The parts of a thrown SDK or socket error that tell its kind; each read on its own, so one odd field spoils nothing. */
const thrownShape = z.object({
  code: z.string().optional().catch(undefined),
  errors: z.array(z.unknown()).optional().catch(undefined),
  cause: z.unknown().optional(),
  $metadata: z.object({ httpStatusCode: z.number().optional().catch(undefined) }).optional().catch(undefined),
  CancellationReasons: z.array(z.object({ Code: z.string().optional().catch(undefined) })).optional().catch(undefined),
});

const partsOf = (error: unknown): z.output<typeof thrownShape> | undefined => {
  const parsed = thrownShape.safeParse(error);
  return parsed.success ? parsed.data : undefined;
};

/** The socket error code of an error, of the errors an AggregateError gathers (Node tries each address), or of its cause. */
const connectionCode = (error: unknown, depth = 0): string | undefined => {
  const parts = partsOf(error);
  if (!parts) return undefined;
  if (parts.code !== undefined && CONNECTION_ERROR_CODES.has(parts.code)) return parts.code;
  if (depth >= 3) return undefined;
  for (const each of parts.errors ?? []) {
    const found = connectionCode(each, depth + 1);
    if (found) return found;
  }
  return connectionCode(parts.cause, depth + 1);
};

/**
 * Why an error means the database is unavailable (unreachable, throttled, failing or slow), or
 * undefined when it does not. Told apart by name and code, as the SDK's own retry strategy does.
 */
export const unavailabilityOf = (error: unknown): string | undefined => {
  const name = errorName(error);
  if (name !== undefined && UNAVAILABLE_ERROR_NAMES.has(name)) return name;
  const code = connectionCode(error);
  if (code) return code;
  const parts = partsOf(error);
  const status = parts?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return `HTTP ${status}`;
  if (name === 'TransactionCanceledException') {
    const codes = (parts?.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None').filter((c) => c !== 'None');
    if (codes.length > 0 && codes.every((c) => THROTTLED_CANCELLATION_REASONS.has(c))) return 'TransactionCanceledException: throttled';
  }
  return undefined;
};

/** 503 for a database that is unavailable; nothing the caller did was wrong, and the same request may be repeated. */
export const unavailable = (): AppError =>
  new AppError('UNAVAILABLE', 'the database is unavailable or overloaded right now; retry after the Retry-After seconds with the same Idempotency-Key');

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: ErrorDetails };
}

export const errorBody = (error: AppError): ErrorBody => ({
  error: { code: error.code, message: error.message, details: error.details },
});

/** The headers an error's response carries besides its content type. */
export const errorHeaders = (error: AppError): Record<string, string> =>
  error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
