import type { Context, ScheduledEvent } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../functions/platform/errors';
import { log } from '../../functions/platform/log';
import { allScheduledFunctions, entriesOf, type ScheduledFunction } from '../../functions/wiring';
import { importHandler } from './handlers';

/**
 * The local stand-in for the EventBridge schedules: every entry of
 * functions/wiring.ts `scheduledFunctions` runs its handler module every
 * `everySeconds` (the same period the CDK rule uses), with the event a
 * scheduled rule delivers. A run still going when the next is due makes
 * that tick skip, so runs of one function never overlap. Errors are logged,
 * never thrown. `everySeconds` overrides every period (`npm start --
 * --sweep-seconds 5`, or LOCAL_SCHEDULE_SECONDS), for development and tests.
 */
type ScheduledHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

export const LOCAL_SCHEDULE_SECONDS_ENV = 'LOCAL_SCHEDULE_SECONDS';

export interface LocalSchedulerOptions {
  /** Default: functions/wiring.ts scheduledFunctions. */
  functions?: Record<string, ScheduledFunction>;
  /** One period for every function, in seconds (fractions allowed). */
  everySeconds?: number;
  /** How a handler is found (tests substitute one); default: import the entry under the repo root. */
  load?: (entry: string) => Promise<ScheduledHandler>;
}

export interface ScheduleState {
  name: string;
  entry: string;
  everySeconds: number;
  runs: number;
  failures: number;
  skipped: number;
  running: boolean;
  lastResult?: unknown;
  lastError?: string;
}

export interface LocalScheduler {
  readonly schedules: ScheduleState[];
  /** Runs one function now (still never overlapping itself); resolves when it is done. */
  runNow(name: string): Promise<void>;
  /** Stops the timers and waits for runs in progress. */
  stop(): Promise<void>;
}

/** What the local scheduler will run, and how often: test/infra compares it with the stack's rules. */
export const localSchedules = (functions: Record<string, ScheduledFunction> = allScheduledFunctions, everySeconds?: number) =>
  entriesOf(functions).map(([name, fn]) => ({ name, entry: fn.entry, everySeconds: everySeconds ?? fn.everySeconds }));

const scheduledEvent = (name: string): ScheduledEvent => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: 'local',
  resources: [`arn:aws:events:local:000000000000:rule/${name}`],
  detail: {},
});

const periodFromEnv = (): number | undefined => {
  const raw = process.env[LOCAL_SCHEDULE_SECONDS_ENV];
  if (!raw) return undefined;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`${LOCAL_SCHEDULE_SECONDS_ENV} must be a positive number of seconds, got '${raw}'`);
  return value;
};

export const startLocalScheduler = (options: LocalSchedulerOptions = {}): LocalScheduler => {
  const load = options.load ?? importHandler<ScheduledHandler>;
  const everySeconds = options.everySeconds ?? periodFromEnv();
  const timers: NodeJS.Timeout[] = [];
  const inProgress = new Map<string, Promise<void>>();
  const handlers = new Map<string, Promise<ScheduledHandler>>();
  const functions = options.functions ?? allScheduledFunctions;
  const schedules: ScheduleState[] = localSchedules(functions, everySeconds).map((s) => ({
    ...s,
    runs: 0,
    failures: 0,
    skipped: 0,
    running: false,
  }));
  let stopped = false;

  const handlerOf = (state: ScheduleState): Promise<ScheduledHandler> => {
    let handler = handlers.get(state.name);
    if (!handler) {
      handler = load(state.entry);
      handlers.set(state.name, handler);
      // A module that failed to load (not written yet, a syntax error) is tried again next time.
      handler.catch(() => handlers.delete(state.name));
    }
    return handler;
  };

  const fire = (state: ScheduleState): Promise<void> => {
    const current = inProgress.get(state.name);
    if (current) {
      state.skipped += 1;
      return current;
    }
    const run = (async () => {
      state.running = true;
      const requestId = randomUUID();
      const started = Date.now();
      try {
        const handler = await handlerOf(state);
        state.lastResult = await handler(scheduledEvent(state.name), lambdaContext(state.name, requestId, 60_000));
        state.runs += 1;
        state.lastError = undefined;
      } catch (error) {
        state.failures += 1;
        state.lastError = errorMessage(error);
        log.error('scheduled function failed', { function: state.name, entry: state.entry, error: state.lastError, duration_ms: Date.now() - started });
      } finally {
        state.running = false;
        inProgress.delete(state.name);
      }
    })();
    inProgress.set(state.name, run);
    return run;
  };

  for (const state of schedules) {
    const timer = setInterval(() => {
      if (!stopped) void fire(state);
    }, state.everySeconds * 1000);
    // The schedules alone must not keep a process alive (tests, scripts).
    timer.unref();
    timers.push(timer);
  }

  return {
    schedules,
    runNow: async (name) => {
      const state = schedules.find((s) => s.name === name);
      if (!state) throw new Error(`no scheduled function ${name}`);
      await fire(state);
    },
    stop: async () => {
      stopped = true;
      timers.forEach(clearInterval);
      await Promise.allSettled([...inProgress.values()]);
    },
  };
};
