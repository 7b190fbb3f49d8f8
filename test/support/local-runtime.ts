import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

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
  stop: () => Promise<void>;
}

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

export const startLocalRuntime = async (options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunningLocal> => {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [require.resolve('tsx/cli'), resolve(ROOT, 'bin/local.ts'), '--in-memory', '--port', String(port)], {
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
    const timer = setTimeout(() => fail(new Error(`npm start did not print the dashboard link within ${options.timeoutMs ?? 90_000} ms:\n${output}`)), options.timeoutMs ?? 90_000);
    const look = () => {
      const link = /Dashboard, signed in as the demo admin: \S+#token=(\S+)/.exec(output);
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
