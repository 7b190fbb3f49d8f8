/**
 * `npm run bench`: every benchmark, one after the other, each in its own
 * process (its own DynamoDB Local, its own JIT and sockets) started with the
 * same node and tsx that run this file.
 *
 *   npm run bench                              all of them, full size
 *   npm run bench -- --quick                   all of them, smoke size (e.g. CI)
 *   npm run bench -- --only allocation --ops 1000
 *   npm run bench -- reports                   one of them by name (a bare name is --only)
 *
 * Options are passed to each benchmark that takes them (--ops, --concurrency,
 * --rounds and --warmup to both; --contended-ops to stock-update only;
 * --flash-runs and --flash-orders to allocation only; --rows, --warm, --cold,
 * --live-hours and --ledger-reads to reports only; --series to forecast only; --rate, --skus and --seconds to channels only; --runs and --baseline to coldstart only; --step-seconds and --soak-seconds to load only; the audit trail's cost, `audit`, takes the common ones). A benchmark that
 * fails does not stop the next; the exit code is the first failure's.
 */
// First, as every bench entry does (it lets tsx's require() load the ESM-only @middy packages).
import '../../bin/local/esm-only-packages';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface Bench {
  name: string;
  file: string;
  /** Value options it accepts, besides --quick. */
  options: string[];
}

const COMMON = ['ops', 'concurrency', 'rounds', 'warmup'];
const BENCHES: Bench[] = [
  { name: 'stock-update', file: 'stock-update.ts', options: [...COMMON, 'contended-ops'] },
  { name: 'allocation', file: 'allocation.ts', options: [...COMMON, 'flash-runs', 'flash-orders'] },
  { name: 'reports', file: 'reports.ts', options: ['rows', 'warm', 'cold', 'live-hours', 'ledger-reads'] },
  { name: 'forecast', file: 'forecast.ts', options: ['series'] },
  { name: 'channels', file: 'channels.ts', options: ['rate', 'skus', 'seconds'] },
  { name: 'tenant-guard', file: 'tenant-guard.ts', options: COMMON },
  { name: 'audit', file: 'audit.ts', options: COMMON },
  { name: 'web', file: 'web.ts', options: ['levels'] },
  { name: 'load', file: 'load.ts', options: ['step-seconds', 'soak-seconds'] },
  { name: 'coldstart', file: 'coldstart.ts', options: ['runs', 'baseline'] },
];

const valueOptions = [...new Set(BENCHES.flatMap((b) => b.options))];
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    ...Object.fromEntries(valueOptions.map((name) => [name, { type: 'string' as const }])),
  },
});
const args = values as Record<string, string | boolean | string[] | undefined>;

// `npm run bench -- reports` is `--only reports`.
const only = [...(values.only ?? []), ...positionals].flatMap((v) => v.split(','));
const unknown = only.filter((name) => !BENCHES.some((b) => b.name === name));
if (unknown.length) throw new Error(`--only (or a bare name) takes ${BENCHES.map((b) => b.name).join(', ')}; got ${unknown.join(', ')}`);
const selected = BENCHES.filter((b) => only.length === 0 || only.includes(b.name));

const argvFor = (bench: Bench): string[] => [
  ...(values.quick ? ['--quick'] : []),
  ...bench.options.flatMap((name) => (typeof args[name] === 'string' ? [`--${name}`, args[name] as string] : [])),
];

// node_modules/.bin/tsx is this file: the same tsx, run by the same node.
const TSX_CLI = require.resolve('tsx/cli');

let current: ReturnType<typeof spawn> | undefined;
let stoppedBy: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  // The child stops its own DynamoDB Local on the way out: pass the signal on, wait for it, run nothing more.
  process.on(signal, () => {
    stoppedBy = signal;
    if (current) current.kill(signal);
    else process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

const runOne = (bench: Bench): Promise<number> =>
  new Promise((done) => {
    const argv = argvFor(bench);
    process.stderr.write(`\n=== ${bench.name}${argv.length ? ` ${argv.join(' ')}` : ''} ===\n`);
    current = spawn(process.execPath, [TSX_CLI, resolve(__dirname, bench.file), ...argv], { stdio: 'inherit' });
    current.on('error', (error) => {
      process.stderr.write(`${bench.name}: ${error.message}\n`);
      done(1);
    });
    current.on('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });

const main = async (): Promise<void> => {
  const results: { name: string; code: number; seconds: number }[] = [];
  for (const bench of selected) {
    if (stoppedBy) break;
    const t0 = performance.now();
    const code = await runOne(bench);
    current = undefined;
    results.push({ name: bench.name, code, seconds: (performance.now() - t0) / 1000 });
  }
  process.stderr.write(
    `\n=== done: ${results.map((r) => `${r.name} ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`} in ${r.seconds.toFixed(1)} s`).join('; ')} ===\n`,
  );
  process.exitCode = stoppedBy ? (stoppedBy === 'SIGINT' ? 130 : 143) : (results.find((r) => r.code !== 0)?.code ?? 0);
};

void main();
