import { dbFromEnv, TENANT_CLIENTS_MAX, TENANT_TABLE_ROLE_ENV, tenantClientCount, tenantDb } from '../../functions/platform/db';
import { inTenantScope } from '../../functions/platform/tenant-guard';

/**
 * How a function picks its table client (functions/platform/db.ts): in AWS (TENANT_TABLE_ROLE_ARN
 * set) a request's work gets its tenant's session, one per tenant per container and a bounded
 * number of them; the system, and everything locally, the one client of the function's own role.
 * No call is sent here: the clients resolve their credentials (STS) only when they first call.
 */
const ROLE = 'arn:aws:iam::000000000000:role/tenant-table-write';
const restore = process.env[TENANT_TABLE_ROLE_ENV];
afterEach(() => {
  if (restore === undefined) delete process.env[TENANT_TABLE_ROLE_ENV];
  else process.env[TENANT_TABLE_ROLE_ENV] = restore;
});

test('without TENANT_TABLE_ROLE_ARN (locally, and the system in AWS) a tenant scope gets the shared client', async () => {
  delete process.env[TENANT_TABLE_ROLE_ENV];
  const shared = dbFromEnv();
  expect(await inTenantScope('t-a', async () => dbFromEnv())).toBe(shared);
});

test("with it, a tenant's work gets the tenant's own client, the same one on every request, and the system still the shared one", async () => {
  process.env[TENANT_TABLE_ROLE_ENV] = ROLE;
  const shared = dbFromEnv();
  const a = await inTenantScope('t-a', async () => dbFromEnv());
  const b = await inTenantScope('t-b', async () => dbFromEnv());
  expect(a).not.toBe(shared);
  expect(b).not.toBe(a);
  expect(await inTenantScope('t-a', async () => dbFromEnv())).toBe(a);
  expect(dbFromEnv()).toBe(shared);
});

test('the tenant clients are bounded: past the bound the least recently used is dropped, a recently used one kept', () => {
  const built = Array.from({ length: TENANT_CLIENTS_MAX }, (_, i) => tenantDb(ROLE, `lru-${i}`));
  const first = built[0];
  // lru-0 used again: lru-1 is now the least recently used.
  expect(tenantDb(ROLE, 'lru-0')).toBe(first);
  const second = tenantDb(ROLE, 'lru-1');
  tenantDb(ROLE, 'lru-1');
  tenantDb(ROLE, 'lru-new');
  expect(tenantClientCount()).toBe(TENANT_CLIENTS_MAX);
  expect(tenantDb(ROLE, 'lru-0')).toBe(first);
  expect(tenantDb(ROLE, 'lru-1')).toBe(second);
  // lru-2 was the least recently used when lru-new came in: it was dropped, so it is built anew.
  expect(tenantDb(ROLE, 'lru-2')).not.toBe(built[2]);
  expect(tenantDb(ROLE, `lru-${TENANT_CLIENTS_MAX - 1}`)).toBe(built[TENANT_CLIENTS_MAX - 1]);
  expect(tenantClientCount()).toBe(TENANT_CLIENTS_MAX);
});
