import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Client, Response } from './api';

/**
 * The whole local runtime as a user starts it (`npm start -- --in-memory`), in a child process on a free port:
 * what the browser tests drive. The demo admin's dashboard link is read from its output, as a person would copy it.
 */
export interface RunningLocal {
  url: string;
  /** The demo admin's token (the one in the printed dashboard link). */
  token: string;
  /** What the runtime printed so far (stdout and stderr). */
  output: () => string;
  /** The child's process id (its tree holds the runtime's Node process and DynamoDB Local's JVM). */
  pid: number;
  /** DynamoDB Local's JVM now: the one the banner named, or the last one the supervisor reported back. */
  dynamoPid: () => number | undefined;
  /** SIGKILL to the whole process group (Node and the JVM), as a power cut of the runtime would do; resolves once it exited. */
  kill: () => Promise<void>;
  stop: () => Promise<void>;
}

export interface LocalRuntimeOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Keep the data under this directory (`--data-dir`) instead of in memory (`--in-memory`, the default here). */
  dataDir?: string;
  /** More options for bin/local.ts. */
  args?: string[];
}

/** The JVM's pid: `pid N, supervised` in the banner, then `DynamoDB Local is back` lines (JSON, at warn) after restarts. */
const lastDynamoPid = (output: string): number | undefined => {
  let pid: number | undefined;
  for (const line of output.split('\n')) {
    const banner = /DynamoDB Local at \S+, pid (\d+), supervised/.exec(line);
    if (banner) pid = Number(banner[1]);
    if (line.startsWith('{') && line.includes('DynamoDB Local is back')) {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null && 'pid' in parsed && typeof parsed.pid === 'number') pid = parsed.pid;
    }
  }
  return pid;
};

const ROOT = resolve(__dirname, '../..');

const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });

export const startLocalRuntime = async (options: LocalRuntimeOptions = {}): Promise<RunningLocal> => {
  const port = await freePort();
  const data = options.dataDir === undefined ? ['--in-memory'] : ['--data-dir', options.dataDir];
  const args = [require.resolve('tsx/cli'), resolve(ROOT, 'bin/local.ts'), ...data, '--port', String(port), ...(options.args ?? [])];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a stop that has to force it kills DynamoDB Local's JVM with it (a SIGKILL runs no exit hook).
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const token = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`npm start did not print the dev token within ${options.timeoutMs ?? 90_000} ms:\n${output}`)), options.timeoutMs ?? 90_000);
    const look = () => {
      // The dev token line, printed with and without the dashboard (--no-web).
      const link = /^export TOKEN=(\S+)$/m.exec(output);
      if (link?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', look);
        done(link[1]);
      }
    };
    child.stdout?.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`npm start exited (${code}) before it was up:\n${output}`));
    });
  });
  return {
    url: `http://localhost:${port}`,
    token,
    output: () => output,
    pid: child.pid ?? 0,
    dynamoPid: () => lastDynamoPid(output),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      const group = child.pid;
      const killer = setTimeout(() => {
        if (group !== undefined) process.kill(-group, 'SIGKILL');
      }, 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
};

/**
 * A test client of a running npm start, as the demo admin (tenant `demo`), with the shape of test/support/api.ts's
 * Client so its readers (levelsOf, allMovements, reconcile) work over it. Responses are not held to the OpenAPI
 * document here: the runtime under test serves it, and the suites of the API check it.
 */
export const runtimeClient = (runtime: Pick<RunningLocal, 'url' | 'token'>, timeoutMs = 30_000): Client => {
  const raw = async (path: string, init: RequestInit): Promise<Response> => {
    const res = await fetch(`${runtime.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
  };
  const withBody = (method: string) => (path: string, body?: unknown, headers?: Record<string, string>) =>
    raw(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(headers ? { headers } : {}) });
  return {
    get: (path, headers) => raw(path, { method: 'GET', ...(headers ? { headers } : {}) }),
    post: withBody('POST'),
    patch: withBody('PATCH'),
    put: withBody('PUT'),
    delete: (path, headers) => raw(path, { method: 'DELETE', ...(headers ? { headers } : {}) }),
    raw,
    tenantId: 'demo',
  };
};
