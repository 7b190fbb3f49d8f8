import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startLocalApi, type LocalApi } from '../../bin/local/api-server';
import { createLocalIssuer, LOCAL_AUDIENCE, LOCAL_ISSUER, type LocalIssuer } from '../../bin/local/issuer';
import { ISSUER_KEY_FILE } from '../../bin/local/paths';

/**
 * The local issuer (the Cognito stand-in): every token it accepts expires,
 * and it signs none that lives longer than a day. Tokens are forged here
 * with the issuer's own key (read from its key file), so only the missing
 * or stretched claim is wrong, and they go through the real local gateway.
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

describe('npm run token', () => {
  const repo = resolve(__dirname, '../..');
  const token = (...args: string[]) => {
    const run = spawnSync(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'bin/token.ts'), ...args], { cwd: repo, encoding: 'utf8' });
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
  ])('%j is refused with one line on stderr, no stack trace, exit 2', (args, message) => {
    const run = token(...args);
    expect(run).toEqual({ status: 2, stdout: '', stderr: expect.stringMatching(message) });
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('a good command line prints the token alone, and the local issuer accepts it with the role asked for', async () => {
    const run = token('--tenant', 'acme', '--role', 'viewer', '--expires-in', '30m');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = await (await createLocalIssuer(ISSUER_KEY_FILE)).verify(run.stdout.trim());
    expect(claims).toMatchObject({ 'custom:tenant_id': 'acme', 'custom:role': 'viewer', sub: 'acme-viewer' });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(30 * 60);
  });
});
