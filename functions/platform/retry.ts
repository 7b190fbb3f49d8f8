import { countMetric, METRIC_NAMES } from './metrics';
/**
 * The one retry policy: bounded attempts, full-jitter exponential backoff
 * (AWS architecture blog: it spreads competing writers apart), and an
 * optional deadline after which no new attempt starts, so a request still
 * answers before its Lambda is killed.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** Epoch ms; attempt 0 always runs. */
  deadline?: number;
}

/** Optimistic writes racing on one item: many quick attempts. */
export const CONTENDED_WRITE: RetryPolicy = { maxAttempts: 40, baseMs: 4, capMs: 200 };
/** A read-modify-write of a record people edit (catalogue PATCH): conflicts are rare. */
export const RARE_CONFLICT: RetryPolicy = { maxAttempts: 10, baseMs: 4, capMs: 200 };
/** Unprocessed parts of DynamoDB batch calls (throttling): fewer, longer waits. */
export const THROTTLED_BATCH: RetryPolicy = { maxAttempts: 7, baseMs: 50, capMs: 2_000 };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The wait before attempt `attempt + 1`. */
export const backoff = (policy: Pick<RetryPolicy, 'baseMs' | 'capMs'>, attempt: number): Promise<void> =>
  sleep(Math.random() * Math.min(policy.capMs, policy.baseMs * 2 ** attempt));

/** What one attempt decided: a value, or another try (with what it learned). */
export type Attempt<T, L> = { done: T } | { retry: L };

export class RetriesExhausted<L> extends Error {
  constructor(
    readonly attempts: number,
    readonly last: L | undefined,
  ) {
    super(`gave up after ${attempts} attempts`);
    this.name = 'RetriesExhausted';
  }
}

/**
 * Runs `attempt` until it is done, backing off between tries; `learned` is
 * what the previous try handed on (for example the items a cancelled
 * transaction returned). Throws RetriesExhausted when the policy runs out.
 */
export const retrying = async <T, L>(
  policy: RetryPolicy,
  attempt: (index: number, learned: L | undefined) => Promise<Attempt<T, L>>,
): Promise<T> => {
  let learned: L | undefined;
  let index = 0;
  for (; index < policy.maxAttempts && (index === 0 || policy.deadline === undefined || Date.now() < policy.deadline); index++) {
    if (index > 0) {
      countMetric(METRIC_NAMES.writeRetries);
      await backoff(policy, index - 1);
    }
    const outcome = await attempt(index, learned);
    if ('done' in outcome) return outcome.done;
    learned = outcome.retry;
  }
  throw new RetriesExhausted(index, learned);
};
