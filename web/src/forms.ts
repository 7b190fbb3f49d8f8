/**
 * What the dashboard's forms share: reading numbers typed by people, and placing the API's field errors next to
 * the inputs they are about (the one error shape: error.details.fields[] with `in`, `path`, `message`).
 */

export interface FieldIssue {
  in?: string;
  path: string;
  message: string;
}

/** An API error as the UI shows it: words, the code, the failing fields, and the details (e.g. a conflict's current level). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: readonly FieldIssue[] = [],
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whatever an error answer holds, as an ApiProblem; a body that is not the error shape still becomes words. */
export const problemOf = (status: number, body: unknown): ApiProblem => {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const details = error && isRecord(error.details) ? error.details : {};
  const fields = Array.isArray(details.fields)
    ? details.fields.flatMap((f): FieldIssue[] =>
        isRecord(f) && typeof f.path === 'string' && typeof f.message === 'string' ? [{ path: f.path, message: f.message, ...(typeof f.in === 'string' ? { in: f.in } : {}) }] : [],
      )
    : [];
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`;
  const message = typeof error?.message === 'string' && error.message !== '' ? error.message : fallbackMessage(status);
  return new ApiProblem(status, code, message, fields, details);
};

const fallbackMessage = (status: number): string =>
  status === 401
    ? 'Your session has ended: sign in again.'
    : status === 403
      ? 'Your role may not do this.'
      : status === 503
        ? 'The service is busy or restarting: try again in a moment.'
        : status >= 500
          ? 'Something went wrong on our side; try again.'
          : `The request was refused (HTTP ${status}).`;

/**
 * The message for each input, by the input's name: a field issue's path ("quantity", "lines.0.quantity") is the
 * name of the input it belongs to; issues no input claims stay in the form's banner (formMessages).
 */
export const fieldMessages = (problem: ApiProblem | undefined, inputs: readonly string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const issue of problem?.fields ?? []) {
    const name = inputs.find((input) => issue.path === input || issue.path.startsWith(`${input}.`));
    if (name !== undefined && out[name] === undefined) out[name] = issue.message;
  }
  return out;
};

/** The issues no input shows: the banner lists them, so nothing the API said is lost. */
export const formMessages = (problem: ApiProblem | undefined, inputs: readonly string[]): string[] =>
  (problem?.fields ?? []).filter((issue) => !inputs.some((input) => issue.path === input || issue.path.startsWith(`${input}.`))).map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));

/**
 * A whole number of units typed by a person: "1,200" and " 12 " are fine; "1.5", "abc", "" and numbers past
 * the API's limit are refused here with a reason (the API would refuse them too, but the field says it first).
 */
export const parseQuantity = (text: string, options: { min?: number; max?: number } = {}): { value: number } | { error: string } => {
  const cleaned = text.trim().replace(/[,_\s]/g, '');
  if (cleaned === '') return { error: 'enter a number' };
  if (!/^[-+]?\d+$/.test(cleaned)) return { error: 'must be a whole number of units' };
  const value = Number(cleaned);
  const min = options.min ?? 1;
  const max = options.max ?? 1_000_000_000;
  if (!Number.isSafeInteger(value) || value > max) return { error: `must be at most ${max.toLocaleString('en-US')}` };
  if (value < min) return { error: min === 1 ? 'must be at least 1' : `must be at least ${min.toLocaleString('en-US')}` };
  return { value };
};

/** A fresh Idempotency-Key for one submit of a form: a double click or a retry of the same submit reuses it. */
export const newIdempotencyKey = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? `ui-${crypto.randomUUID()}` : `ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
