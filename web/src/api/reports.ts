import { api, must } from './client';
import { ApiProblem } from '../forms';

/**
 * A lake report answers 200 with its result, or 202 while Athena (DuckDB locally) still runs it: then the
 * result is polled at GET /api/reports/queries/{query_id}, a little longer each time, up to a minute.
 */
export const settled = async <T>(first: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> => {
  const answer = await first;
  if (answer.response.status !== 202) return (await must(Promise.resolve(answer))) as T;
  const running = answer.data as { query_id?: unknown } | undefined;
  const queryId = typeof running?.query_id === 'string' ? running.query_id : undefined;
  if (!queryId) throw new ApiProblem(502, 'NO_QUERY', 'The report started but did not say where to find its result.');
  let wait = 250;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; wait = Math.min(2_000, wait * 1.5)) {
    await new Promise((done) => setTimeout(done, wait));
    const next = await api.GET('/api/reports/queries/{query_id}', { params: { path: { query_id: queryId } } });
    if (next.response.status !== 202) return (await must(Promise.resolve(next))) as T;
  }
  throw new ApiProblem(504, 'REPORT_TIMEOUT', 'The report is taking longer than a minute: try a shorter period.');
};

export { lastDays } from '../dates';
