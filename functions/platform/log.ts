import { inWorkScope, workScope } from './work-scope';
import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs, one object per line, written by Powertools Logger (CloudWatch Logs
 * Insights and `jq` read them as they are). Every line carries what is known of the work it
 * belongs to (logContext, held in work-scope.ts): the request id, the tenant, the route, and the correlation id that
 * follows one change from the API request through the table's stream, the bus and every
 * consumer (stamped on the items a request writes as CORRELATION_ATTRIBUTE, carried by the
 * events the stream processor makes of them, and taken up again by each consumer).
 *
 * One Logger per process, with the work's fields passed on each line rather than appended to
 * the Logger: the local runtime serves many requests at once in one process, and appended keys
 * would leak from one request's lines into another's.
 */
export const LOG_SERVICE = 'stockroom';

/** The attribute of a stored item (and the field of an event detail) naming the correlation id of the work that wrote it. */
export const CORRELATION_ATTRIBUTE = 'log_correlation_id';

/** A correlation id a caller may choose (the `X-Correlation-Id` header); anything else is replaced by the request id. */
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export interface LogContext {
  correlation_id?: string;
  request_id?: string;
  tenant_id?: string;
  route?: string;
  /** A consumer's message, or a scheduled run. */
  message_id?: string;
}

/** Runs `work` with these fields (added to the enclosing work's) on every line it logs. */
export const withLogContext = <T>(fields: LogContext, work: () => T): T => inWorkScope({ log: { ...workScope().log, ...fields } }, work);

/** The fields of the work running now (what its lines carry). */
export const logContext = (): LogContext => workScope().log ?? {};

/** The correlation id of the work running now, if it has one. */
export const currentCorrelationId = (): string | undefined => workScope().log?.correlation_id;

const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL', 'TRACE'] as const;
type Level = (typeof LEVELS)[number];
const levelOf = (text: string | undefined): Level => {
  const upper = (text ?? 'INFO').toUpperCase();
  return LEVELS.find((level) => level === upper) ?? 'INFO';
};

const logger = new Logger({ serviceName: LOG_SERVICE, logLevel: levelOf(process.env.LOG_LEVEL) });
let levelSet = process.env.LOG_LEVEL;

type Fields = Record<string, unknown>;

const write = (level: 'info' | 'warn' | 'error', message: string, fields: Fields): void => {
  // The tests (and the local runtime's options) change LOG_LEVEL while the process runs.
  if (process.env.LOG_LEVEL !== levelSet) {
    levelSet = process.env.LOG_LEVEL;
    logger.setLogLevel(levelOf(levelSet));
  }
  logger[level](message, { ...workScope().log, ...fields });
};

export const log = {
  info: (message: string, fields: Fields = {}): void => write('info', message, fields),
  warn: (message: string, fields: Fields = {}): void => write('warn', message, fields),
  error: (message: string, fields: Fields = {}): void => write('error', message, fields),
};
