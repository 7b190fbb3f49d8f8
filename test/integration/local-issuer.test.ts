import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { startLocalApi, type LocalApi } from '../../bin/local/api-server';
import { createLocalIssuer, LOCAL_AUDIENCE, LOCAL_ISSUER, type LocalIssuer } from '../../bin/local/issuer';
import { ISSUER_KEY_FILE, RUNTIME_FILE_ENV } from '../../bin/local/paths';
import { announceRuntime, tokenFor, UserRefused } from '../../bin/local/users';
import { registerUser } from '../../functions/identity/users';
import { dbFromEnv } from '../../functions/platform/db';
import { newTenantId } from '../support/api';

/**
 * The local issuer (the Cognito stand-in): every token it accepts expires,
 * and it signs none that lives longer than a day. Tokens are forged here
 * with the issuer's own key (read from its key file), so only the missing
 * or stretched claim is wrong, and they go through the real local gateway. Every token here is of a user
 * of the directory (issue 12): the gateway's handler refuses any other, whatever its signature.
 */
let dir: string;
let issuer: LocalIssuer;
let api: LocalApi;
let forge: (payload: JWTPayload, times: { iat?: number; exp?: number }) => Promise<string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stockroom-issuer-'));
  const keyFile = join(dir, 'key.json');
  issuer = await createLocalIssuer(keyFile);
  api = await startLocalApi({ issuer });
  for (const [userId, role] of [['forger', 'admin'], ['t-issuer-viewer', 'viewer'], ['t-issuer-admin', 'admin']] as const) {
    await registerUser(dbFromEnv(), 't-issuer', { userId, email: `${userId}@issuer.test`, role });
  }
  const privateKey = await importJWK(JSON.parse(readFileSync(keyFile, 'utf8')), 'ES256');
  forge = (payload, { iat, exp }) => {
    const jwt = new SignJWT({ 'custom:tenant_id': 't-issuer', 'custom:role': 'admin', token_use: 'id', ...payload })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('forger')
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE);
    if (iat !== undefined) jwt.setIssuedAt(iat);
    if (exp !== undefined) jwt.setExpirationTime(exp);
    return jwt.sign(privateKey);
  };
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

const statusWith = async (token: string): Promise<number> =>
  (await fetch(`${api.url}/api/warehouses`, { headers: { authorization: `Bearer ${token}` } })).status;

const now = () => Math.floor(Date.now() / 1000);

describe('local tokens expire', () => {
  test('a correctly signed token without exp is 401; the same with exp is served', async () => {
    expect(await statusWith(await forge({}, { iat: now(), exp: now() + 600 }))).toBe(200);
    expect(await statusWith(await forge({}, { iat: now() }))).toBe(401);
    await expect(issuer.verify(await forge({}, { iat: now() }))).rejects.toThrow(/"exp" claim/);
  });

  test('a token without iat, or issued more than 24 h ago, is 401 even if its exp is still ahead', async () => {
    expect(await statusWith(await forge({}, { exp: now() + 600 }))).toBe(401);
    expect(await statusWith(await forge({}, { iat: now() - 25 * 3600, exp: now() + 3600 }))).toBe(401);
    expect(await statusWith(await forge({}, { iat: now() - 23 * 3600, exp: now() + 3600 }))).toBe(200);
  });

  test('the issuer signs lifetimes up to 24 h and refuses longer ones, or ones it cannot read, with a clear message', async () => {
    for (const lifetime of ['30s', '30m', '12h', '24h', '1d']) {
      expect(await statusWith(await issuer.sign({ tenantId: 't-issuer', role: 'viewer', expiresIn: lifetime }))).toBe(200);
    }
    await expect(issuer.sign({ tenantId: 't-issuer', role: 'admin', expiresIn: '25h' })).rejects.toThrow("a local token lives at most 24h (got '25h')");
    await expect(issuer.sign({ tenantId: 't-issuer', role: 'admin', expiresIn: '2d' })).rejects.toThrow(/at most 24h/);
    await expect(issuer.sign({ tenantId: 't-issuer', role: 'admin', expiresIn: '10 years' })).rejects.toThrow(/whole number of s, m, h or d/);
    // Tests mint already-expired tokens with a negative lifetime; such a token is 401.
    expect(await statusWith(await issuer.sign({ tenantId: 't-issuer', role: 'admin', expiresIn: '-1m' }))).toBe(401);
  });
});

describe('the local issuer signs for users of the directory only', () => {
  test("a user's token carries the record's role, scope and e-mail, whatever was asked; unknown and disabled users get none", async () => {
    const db = dbFromEnv();
    const tenantId = newTenantId();
    await registerUser(db, tenantId, { userId: 'u-scoped', email: 'Scoped@Example.com', role: 'clerk', warehouseIds: ['wh-1'] });
    const { token } = await tokenFor(issuer, db, tenantId, { email: 'scoped@example.com' });
    expect(await issuer.verify(token)).toMatchObject({ sub: 'u-scoped', 'custom:role': 'clerk', 'custom:warehouse_ids': 'wh-1', email: 'scoped@example.com' });
    expect(await statusWith(token)).toBe(200);
    await expect(tokenFor(issuer, db, tenantId, { email: 'nobody@example.com' })).rejects.toThrow(new UserRefused(`tenant '${tenantId}' has no user with the e-mail address nobody@example.com`));
    await registerUser(db, tenantId, { userId: 'u-scoped', email: 'scoped@example.com', role: 'clerk', warehouseIds: ['wh-1'], disabled: true });
    await expect(tokenFor(issuer, db, tenantId, { email: 'scoped@example.com' })).rejects.toThrow(/is disabled/);
  });

  test('a development user of a role is made when there is none, and then used as the directory has them', async () => {
    const db = dbFromEnv();
    const tenantId = newTenantId();
    const first = await tokenFor(issuer, db, tenantId, { role: 'manager' });
    expect(first.userId).toBe(`${tenantId}-manager`);
    expect(await issuer.verify(first.token)).toMatchObject({ sub: `${tenantId}-manager`, 'custom:role': 'manager', email: `${tenantId}-manager@${tenantId}.dev.invalid` });
    expect(await statusWith(first.token)).toBe(200);
    // Demoted in the directory since: the next token says so.
    await registerUser(db, tenantId, { userId: `${tenantId}-manager`, email: `${tenantId}-manager@${tenantId}.dev.invalid`, role: 'viewer' });
    expect((await tokenFor(issuer, db, tenantId, { role: 'manager' })).role).toBe('viewer');
  });
});

describe('npm run token', () => {
  const repo = resolve(__dirname, '../..');
  // The CLI reaches the test's own table, as it reaches a running npm start's: through a runtime file naming it (and a live pid).
  const runtimeFile = join(mkdtempSync(join(tmpdir(), 'stockroom-runtime-')), 'local-runtime.json');
  announceRuntime({ pid: process.pid, dynamodb_endpoint: process.env.DYNAMODB_ENDPOINT!, table: process.env.TABLE_NAME! }, runtimeFile);
  afterAll(() => rmSync(dirname(runtimeFile), { recursive: true, force: true }));
  const token = (...args: string[]) => {
    const run = spawnSync(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'bin/token.ts'), ...args], { cwd: repo, encoding: 'utf8', timeout: 60_000, env: { ...process.env, [RUNTIME_FILE_ENV]: runtimeFile } });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  test.each([
    [['--expires-in', '-1h'], /^token: --expires-in must be a positive lifetime/],
    [['--expires-in=-1h'], /^token: --expires-in must be a positive lifetime/],
    [['--expires-in', '48h'], /^token: --expires-in: a local token lives at most 24h/],
    [['--expires-in'], /^token: Option '--expires-in <value>' argument missing/],
    [['--bogus'], /^token: Unknown option '--bogus'/],
    [['--role', 'boss'], /^token: --role must be one of: admin, manager, purchaser, clerk, viewer/],
    [['--tenant', 'a#b'], /^token: --tenant must match/],
    [['stray'], /^token: Unexpected argument 'stray'/],
    [['--email', 'a@example.com', '--role', 'admin'], /^token: --email names an existing user/],
    [['--email', 'not an address'], /^token: --email must be an e-mail address/],
  ])('%j is refused with one line on stderr, no stack trace, exit 2', (args, message) => {
    const run = token(...args);
    expect(run).toEqual({ status: 2, stdout: '', stderr: expect.stringMatching(message) });
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('a good command line prints the token alone, for the development user of the role asked for, made in the directory', async () => {
    const tenantId = newTenantId();
    const run = token('--tenant', tenantId, '--role', 'viewer', '--expires-in', '30m');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = await (await createLocalIssuer(ISSUER_KEY_FILE)).verify(run.stdout.trim());
    expect(claims).toMatchObject({ 'custom:tenant_id': tenantId, 'custom:role': 'viewer', sub: `${tenantId}-viewer` });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(30 * 60);
    const again = token('--tenant', tenantId, '--email', `${tenantId}-viewer@${tenantId}.dev.invalid`);
    expect(again.status).toBe(0);
    expect(await (await createLocalIssuer(ISSUER_KEY_FILE)).verify(again.stdout.trim())).toMatchObject({ sub: `${tenantId}-viewer`, 'custom:role': 'viewer' });
  });

  test('--email of an unknown or a disabled user prints no token: one line on stderr saying why, exit 1', async () => {
    const tenantId = newTenantId();
    const unknown = token('--tenant', tenantId, '--email', 'ghost@example.com');
    expect(unknown).toEqual({ status: 1, stdout: '', stderr: `token: tenant '${tenantId}' has no user with the e-mail address ghost@example.com\n` });
    await registerUser(dbFromEnv(), tenantId, { userId: 'off', email: 'off@example.com', role: 'clerk', disabled: true });
    const disabled = token('--tenant', tenantId, '--email', 'off@example.com');
    expect(disabled.status).toBe(1);
    expect(disabled.stdout).toBe('');
    expect(disabled.stderr).toMatch(/^token: the user off@example.com \(off\) of tenant '[^']+' is disabled/);
    expect(disabled.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
