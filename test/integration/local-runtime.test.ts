import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from '../../bin/local/dynamodb';

const ROOT = resolve(__dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const BIN = resolve(ROOT, 'node_modules/.bin');

test('npm start without Java explains in one line how to install it, with no stack trace', () => {
  // Only the project's own bin folder (Node 22, tsx) on the PATH: no java.
  const run = spawnSync(TSX, ['bin/local.ts', '--in-memory'], { cwd: ROOT, env: { ...process.env, PATH: BIN }, encoding: 'utf8' });
  expect(run.status).toBe(1);
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/Java 17\+ is needed.*apt-get install -y openjdk-17-jre-headless/);
});

test('npm start --help lists the options (--data-dir among them) and exits 0; --data-dir with --in-memory is refused with exit 2 before anything starts', () => {
  const help = spawnSync(TSX, ['bin/local.ts', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/--data-dir DIR/);
  expect(help.stdout).toMatch(/--in-memory/);
  const both = spawnSync(TSX, ['bin/local.ts', '--in-memory', '--data-dir', '/tmp/nowhere'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(both.status).toBe(2);
  expect(both.stderr).toMatch(/--data-dir and --in-memory contradict each other/);
});

// With no npm start running, the CLI opens the persisted user directory (.data/dynamodb) itself for the moment.
test('npm run token prints a token alone on stdout, and refuses an unknown role', () => {
  const ok = spawnSync(TSX, ['bin/token.ts', '--tenant', 'acme', '--role', 'viewer'], { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
  expect(ok.status).toBe(0);
  expect(ok.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const claims = JSON.parse(Buffer.from(ok.stdout.split('.')[1]!, 'base64url').toString());
  expect(claims).toMatchObject({ 'custom:tenant_id': 'acme', 'custom:role': 'viewer' });
  const bad = spawnSync(TSX, ['bin/token.ts', '--role', 'god'], { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
  expect(bad.status).toBe(2);
  expect(bad.stdout).toBe('');
});

test('npm start serves the API with the printed dev token and logs one JSON line per request', async () => {
  const port = await freePort();
  const child = spawn(TSX, ['bin/local.ts', '--in-memory', '--port', String(port)], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info' } });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const deadline = Date.now() + 45_000;
    while (!/export TOKEN=(\S+)/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not come up: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const token = /export TOKEN=(\S+)/.exec(out)![1];
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`http://localhost:${port}/api/warehouses`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ warehouse_id: 'w1', name: 'W', latitude: 1, longitude: 2 }),
    });
    expect(created.status).toBe(201);
    const list = await fetch(`http://localhost:${port}/api/warehouses`, { headers });
    expect(((await list.json()) as { warehouses: unknown[] }).warehouses).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 100));
    // npm run token reaches this server's (in-memory) directory: the demo admin by address, and a new tenant's development clerk.
    for (const args of [['--tenant', 'demo', '--email', 'admin@demo.example'], ['--tenant', 'runtime-check', '--role', 'clerk']]) {
      const run = spawnSync(TSX, ['bin/token.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect({ args, status: run.status, stderr: run.stderr }).toEqual({ args, status: 0, stderr: '' });
      const answer = await fetch(`http://localhost:${port}/api/warehouses`, { headers: { authorization: `Bearer ${run.stdout.trim()}` } });
      expect({ args, status: answer.status }).toEqual({ args, status: 200 });
    }
    const unknown = spawnSync(TSX, ['bin/token.ts', '--tenant', 'demo', '--email', 'nobody@demo.example'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^token: tenant 'demo' has no user with the e-mail address nobody@demo.example\n$/);
    const logLines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(logLines).toContainEqual(expect.objectContaining({ message: 'request', route: 'createWarehouse', method: 'POST', path: '/api/warehouses', status: 201, duration_ms: expect.any(Number), correlation_id: expect.any(String), tenant_id: 'demo' }));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});
