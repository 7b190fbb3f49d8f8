/**
 * `npm run bench -- coldstart` (issue 14): what each function costs to start. Every function the stack
 * builds (each `functions/<context>/handlers/*.ts`: the wiring's entries and the audit export) is bundled
 * with exactly the esbuild options lib/functions.ts gives NodejsFunction (minified, node22, CommonJS,
 * mainFields module/main, nothing external, an external source map), once from this tree and once from
 * the baseline commit (today's bundles, checked out by `git archive` into a temporary folder), in the
 * same run. For each function: the bundle's size, and its module-load time (the `require` of the bundle
 * in a fresh Node process started as Lambda starts it, `--enable-source-maps`), the median of --runs
 * processes, baseline and current alternating so a busy machine slows both alike.
 *
 * Goals: every HTTP function loads in at most half its baseline time, and the largest bundle is at most
 * half the largest baseline bundle.
 *
 *   npm run bench -- coldstart                 every function, median of 5
 *   npm run bench -- coldstart --quick         one function per context, median of 3
 *   npm run bench -- coldstart --runs 9 --baseline <commit>
 *
 * A measurement, not a test (test/unit/bundle-shape.test.ts guards what a bundle may hold).
 * Results also go to .data/bench/coldstart.json.
 */
import { build, type BuildOptions } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { httpRoutes } from '../../functions/wiring';
import { intOption, log, machineInfo, median, ROOT, round2, runMain, writeJson } from './common';

const OUT_FILE = resolve(ROOT, '.data/bench/coldstart.json');
/** The commit before issue 14's cold-start work: "today's bundles" of the issue. */
const DEFAULT_BASELINE = 'bbd9eec';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' }, baseline: { type: 'string' } },
});
const runs = intOption('runs', values.runs, values.quick ? 3 : 5, 1);
const baselineRev = values.baseline ?? DEFAULT_BASELINE;

/** lib/functions.ts `bundling`, as NodejsFunction hands it to esbuild. */
const LAMBDA_BUNDLING: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: [],
  logLevel: 'error',
};

/**
 * What a function may read from its environment while its module loads: placeholders for what the
 * stack sets (nothing is called, so no value is used). Without them a module reading one at load would throw.
 */
const LOAD_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_LAMBDA_FUNCTION_NAME: 'coldstart-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  TABLE_NAME: 'stockroom-bench',
  AUDIT_TABLE_NAME: 'stockroom-bench-audit',
  EVENT_BUS_NAME: 'stockroom-bench-bus',
  LOG_LEVEL: 'silent',
  POWERTOOLS_SERVICE_NAME: 'stockroom',
  POWERTOOLS_METRICS_NAMESPACE: 'Stockroom',
  NODE_OPTIONS: '',
};

/** Every function the stack builds, repo-relative: each module under functions/<context>/handlers/. */
const handlerEntries = (root: string): string[] =>
  readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'functions', d.name, 'handlers')))
    .flatMap((d) =>
      readdirSync(join(root, 'functions', d.name, 'handlers'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `functions/${d.name}/handlers/${f}`),
    )
    .sort();

/** The baseline's source, with this tree's node_modules: the same packages, so only the code differs. */
const checkoutBaseline = (rev: string): string => {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-coldstart-'));
  const archive = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', rev, 'functions', 'tsconfig.json', 'package.json'], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
};

interface Bundle {
  file: string;
  bytes: number;
}

const bundle = async (root: string, entry: string, outDir: string): Promise<Bundle> => {
  const file = join(outDir, entry.replace(/^functions\//, '').replace(/\.ts$/, '').replace(/\//g, '--'), 'index.js');
  await build({ ...LAMBDA_BUNDLING, absWorkingDir: root, entryPoints: [join(root, entry)], outfile: file });
  // As lib/functions.ts's bundling hook does: the context's SQL files next to the bundle (functions/reports reads them at load).
  const sql = join(root, entry.split('/').slice(0, 2).join('/'), 'sql');
  if (existsSync(sql)) cpSync(sql, join(file, '..', 'sql'), { recursive: true });
  return { file, bytes: statSync(file).size };
};

/** One fresh process: node as Lambda starts it, timing only the bundle's require. */
const loadMs = (file: string): number => {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const child = spawnSync(process.execPath, ['--enable-source-maps', '-e', script], { env: LOAD_ENV, encoding: 'utf8', cwd: resolve(file, '..') });
  const ms = Number(child.stdout);
  if (child.status !== 0 || !Number.isFinite(ms)) throw new Error(`${file} did not load: ${child.stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
  return ms;
};

interface Row {
  entry: string;
  http: boolean;
  baseline?: { bytes: number; load_ms: number };
  current: { bytes: number; load_ms: number };
  size_ratio?: number;
  load_ratio?: number;
}

const kb = (bytes: number): string => (bytes / 1024).toFixed(0);
const fmtRatio = (r: number | undefined): string => (r === undefined ? '-' : r.toFixed(2));

const main = async (): Promise<void> => {
  const httpEntries = new Set<string>(Object.values(httpRoutes).map((route) => route.entry));
  let entries = handlerEntries(ROOT);
  // --quick: the first function of each context.
  if (values.quick) entries = entries.filter((e, i) => i === 0 || e.split('/')[1] !== entries[i - 1]?.split('/')[1]);

  const baselineRoot = checkoutBaseline(baselineRev);
  const outDir = mkdtempSync(join(tmpdir(), 'stockroom-coldstart-out-'));
  try {
    const baselineEntries = new Set(handlerEntries(baselineRoot));
    log(`bundling ${entries.length} functions from this tree and from ${baselineRev} (${[...baselineEntries].filter((e) => entries.includes(e)).length} exist there)`);
    const current = new Map<string, Bundle>();
    const baseline = new Map<string, Bundle>();
    for (const entry of entries) {
      current.set(entry, await bundle(ROOT, entry, join(outDir, 'current')));
      if (baselineEntries.has(entry)) baseline.set(entry, await bundle(baselineRoot, entry, join(outDir, 'baseline')));
    }

    log(`loading each bundle in ${runs} fresh processes (baseline and current alternating)`);
    const times = new Map<string, { current: number[]; baseline: number[] }>(entries.map((e) => [e, { current: [], baseline: [] }]));
    for (let run = 0; run < runs; run++) {
      for (const entry of entries) {
        const t = times.get(entry)!;
        const base = baseline.get(entry);
        if (base) t.baseline.push(loadMs(base.file));
        t.current.push(loadMs(current.get(entry)!.file));
      }
      log(`run ${run + 1}/${runs} done`);
    }

    const rows: Row[] = entries.map((entry) => {
      const t = times.get(entry)!;
      const cur = { bytes: current.get(entry)!.bytes, load_ms: round2(median(t.current)) };
      const base = baseline.get(entry);
      const baseRow = base ? { bytes: base.bytes, load_ms: round2(median(t.baseline)) } : undefined;
      return {
        entry,
        http: httpEntries.has(entry),
        current: cur,
        ...(baseRow
          ? { baseline: baseRow, size_ratio: round2(cur.bytes / baseRow.bytes), load_ratio: round2(cur.load_ms / baseRow.load_ms) }
          : {}),
      };
    });

    const width = Math.max(...rows.map((r) => r.entry.length - 'functions/'.length)) + 2;
    const header = ['function'.padEnd(width), 'kind', 'KB before', 'KB now', 'size x', 'ms before', 'ms now', 'load x'];
    const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c : c.padStart(i === 1 ? 5 : 10))).join(' ');
    const table = [
      line(header),
      ...rows.map((r) =>
        line([
          r.entry.replace(/^functions\//, '').replace(/\.ts$/, '').padEnd(width),
          r.http ? 'http' : 'other',
          r.baseline ? kb(r.baseline.bytes) : '-',
          kb(r.current.bytes),
          fmtRatio(r.size_ratio),
          r.baseline ? r.baseline.load_ms.toFixed(1) : '-',
          r.current.load_ms.toFixed(1),
          fmtRatio(r.load_ratio),
        ]),
      ),
    ];

    const http = rows.filter((r) => r.http && r.load_ratio !== undefined);
    const slow = http.filter((r) => (r.load_ratio as number) > 0.5);
    const largestNow = rows.reduce((a, b) => (b.current.bytes > a.current.bytes ? b : a));
    const withBase = rows.filter((r) => r.baseline);
    const largestBefore = withBase.reduce((a, b) => (b.baseline!.bytes > a.baseline!.bytes ? b : a));
    const largestRatio = largestNow.current.bytes / largestBefore.baseline!.bytes;
    const loadGoal = slow.length === 0;
    const sizeGoal = largestRatio <= 0.5;
    const httpRatios = http.map((r) => r.load_ratio as number).sort((a, b) => a - b);

    process.stdout.write(`\n${table.join('\n')}\n\n`);
    process.stdout.write(
      `load goal (every HTTP function at most 0.5x its baseline load): ${loadGoal ? 'MET' : 'NOT MET'}: ` +
        `${http.length - slow.length}/${http.length} at or under 0.5x; ratios ${httpRatios[0]?.toFixed(2)} to ${httpRatios.at(-1)?.toFixed(2)}, median ${median(httpRatios).toFixed(2)}` +
        `${slow.length ? `; over, worst first: ${[...slow].sort((a, b) => (b.load_ratio as number) - (a.load_ratio as number)).slice(0, 8).map((r) => `${r.entry.replace(/^functions\//, '').replace(/\.ts$/, '')} ${fmtRatio(r.load_ratio)}`).join(', ')}${slow.length > 8 ? ` and ${slow.length - 8} more` : ''}` : ''}\n`,
    );
    process.stdout.write(
      `size goal (largest bundle at most 0.5x the largest baseline bundle): ${sizeGoal ? 'MET' : 'NOT MET'}: ` +
        `largest now ${largestNow.entry.replace(/^functions\//, '').replace(/\.ts$/, '')} ${kb(largestNow.current.bytes)} KB, ` +
        `largest before ${largestBefore.entry.replace(/^functions\//, '').replace(/\.ts$/, '')} ${kb(largestBefore.baseline!.bytes)} KB (${largestRatio.toFixed(2)}x)\n`,
    );
    process.stdout.write(`baseline ${baselineRev}; median of ${runs} processes each; ${machineInfo().node} on ${machineInfo().cpus} CPUs, load ${machineInfo().load_average_1m}\n`);

    writeJson(OUT_FILE, {
      bench: 'coldstart',
      at: new Date().toISOString(),
      machine: machineInfo(),
      baseline: baselineRev,
      runs,
      quick: values.quick,
      goals: { load: loadGoal, size: sizeGoal, largest_ratio: round2(largestRatio) },
      rows,
    });
  } finally {
    rmSync(baselineRoot, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  }
};

runMain(main);
