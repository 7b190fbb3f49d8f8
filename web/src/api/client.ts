import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import { ApiProblem, newIdempotencyKey, problemOf } from '../forms';
import { session } from '../session';

/**
 * The one way the dashboard talks to the API: openapi-fetch over the types generated from the API's own OpenAPI
 * document (schema.d.ts, `npm run web:types`), so a path, parameter, body or answer the API does not have is a
 * type error here. The bearer token rides on every request; an error answer becomes an ApiProblem.
 */
export const api = createClient<paths>({ baseUrl: window.location.origin });

/** Where the API is: this origin under npm start; in AWS the API's own URL from /config.json (auth.ts), set at start. */
let apiBase: string | undefined;
export const useApiAt = (url: string): void => {
  apiBase = url.replace(/\/+$/, '');
};
const apiUrl = (path: string): URL => new URL(apiBase ? `${apiBase}${path}` : path, window.location.origin);

const bearer: Middleware = {
  onRequest({ request }) {
    const token = session.token.value;
    const url = new URL(request.url);
    const target = apiBase ? new Request(apiUrl(url.pathname + url.search), request) : request;
    if (token) target.headers.set('authorization', `Bearer ${token}`);
    return target;
  },
  onResponse({ response }) {
    // The token expired or the user was revoked: the session ends, and the page says so.
    if (response.status === 401) session.expire();
    return response;
  },
};
api.use(bearer);

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The answer's data, or the ApiProblem its error answer describes (a network failure is one too, status 0). The
 * dashboard asks for JSON: a route that can also answer CSV types its data as JSON-or-text, and text here would be
 * the API not doing what it declares.
 */
export const must = async <T>(call: Promise<Answer<T>>): Promise<Exclude<T, string>> => {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch {
    throw new ApiProblem(0, 'NETWORK', 'The API could not be reached: check your connection and try again.');
  }
  if (answer.response.ok && typeof answer.data === 'string') throw new ApiProblem(answer.response.status, 'NOT_JSON', 'The API answered text where JSON was asked for.');
  // A 204 or an empty 202 has no body: the caller asked for the effect, not for data.
  if (answer.response.ok) return answer.data as Exclude<T, string>;
  throw problemOf(answer.response.status, answer.error);
};

/** The Idempotency-Key header of one submit. */
export const once = (key: string = newIdempotencyKey()): { 'Idempotency-Key': string } => ({ 'Idempotency-Key': key });

/** A CSV download of a list the API can answer as CSV: fetched with the token, saved through a blob link. */
export const downloadCsv = async (path: string, query: Record<string, string | undefined>, filename: string): Promise<void> => {
  const url = apiUrl(path);
  for (const [name, value] of Object.entries({ ...query, format: 'csv' })) if (value !== undefined && value !== '') url.searchParams.set(name, value);
  const response = await fetch(url, { headers: { authorization: `Bearer ${session.token.value ?? ''}` } });
  if (!response.ok) throw problemOf(response.status, await response.json().catch(() => undefined));
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  link.click();
  URL.revokeObjectURL(link.href);
};
