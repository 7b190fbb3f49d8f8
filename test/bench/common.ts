/**
 * What the benchmarks under test/bench share: closed-loop rounds with
 * latency percentiles, call counting, the API Gateway event and Lambda
 * context a handler is invoked with in-process, and output helpers.
 *
 * Only node built-ins and types are imported here: a bench entry must set
 * its environment (endpoint, table, LOG_LEVEL) before any handler module loads.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import type { HttpEvent } from '../../functions/platform/http';
import type { Db } from '../../functions/platform/db';

export const ROOT = resolve(__dirname, '../..');

// ---------- numbers ----------

/** Nearest-rank percentile of sorted values. */
export const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

export const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

export const round2 = (n: number): number => Math.round(n * 100) / 100;

/** An integer command-line option, at least `min`; `fallback` when absent. */
export const intOption = (name: string, raw: string | undefined, fallback: number, min: number): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
};

// ---------- measuring ----------

export interface Round {
  ops: number;
  errors: number;
  seconds: number;
  throughput: number;
  p50_ms: number;
  p99_ms: number;
  /** CPU this Node process spent per operation: the handler path competes with DynamoDB Local for the same 2 cores. */
  node_cpu_ms_per_op: number;
  /** DynamoDB commands sent per operation (the domain's own retries included, the SDK's HTTP retries not). */
  dynamo_calls_per_op: number;
}

export interface CallCounter {
  count: number;
  /** Requests sent and not yet answered. */
  inFlight: number;
  /** The same count by command name (GetCommand, QueryCommand, TransactWriteItemsCommand...). */
  byCommand: Record<string, number>;
}

/** DynamoDB requests sent through a client, counted by a middleware: how retries become visible cheaply. */
export const countCalls = (client: DynamoDBDocumentClient): CallCounter => {
  const counter: CallCounter = { count: 0, inFlight: 0, byCommand: {} };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counter.count++;
      const name = String(context.commandName ?? 'unknown');
      counter.byCommand[name] = (counter.byCommand[name] ?? 0) + 1;
      counter.inFlight++;
      try {
        return await next(args);
      } finally {
        counter.inFlight--;
      }
    },
    { step: 'initialize', name: 'benchCallCounter' },
  );
  return counter;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once no request has been in flight or sent for `quietMs` (longer
 * than any retry backoff): work a timed-out handler left running has ended.
 * Returns the seconds until the last request was answered.
 */
export const settle = async (calls: CallCounter, quietMs = 1500, maxMs = 300_000): Promise<number> => {
  const t0 = performance.now();
  let seen = calls.count;
  let quietSince = performance.now();
  while (performance.now() - t0 < maxMs) {
    await sleep(100);
    if (calls.inFlight > 0 || calls.count !== seen) {
      seen = calls.count;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= quietMs) {
      break;
    }
  }
  return round2(Math.max(0, quietSince - t0) / 1000);
};

/** Runs `ops` operations with `concurrency` closed-loop clients; an operation resolves false when it failed. */
export const runRound = async (
  ops: number,
  concurrency: number,
  op: () => Promise<boolean>,
  calls: { count: number },
): Promise<Round> => {
  const latencies = new Float64Array(ops);
  let next = 0;
  let errors = 0;
  const calls0 = calls.count;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const client = async (): Promise<void> => {
    for (let i = next++; i < ops; i = next++) {
      const started = performance.now();
      if (!(await op())) errors++;
      latencies[i] = performance.now() - started;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ops) }, client));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort();
  return {
    ops,
    errors,
    seconds: round2(seconds),
    throughput: round2(ops / seconds),
    p50_ms: round2(percentile(latencies, 50)),
    p99_ms: round2(percentile(latencies, 99)),
    node_cpu_ms_per_op: round2((cpu.user + cpu.system) / 1000 / ops),
    dynamo_calls_per_op: round2((calls.count - calls0) / ops),
  };
};

/** The median of each figure over rounds, the rounds kept for the JSON. */
export const summarize = (rounds: Round[]) => ({
  ops: rounds[0]?.ops ?? 0,
  throughput: round2(median(rounds.map((r) => r.throughput))),
  p50_ms: round2(median(rounds.map((r) => r.p50_ms))),
  p99_ms: round2(median(rounds.map((r) => r.p99_ms))),
  errors: rounds.reduce((n, r) => n + r.errors, 0),
  node_cpu_ms_per_op: round2(median(rounds.map((r) => r.node_cpu_ms_per_op))),
  dynamo_calls_per_op: round2(median(rounds.map((r) => r.dynamo_calls_per_op))),
  rounds,
});

/**
 * The handler path against the raw one over paired rounds: each figure's
 * median per path, and per round (a raw and a handler run made back to back,
 * so drift cancels within a pair) the handler/raw throughput ratio and the
 * p99 added, with their medians; at 1 client, the median p50 and p99 added.
 */
export const compareRounds = (rounds: { raw: Round[]; app: Round[]; rawSerial: Round[]; appSerial: Round[] }) => {
  const pairs = rounds.raw.map((r, i) => ({ raw: r, app: rounds.app[i] as Round }));
  const ratios = pairs.map((p) => round2(p.app.throughput / p.raw.throughput));
  const p99Adds = pairs.map((p) => round2(p.app.p99_ms - p.raw.p99_ms));
  const serialAdded = (field: 'p50_ms' | 'p99_ms') => round2(median(rounds.appSerial.map((r, i) => r[field] - (rounds.rawSerial[i] as Round)[field])));
  return {
    raw: summarize(rounds.raw),
    app: summarize(rounds.app),
    rawSerial: summarize(rounds.rawSerial),
    appSerial: summarize(rounds.appSerial),
    ratios,
    p99Adds,
    ratio: round2(median(ratios)),
    p99Added: round2(median(p99Adds)),
    serialP50Added: serialAdded('p50_ms'),
    serialP99Added: serialAdded('p99_ms'),
  };
};

/**
 * Keys handed out so that no two in-flight operations hold the same one
 * (levels, SKU sets): the uncontended comparison must measure the write
 * path, not version conflicts.
 */
export class Pool<T> {
  private readonly free: number[];
  constructor(readonly items: T[]) {
    this.free = items.map((_, i) => i);
  }
  async with<R>(use: (index: number) => Promise<R>): Promise<R> {
    const index = this.free.shift();
    if (index === undefined) throw new Error('more clients than pool entries');
    try {
      return await use(index);
    } finally {
      this.free.push(index);
    }
  }
}

/** `f` over `items`, `size` at a time (setup writes without flooding DynamoDB Local). */
export const inBatches = async <T, R>(items: T[], size: number, f: (item: T) => Promise<R>): Promise<R[]> => {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(f))));
  return out;
};

// ---------- the API Gateway side, as bin/local/api-server.ts builds it ----------

/** The subject of every bench event's token. */
export const BENCH_USER = 'bench-user';

/** The bench's caller is a user of the directory (issue 12: the HTTP layer refuses a token of nobody), an admin of `tenant`. */
export const registerBenchUser = async (db: Db, tenant: string): Promise<unknown> => {
  // Imported late, like the handlers: the domain's modules load once the bench has set the environment.
  const { registerUser } = await import('../../functions/identity/users');
  return registerUser(db, tenant, { userId: BENCH_USER, email: 'bench@bench.invalid', role: 'admin' });
};

/** An HTTP API (payload 2.0) event for `routeKey` ("POST /api/..."), with a verified JWT's claims for `tenant`. */
export const httpEvent = (routeKey: string, tenant: string, body: unknown): HttpEvent => {
  const now = new Date();
  const [method, path] = routeKey.split(' ') as [string, string];
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'localhost' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: {
        principalId: '',
        integrationLatency: 0,
        jwt: { claims: { 'custom:tenant_id': tenant, 'custom:role': 'admin', sub: BENCH_USER }, scopes: [] },
      },
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
};

export { lambdaContext } from '../../bin/local/lambda-context';

// ---------- output ----------

/** Progress on stderr, stamped with seconds since the process started, so slow phases are visible. */
export const log = (line: string): void => void process.stderr.write(`[${(performance.now() / 1000).toFixed(1)}s] ${line}\n`);

export const fmtRound = (r: Round): string =>
  `${r.throughput.toFixed(0)} ops/s p50 ${r.p50_ms} p99 ${r.p99_ms} ms${r.errors ? ` ERRORS ${r.errors}` : ''}`;

/** A table row: first cell left-aligned in 9 columns, the rest right-aligned in 10. */
export const row = (cells: (string | number)[]): string =>
  cells.map((cell, i) => (i === 0 ? String(cell).padEnd(9) : String(cell).padStart(10))).join(' ');

export const machineInfo = () => ({
  node: process.version,
  cpus: cpus().length,
  cpu_model: cpus()[0]?.model ?? 'unknown',
  memory_gb: round2(totalmem() / 2 ** 30),
  load_average_1m: round2(loadavg()[0] ?? 0),
});

export const writeJson = (file: string, value: unknown): void => {
  mkdirSync(resolve(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
};

/** Runs a bench's main, printing a failure's stack and setting a failing exit code. */
export const runMain = (main: () => Promise<void>): void => {
  main().catch((error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
};
