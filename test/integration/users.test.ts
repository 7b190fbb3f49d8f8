import type { UserDirectory } from '../../functions/identity/directory';
import { createUser, patchUser } from '../../functions/identity/users';
import { dbFromEnv } from '../../functions/platform/db';
import { AppError } from '../../functions/platform/errors';
import { USER_STATUS_TTL_ENV } from '../../functions/platform/user-status';
import { newTenantId, ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';

/**
 * The users API (issue 12): a tenant's admins invite, change and remove its people; managers read them.
 * Every status read goes to the directory here (TTL 0), so a change made by one request is what the next
 * one sees (revocation.test.ts proves the cache's bound).
 */
process.env[USER_STATUS_TTL_ENV] = '0';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

/** A tenant with warehouses wh-1 and wh-2 and its first admin. */
const tenant = async (): Promise<Client> => {
  const admin = await t.client({ role: 'admin' });
  await setupCatalog(admin, { warehouses: ['wh-1', 'wh-2'] });
  return admin;
};

/** A client acting as an existing user of the directory (their token names their id). */
const as = (tenantId: string, user: { user_id: string; role: string; email: string; warehouse_ids: string[] | null }) =>
  t.client({ tenantId, subject: user.user_id, role: user.role as 'admin', email: user.email, ...(user.warehouse_ids ? { warehouseIds: user.warehouse_ids } : {}) });

const invite = (admin: Client, body: Record<string, unknown>) => admin.post('/api/users', { name: 'Someone', role: 'clerk', ...body });

describe('managing users', () => {
  test('an admin creates a user: 201 with the record (address lower-cased, no scope: every warehouse), readable by id', async () => {
    const admin = await tenant();
    const created = ok(await invite(admin, { email: 'Ana.Clerk@Example.com', name: 'Ana', role: 'clerk', warehouse_ids: ['wh-1'] }), 201);
    expect(created).toEqual({
      user_id: expect.stringMatching(/^[0-9A-Z]{26}$/),
      email: 'ana.clerk@example.com',
      name: 'Ana',
      role: 'clerk',
      warehouse_ids: ['wh-1'],
      disabled: false,
      version: 1,
      created_at: expect.any(String),
      updated_at: created.created_at,
    });
    expect(ok(await admin.get(`/api/users/${created.user_id}`))).toEqual(created);
    const everywhere = ok(await invite(admin, { email: 'bo@example.com', role: 'viewer' }), 201);
    expect(everywhere.warehouse_ids).toBeNull();
  });

  test('PATCH changes name, role and scope (null: every warehouse) and bumps the version; the user acts with the new role at once', async () => {
    const admin = await tenant();
    const user = ok(await invite(admin, { email: 'cy@example.com', role: 'clerk', warehouse_ids: ['wh-1'] }), 201);
    const clerk = await as(admin.tenantId, user);
    ok(await clerk.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1 }));
    const changed = ok(await admin.patch(`/api/users/${user.user_id}`, { name: 'Cy', role: 'viewer', warehouse_ids: null }));
    expect(changed).toMatchObject({ name: 'Cy', role: 'viewer', warehouse_ids: null, version: 2, disabled: false });
    // The token still says clerk; the directory says viewer.
    const refused = await clerk.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1 });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain("role 'viewer'");
  });

  test('lists page with a cursor and filter by role and disabled; a tampered cursor is 400', async () => {
    const admin = await tenant();
    for (const [i, role] of ['clerk', 'clerk', 'viewer'].entries()) ok(await invite(admin, { email: `u${i}@example.com`, role }), 201);
    const off = ok(await invite(admin, { email: 'off@example.com', role: 'clerk' }), 201);
    ok(await admin.patch(`/api/users/${off.user_id}`, { disabled: true }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { users: { email: string }[]; next_cursor: string | null } = ok(await admin.get(`/api/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.users.map((u) => u.email));
      cursor = page.next_cursor;
    } while (cursor);
    // The test admin is a user too (the test issuer registered them).
    expect(seen).toHaveLength(5);
    expect(seen).toEqual(expect.arrayContaining(['u0@example.com', 'u1@example.com', 'u2@example.com', 'off@example.com']));
    const clerks = ok(await admin.get('/api/users?role=clerk')).users.map((u: { email: string }) => u.email).sort();
    expect(clerks).toEqual(['off@example.com', 'u0@example.com', 'u1@example.com']);
    expect(ok(await admin.get('/api/users?disabled=true')).users.map((u: { email: string }) => u.email)).toEqual(['off@example.com']);
    expect(ok(await admin.get('/api/users?role=clerk&disabled=false')).users).toHaveLength(2);
    const first = ok(await admin.get('/api/users?limit=1'));
    const tampered = Buffer.from(JSON.stringify({ k: { pk: 'T#other#USER', sk: 'x' }, q: 'nope' })).toString('base64url');
    for (const bad of [tampered, 'not-a-cursor', `${first.next_cursor}x`]) {
      const res = await admin.get(`/api/users?cursor=${bad}`);
      expect({ bad, status: res.status, code: res.body.error?.code }).toEqual({ bad, status: 400, code: 'VALIDATION_FAILED' });
    }
    // A cursor of the role filter does not continue the unfiltered list.
    const filtered = ok(await admin.get('/api/users?role=clerk&limit=1'));
    expect((await admin.get(`/api/users?cursor=${filtered.next_cursor}`)).status).toBe(400);
  });

  test('DELETE removes the user (then 404) and frees the address for a new user', async () => {
    const admin = await tenant();
    const user = ok(await invite(admin, { email: 'dee@example.com' }), 201);
    expect(ok(await admin.delete(`/api/users/${user.user_id}`))).toMatchObject({ user_id: user.user_id, email: 'dee@example.com' });
    expect((await admin.get(`/api/users/${user.user_id}`)).status).toBe(404);
    expect((await admin.delete(`/api/users/${user.user_id}`)).status).toBe(404);
    expect((await admin.patch(`/api/users/${user.user_id}`, { name: 'x' })).status).toBe(404);
    const again = ok(await invite(admin, { email: 'dee@example.com' }), 201);
    expect(again.user_id).not.toBe(user.user_id);
  });

  test('a create replayed with its Idempotency-Key answers the same user and makes no second one', async () => {
    const admin = await tenant();
    const headers = { 'idempotency-key': 'invite-eve-1' };
    const first = ok(await admin.post('/api/users', { email: 'eve@example.com', name: 'Eve', role: 'clerk' }, headers), 201);
    const replay = ok(await admin.post('/api/users', { email: 'eve@example.com', name: 'Eve', role: 'clerk' }, headers), 201);
    expect(replay).toEqual(first);
    expect(ok(await admin.get('/api/users?role=clerk')).users).toHaveLength(1);
    expect((await admin.post('/api/users', { email: 'eve2@example.com', name: 'Eve', role: 'clerk' }, headers)).status).toBe(422);
  });
});

describe('e-mail addresses are unique within a tenant', () => {
  test('the same address again, in any case, is 409 and writes nothing; another tenant may use it', async () => {
    const admin = await tenant();
    ok(await invite(admin, { email: 'fay@example.com' }), 201);
    const again = await invite(admin, { email: 'FAY@example.com', role: 'viewer' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'ALREADY_EXISTS', details: { email: 'fay@example.com' } });
    expect(ok(await admin.get('/api/users?role=viewer')).users).toEqual([]);
    const other = await tenant();
    ok(await invite(other, { email: 'fay@example.com' }), 201);
  });

  test('concurrent creates of one address: exactly one 201, the others 409, one user', async () => {
    const admin = await tenant();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => invite(admin, { email: 'gus@example.com', name: `Gus ${i}` })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    expect(ok(await admin.get('/api/users?role=clerk')).users).toHaveLength(1);
  });
});

describe('bad input is 400 (404 for unknown warehouses) and writes nothing', () => {
  let admin: Client;
  beforeAll(async () => {
    admin = await tenant();
  });

  test.each([
    ['no body', undefined, ''],
    ['wrong types', { email: 42, name: ['x'], role: true }, 'email'],
    ['an unknown field', { email: 'a@example.com', name: 'A', role: 'clerk', is_admin: true }, ''],
    ['a bad e-mail address', { email: 'not-an-address', name: 'A', role: 'clerk' }, 'email'],
    ['an unknown role', { email: 'a@example.com', name: 'A', role: 'owner' }, 'role'],
    ['a name too long', { email: 'a@example.com', name: 'x'.repeat(129), role: 'clerk' }, 'name'],
    ['an empty name', { email: 'a@example.com', name: '   ', role: 'clerk' }, 'name'],
    ['a control character in the name', { email: 'a@example.com', name: 'A\u0000B', role: 'clerk' }, 'name'],
    ['an empty scope', { email: 'a@example.com', name: 'A', role: 'clerk', warehouse_ids: [] }, 'warehouse_ids'],
    ['a repeated warehouse', { email: 'a@example.com', name: 'A', role: 'clerk', warehouse_ids: ['wh-1', 'wh-1'] }, 'warehouse_ids'],
    ['a warehouse id no key can hold', { email: 'a@example.com', name: 'A', role: 'clerk', warehouse_ids: ['wh#1'] }, 'warehouse_ids.0'],
    ['a null scope on create', { email: 'a@example.com', name: 'A', role: 'clerk', warehouse_ids: null }, 'warehouse_ids'],
  ])('POST with %s: 400', async (_case, body, path) => {
    const res = await admin.post('/api/users', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    if (path) expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(path);
    expect(ok(await admin.get('/api/users')).users).toHaveLength(1);
  });

  test('an unknown warehouse (or another tenant\'s) is 404 and writes nothing', async () => {
    const other = await tenant();
    ok(await other.post('/api/warehouses', { warehouse_id: 'wh-other', name: 'Other', latitude: 1, longitude: 1 }), 201);
    for (const id of ['wh-nowhere', 'wh-other']) {
      const res = await invite(admin, { email: 'h@example.com', warehouse_ids: ['wh-1', id] });
      expect({ status: res.status, details: res.body.error.details }).toEqual({ status: 404, details: { warehouse_id: id } });
    }
    expect(ok(await admin.get('/api/users')).users).toHaveLength(1);
  });

  test('PATCH: an empty body, unknown fields, wrong types, an e-mail change, an unknown warehouse, a bad id', async () => {
    const user = ok(await invite(admin, { email: 'ida@example.com' }), 201);
    const path = `/api/users/${user.user_id}`;
    for (const body of [{}, { nickname: 'x' }, { disabled: 'yes' }, { role: 'root' }, { email: 'new@example.com' }, { warehouse_ids: [] }]) {
      const res = await admin.patch(path, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    expect((await admin.patch(path, { warehouse_ids: ['wh-nowhere'] })).status).toBe(404);
    expect((await admin.patch('/api/users/bad%23id', { name: 'x' })).status).toBe(400);
    expect((await admin.get('/api/users/bad%23id')).status).toBe(400);
    expect(ok(await admin.get(path))).toEqual(user);
    for (const query of ['role=owner', 'disabled=maybe', 'limit=0', 'limit=201', 'colour=red']) {
      expect({ query, status: (await admin.get(`/api/users?${query}`)).status }).toEqual({ query, status: 400 });
    }
    ok(await admin.delete(path));
  });
});

describe('escalation and tenancy', () => {
  test('a manager reads users but cannot create, change or delete any (an admin least of all): 403', async () => {
    const admin = await tenant();
    const clerk = ok(await invite(admin, { email: 'jo@example.com' }), 201);
    const manager = await t.client({ tenantId: admin.tenantId, role: 'manager' });
    expect(ok(await manager.get('/api/users')).users.length).toBeGreaterThanOrEqual(2);
    expect(ok(await manager.get(`/api/users/${clerk.user_id}`)).email).toBe('jo@example.com');
    for (const res of [
      await invite(manager, { email: 'boss@example.com', role: 'admin' }),
      await invite(manager, { email: 'helper@example.com', role: 'clerk' }),
      await manager.patch(`/api/users/${clerk.user_id}`, { role: 'admin' }),
      await manager.delete(`/api/users/${clerk.user_id}`),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    expect(ok(await admin.get(`/api/users/${clerk.user_id}`))).toEqual(clerk);
    for (const role of ['clerk', 'viewer', 'analyst', 'integration', 'purchaser'] as const) {
      const reader = await t.client({ tenantId: admin.tenantId, role });
      expect({ role, status: (await reader.get('/api/users')).status }).toEqual({ role, status: 403 });
    }
  });

  test('nobody gives a role with a permission they lack: the rule itself, for a caller below admin', async () => {
    const admin = await tenant();
    const ctx = { caller: { kind: 'user' as const, tenantId: admin.tenantId, subject: 'm', role: 'manager' as const }, requestId: 'r', now: () => new Date() };
    const attempt = createUser({ db: dbFromEnv(), ctx }, { email: 'up@example.com', name: 'Up', role: 'admin' });
    await expect(attempt).rejects.toThrow(AppError);
    await expect(attempt).rejects.toMatchObject({ code: 'FORBIDDEN', details: { role: 'admin', missing_permissions: expect.arrayContaining(['users:write']) } });
    expect(ok(await admin.get('/api/users?role=admin')).users).toHaveLength(1);
  });

  test("an admin cannot read or touch another tenant's users: 404, and the user is unchanged", async () => {
    const a = await tenant();
    const b = await tenant();
    const user = ok(await invite(a, { email: 'kim@example.com', role: 'clerk' }), 201);
    for (const res of [
      await b.get(`/api/users/${user.user_id}`),
      await b.patch(`/api/users/${user.user_id}`, { role: 'viewer', disabled: true }),
      await b.delete(`/api/users/${user.user_id}`),
    ]) {
      expect(res.status).toBe(404);
    }
    expect(ok(await b.get('/api/users')).users.map((u: { email: string }) => u.email)).not.toContain('kim@example.com');
    expect(ok(await a.get(`/api/users/${user.user_id}`))).toEqual(user);
  });
});

describe("the tenant's last enabled admin stays", () => {
  test('the only admin cannot demote, disable or delete themselves: 409; with a second admin they can', async () => {
    const admin = await tenant();
    const me = ok(await admin.get('/api/users?role=admin')).users[0];
    for (const res of [
      await admin.patch(`/api/users/${me.user_id}`, { role: 'manager' }),
      await admin.patch(`/api/users/${me.user_id}`, { disabled: true }),
      await admin.delete(`/api/users/${me.user_id}`),
    ]) {
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('last enabled admin') });
    }
    expect(ok(await admin.get(`/api/users/${me.user_id}`))).toEqual(me);
    // A disabled admin does not count: promoting one to admin while disabled leaves the last enabled one protected.
    const dormant = ok(await invite(admin, { email: 'dormant@example.com', role: 'admin' }), 201);
    ok(await admin.patch(`/api/users/${dormant.user_id}`, { disabled: true }));
    expect((await admin.patch(`/api/users/${me.user_id}`, { role: 'viewer' })).status).toBe(409);
    ok(await admin.patch(`/api/users/${dormant.user_id}`, { disabled: false }));
    expect(ok(await admin.patch(`/api/users/${me.user_id}`, { role: 'manager' })).role).toBe('manager');
    // Now the other one is the last: my token is a manager's, and they cannot be removed by anyone.
    expect((await admin.delete(`/api/users/${dormant.user_id}`)).status).toBe(403);
    const other = await as(admin.tenantId, dormant);
    expect((await other.delete(`/api/users/${dormant.user_id}`)).status).toBe(409);
  });

  test('two admins demoting each other at once: exactly one succeeds, the other is 409, one admin is left', async () => {
    for (let round = 0; round < 3; round++) {
      const first = await tenant();
      const one = ok(await first.get('/api/users?role=admin')).users[0];
      const two = ok(await invite(first, { email: `second-${round}@example.com`, role: 'admin' }), 201);
      const second = await as(first.tenantId, two);
      const [a, b] = await Promise.all([
        first.patch(`/api/users/${two.user_id}`, { role: 'viewer' }),
        second.patch(`/api/users/${one.user_id}`, { role: 'viewer' }),
      ]);
      // The loser is 409 (its change raced the winner's to the counter) or, if the winner's demotion landed before
      // the loser's own request was authorised, 403 (a viewer by then): either way exactly one change applied.
      const statuses = [a.status, b.status].sort();
      expect(statuses[0]).toBe(200);
      expect([403, 409]).toContain(statuses[1]);
      const admins = ok(await (a.status === 200 ? first : second).get('/api/users?role=admin')).users;
      expect(admins).toHaveLength(1);
    }
  });

  test('two admins deleting each other at once: exactly one succeeds', async () => {
    const first = await tenant();
    const one = ok(await first.get('/api/users?role=admin')).users[0];
    const two = ok(await invite(first, { email: 'deleter@example.com', role: 'admin' }), 201);
    const second = await as(first.tenantId, two);
    const [a, b] = await Promise.all([first.delete(`/api/users/${two.user_id}`), second.delete(`/api/users/${one.user_id}`)]);
    // The loser: 409 (the counter), or 401 if its own deletion landed before its request was authorised.
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([401, 409]).toContain(statuses[1]);
    const survivor = a.status === 200 ? first : second;
    expect(ok(await survivor.get('/api/users?role=admin')).users).toHaveLength(1);
  });
});

test('a token whose subject no user id can be (a space in it) is 401 before any lookup', async () => {
  const token = await t.issuer.sign({ tenantId: newTenantId(), role: 'admin', subject: 'has space' });
  const res = await t.request('/api/users', { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(401);
});

describe('the sign-in side (Cognito in AWS) follows the record', () => {
  /** Stands in for the user pool (a third party): records what it is asked, and may fail. */
  const recordingDirectory = (options: { failChange?: boolean } = {}) => {
    const calls: string[] = [];
    let next = 0;
    const directory: UserDirectory = {
      create: async (user) => {
        calls.push(`create ${user.email}`);
        return `sub-${++next}-${Date.now()}`;
      },
      change: async (userId, before, after) => {
        calls.push(`change ${userId} ${before.role}->${after.role} disabled=${after.disabled}`);
        if (options.failChange) throw new Error('pool unreachable');
      },
      remove: async (userId) => {
        calls.push(`remove ${userId}`);
      },
    };
    return { directory, calls };
  };
  const adminCtx = (tenantId: string, subject: string) => ({ caller: { kind: 'user' as const, tenantId, subject, role: 'admin' as const }, requestId: 'r', now: () => new Date() });

  test("the new user's id is the identity's; a record that cannot be written (address taken) removes the identity again", async () => {
    const admin = await tenant();
    const { directory, calls } = recordingDirectory();
    const deps = { db: dbFromEnv(), ctx: adminCtx(admin.tenantId, 'x'), directory };
    const made = await createUser(deps, { email: 'lee@example.com', name: 'Lee', role: 'clerk' });
    expect(made.user_id).toMatch(/^sub-1-/);
    expect(ok(await admin.get(`/api/users/${made.user_id}`)).email).toBe('lee@example.com');
    await expect(createUser(deps, { email: 'lee@example.com', name: 'Lee again', role: 'clerk' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(calls).toEqual(['create lee@example.com', 'create lee@example.com', expect.stringMatching(/^remove sub-2-/)]);
  });

  test('a change the pool does not take is 503 (repeat it), and the record, which the status check reads, already applies', async () => {
    const admin = await tenant();
    const user = ok(await invite(admin, { email: 'max@example.com' }), 201);
    const { directory, calls } = recordingDirectory({ failChange: true });
    const attempt = patchUser({ db: dbFromEnv(), ctx: adminCtx(admin.tenantId, 'x'), directory }, user.user_id, { disabled: true });
    await expect(attempt).rejects.toMatchObject({ code: 'UNAVAILABLE', status: 503 });
    expect(calls).toEqual([`change ${user.user_id} clerk->clerk disabled=true`]);
    expect(ok(await admin.get(`/api/users/${user.user_id}`)).disabled).toBe(true);
  });
});
