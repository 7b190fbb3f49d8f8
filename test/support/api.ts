import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { startLocalAthena } from '../../bin/local/athena';
import { LOCAL_LAKE_BUCKET, startLocalS3 } from '../../bin/local/s3';
import { LAKE_BUCKET_ENV, S3_ENDPOINT_ENV } from '../../functions/platform/lake-objects';
import { CHANNEL_SECRETS_ENV } from '../../functions/platform/secrets';
import { ATHENA_ENDPOINT_ENV, ATHENA_WORKGROUP_ENV, LAKE_DATABASE_ENV, LAKE_NAMES } from '../../functions/platform/lake';
import { startLocalApi, type LocalApi } from '../../bin/local/api-server';
import { createHash } from 'node:crypto';
import { createLocalIssuer, type LocalIssuer, type TokenClaims } from '../../bin/local/issuer';
import type { Role } from '../../functions/identity/roles';
import { registerUser } from '../../functions/identity/users';
import { dbFromEnv } from '../../functions/platform/db';
import { ID_PATTERN } from '../../functions/platform/ids';
import { contractOf, ContractViolation, type Contract } from './contract';

/**
 * Integration tests go through the real path: HTTP -> the local API Gateway
 * stand-in (JWT check, event mapping) -> the handler module -> DynamoDB
 * Local. Each test gets fresh tenants, so tests never see each other's data.
 * Every response is held to the OpenAPI document the app serves
 * (test/support/contract.ts): one that breaks it throws a ContractViolation
 * into the test that received it, so the document stays true.
 */
export interface Response<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Client {
  get: <T = any>(path: string, headers?: Record<string, string>) => Promise<Response<T>>;
  post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response<T>>;
  patch: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response<T>>;
  put: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response<T>>;
  delete: <T = any>(path: string, headers?: Record<string, string>) => Promise<Response<T>>;
  raw: (path: string, init: RequestInit) => Promise<Response>;
  tenantId: string;
}

export interface TestApi {
  api: LocalApi;
  /** Signs tokens for the tests, registering each token's user in the directory first (registeringIssuer). */
  issuer: LocalIssuer;
  /** The same key's issuer without the registration: tokens of users the directory does not know (refused with 401). */
  unregisteredIssuer: LocalIssuer;
  /** The served OpenAPI document every response is checked against. */
  contract: Contract;
  /** A request with only the headers given (no token), its response checked like every other. */
  request: (path: string, init?: RequestInit) => Promise<Response>;
  client: (options?: ClientOptions) => Promise<Client>;
  /** The lake the reports read (a temp dir; the local Athena stand-in serves it): feed it with startLocalPipeline's `lake`. */
  lakeRoot: string;
  /** The local encrypted store of channel credentials (a temp dir, as npm start keeps .data/channel-secrets/). */
  channelSecretsDir: string;
  close: () => Promise<void>;
}

/** Who a test client is: a tenant's user of a role, optionally with a subject, e-mail and warehouse scope. */
export interface ClientOptions {
  tenantId?: string;
  role?: Role;
  subject?: string;
  email?: string;
  warehouseIds?: readonly string[];
}

export interface TestApiOptions {
  /** The local Athena keeps every query running at least this long (the report's `running` path). */
  athenaMinRunningMs?: number;
}

export const newTenantId = (): string => `t-${ulid().toLowerCase()}`;

/**
 * The user a test token is for, as the directory must know them (issue 12: the HTTP layer refuses a token
 * whose user does not exist, and takes role, scope and e-mail from the record). Without a subject: one
 * user per tenant, role and warehouse scope (so a scoped and an unscoped clerk of one tenant are two people),
 * and an address made from the subject.
 */
const subjectOf = (claims: TokenClaims): string => {
  if (claims.subject !== undefined) return claims.subject;
  const base = `${claims.tenantId}-${claims.role}`;
  if (claims.warehouseIds === undefined) return base;
  return `${base}-scoped-${createHash('sha256').update(claims.warehouseIds.join(',')).digest('hex').slice(0, 12)}`;
};

/**
 * The local issuer as the tests use it: each token's user is registered (or re-registered: role, e-mail and
 * scope replaced, enabled again) in the user directory before the token is signed, so every existing test
 * keeps working unchanged while the HTTP layer checks every token against the directory. A tenant id that no
 * key can hold (a test of a bad token) registers nobody: the token is refused before any lookup anyway.
 */
export const registeringIssuer = (issuer: LocalIssuer): LocalIssuer => ({
  verify: issuer.verify,
  sign: async (claims) => {
    const subject = subjectOf(claims);
    if (ID_PATTERN.test(claims.tenantId)) {
      await registerUser(dbFromEnv(), claims.tenantId, {
        userId: subject,
        email: claims.email ?? `${subject.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64)}@users.test`,
        role: claims.role,
        ...(claims.warehouseIds === undefined ? {} : { warehouseIds: claims.warehouseIds }),
      });
    }
    return issuer.sign({ ...claims, subject });
  },
});

const send = async (url: string, path: string, init: RequestInit): Promise<{ response: Response; text: string }> => {
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the test will see the text
  }
  // Headers ride along unenumerated: tests compare whole responses as status and body, and two
  // answers to the same request differ in Date.
  const response: Response = { status: res.status, body, headers: res.headers };
  Object.defineProperty(response, 'headers', { enumerable: false });
  return { response, text };
};

/** The lake names the test API gives the report handlers and the local Athena: the deployed stack's (test/infra/lake.test.ts pins them). */
export const TEST_LAKE_NAMES = LAKE_NAMES;

export const startTestApi = async (options: TestApiOptions = {}): Promise<TestApi> => {
  // The reports' lake, as npm start runs it: the local Athena over a lake root (here a temp dir).
  // The environment is the process's: the last test API started in a test file is the one reports use.
  const lakeRoot = await mkdtemp(join(tmpdir(), 'stockroom-test-lake-'));
  process.env[ATHENA_WORKGROUP_ENV] = TEST_LAKE_NAMES.workgroup;
  process.env[LAKE_DATABASE_ENV] = TEST_LAKE_NAMES.database;
  const athena = await startLocalAthena({
    lakeRoot,
    workgroups: [TEST_LAKE_NAMES.workgroup],
    ...(options.athenaMinRunningMs === undefined ? {} : { minRunningMs: options.athenaMinRunningMs }),
  });
  process.env[ATHENA_ENDPOINT_ENV] = athena.endpoint;
  const s3 = await startLocalS3({ root: lakeRoot, buckets: [LOCAL_LAKE_BUCKET] });
  process.env[LAKE_BUCKET_ENV] = LOCAL_LAKE_BUCKET;
  process.env[S3_ENDPOINT_ENV] = s3.endpoint;
  // Channel credentials in the local encrypted store, as npm start keeps them (functions/platform/secrets.ts).
  const channelSecretsDir = await mkdtemp(join(tmpdir(), 'stockroom-test-secrets-'));
  process.env[CHANNEL_SECRETS_ENV] = `file:${channelSecretsDir}`;
  const unregisteredIssuer = await createLocalIssuer();
  const issuer = registeringIssuer(unregisteredIssuer);
  const api = await startLocalApi({ issuer });
  // The document is read once, as a client would, and holds itself to itself first.
  const readerToken = await issuer.sign({ tenantId: newTenantId(), role: 'viewer' });
  const served = await send(api.url, '/api/openapi.json', { headers: { authorization: `Bearer ${readerToken}` } });
  if (served.response.status !== 200) throw new Error(`GET /api/openapi.json answered ${served.response.status}: ${served.text}`);
  const contract = contractOf(served.response.body);
  const checked = async (path: string, init: RequestInit): Promise<Response> => {
    const { response, text } = await send(api.url, path, init);
    const problems = contract.violations({ method: init.method ?? 'GET', url: path, status: response.status, headers: response.headers, text });
    if (problems.length > 0) throw new ContractViolation(problems, response);
    return response;
  };
  await checked('/api/openapi.json', { headers: { authorization: `Bearer ${readerToken}` } });
  const client = async ({ tenantId = newTenantId(), role = 'admin', ...who }: ClientOptions = {}): Promise<Client> => {
    const token = await issuer.sign({ tenantId, role, ...who });
    const raw = checked;
    const call = (method: string) => (path: string, body?: unknown, headers: Record<string, string> = {}) =>
      raw(path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    return {
      tenantId,
      raw: (path, init) => raw(path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } }),
      get: (path, headers) => call('GET')(path, undefined, headers),
      post: call('POST'),
      patch: call('PATCH'),
      put: call('PUT'),
      delete: (path, headers) => call('DELETE')(path, undefined, headers),
    };
  };
  const close = async (): Promise<void> => {
    await api.close();
    await athena.close();
    await s3.close();
    await rm(lakeRoot, { recursive: true, force: true });
    await rm(channelSecretsDir, { recursive: true, force: true });
  };
  return { api, issuer, unregisteredIssuer, contract, request: (path, init = {}) => checked(path, init), client, lakeRoot, channelSecretsDir, close };
};

/** The body of a response that has the expected status; otherwise throws, showing the body (for setup steps). */
export const ok = <T = any>(res: Response<T>, status = 200): T => {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
};

/** A tenant with one product, one SKU and the given warehouses, ready for stock tests. */
export const setupCatalog = async (
  client: Client,
  options: { skuId?: string; warehouses?: string[] } = {},
): Promise<{ skuId: string; warehouseIds: string[] }> => {
  const skuId = options.skuId ?? 'sku-1';
  const warehouseIds = options.warehouses ?? ['wh-1'];
  const product = await client.post('/api/products', { product_id: 'prod-1', name: 'Widget' });
  if (product.status !== 201) throw new Error(`product: ${JSON.stringify(product.body)}`);
  const sku = await client.post('/api/skus', { sku_id: skuId, product_id: 'prod-1', name: 'Widget, blue' });
  if (sku.status !== 201) throw new Error(`sku: ${JSON.stringify(sku.body)}`);
  for (const [i, id] of warehouseIds.entries()) {
    const wh = await client.post('/api/warehouses', { warehouse_id: id, name: `Warehouse ${i}`, latitude: 40 + i, longitude: -74 - i });
    if (wh.status !== 201) throw new Error(`warehouse: ${JSON.stringify(wh.body)}`);
  }
  return { skuId, warehouseIds };
};
