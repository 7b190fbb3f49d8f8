import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

// In a child process: openapi-typescript loads ESM-only parts that Node runs but Jest's module loader does not.
test('the dashboard\'s API types are the ones generated from today\'s OpenAPI document (run `npm run web:types` after changing a route)', () => {
  const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), 'bin/web-types.ts', '--check'], { cwd: resolve(__dirname, '../..'), encoding: 'utf8' });
  expect({ status: run.status, stderr: run.stderr.trim() }).toEqual({ status: 0, stderr: '' });
});
