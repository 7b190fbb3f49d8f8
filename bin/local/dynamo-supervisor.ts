import { errorMessage } from '../../functions/platform/errors';
import { log } from '../../functions/platform/log';
import { freePort, startDynamoLocal, type LocalDynamo } from './dynamodb';

/**
 * DynamoDB Local under supervision, as a managed service is in AWS: when its JVM dies without
 * being asked to (a crash, the OOM killer, a stray `kill -9`), it is started again on the same
 * port and data directory, so the endpoint every client holds keeps working once it is back. While
 * it is down, calls fail with connection errors, which the API answers as 503 UNAVAILABLE with
 * Retry-After (functions/platform/errors.ts unavailabilityOf), and the stream poller retries.
 *
 * With a data directory the tables, their items and their streams survive the restart (DynamoDB
 * Local keeps them in one SQLite file, written per request; shard ids and sequence numbers carry
 * on). Without one (npm start --in-memory) the restarted JVM is empty: `afterRestart` recreates the
 * tables and the supervisor says in an error line that the data was lost.
 */
export interface SupervisedDynamo {
  endpoint: string;
  port: number;
  /** The running JVM's pid (undefined while it is down). */
  pid(): number | undefined;
  /** How many times the JVM was started again after dying. */
  readonly restarts: number;
  /** Stops supervising and kills the JVM (npm start's shutdown). */
  stop(): void;
}

export interface SuperviseOptions {
  dataDir?: string;
  port?: number;
  /** Runs once the restarted JVM answers, before the supervisor reports it back (the table check). */
  afterRestart?: (dynamo: { endpoint: string; persistent: boolean }) => Promise<void>;
  /** First delay before a restart; doubles per failed start, capped at `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A JVM that ran this long before dying counts as healthy: the next restart starts from the first delay again. */
const HEALTHY_AFTER_MS = 60_000;

export const superviseDynamoLocal = async (options: SuperviseOptions = {}): Promise<SupervisedDynamo> => {
  // The port is fixed once: a restart must come back where the clients' endpoint points.
  const port = options.port ?? (await freePort());
  const persistent = options.dataDir !== undefined;
  const start = (): Promise<LocalDynamo> => startDynamoLocal({ port, ...(persistent ? { dataDir: options.dataDir } : {}) });
  const baseMs = options.backoffMs ?? 250;
  const maxMs = options.maxBackoffMs ?? 10_000;
  let current: LocalDynamo | undefined = await start();
  let stopped = false;
  let restarts = 0;

  const watch = (dynamo: LocalDynamo, startedAt: number, delayMs: number): void => {
    void dynamo.exited.then(async ({ code, signal }) => {
      if (stopped) return;
      current = undefined;
      const downAt = Date.now();
      let delay = downAt - startedAt >= HEALTHY_AFTER_MS ? baseMs : delayMs;
      log.error('DynamoDB Local died; restarting it on the same port', {
        pid: dynamo.pid,
        exit_code: code,
        signal,
        port,
        data: persistent ? options.dataDir : 'in memory (lost)',
        restart_in_ms: delay,
      });
      for (let attempt = 1; !stopped; attempt += 1) {
        await sleep(delay);
        if (stopped) return;
        let next: LocalDynamo;
        try {
          next = await start();
        } catch (error) {
          // The port may not be free yet, or the JVM failed to come up: try again, later each time.
          delay = Math.min(maxMs, delay * 2);
          log.error('DynamoDB Local did not start again; retrying', { attempt, error: errorMessage(error).slice(0, 500), retry_in_ms: delay });
          continue;
        }
        if (stopped) {
          next.stop();
          return;
        }
        current = next;
        restarts += 1;
        try {
          await options.afterRestart?.({ endpoint: next.endpoint, persistent });
        } catch (error) {
          log.error('DynamoDB Local restarted, but the check after restart failed', { error: errorMessage(error) });
        }
        log.warn('DynamoDB Local is back', { pid: next.pid, port, attempt, down_ms: Date.now() - downAt, restarts });
        watch(next, Date.now(), Math.min(maxMs, delay * 2));
        return;
      }
    });
  };
  watch(current, Date.now(), baseMs);

  return {
    endpoint: current.endpoint,
    port,
    pid: () => current?.pid,
    get restarts() {
      return restarts;
    },
    stop: () => {
      stopped = true;
      current?.stop();
    },
  };
};
