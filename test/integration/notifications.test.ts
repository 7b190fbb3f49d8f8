import type { SQSEvent } from 'aws-lambda';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { evaluateLevelChange, listAlerts } from '../../functions/alerts/alerts';
import type { AlertEventDetail } from '../../functions/events/model';
import type { Role } from '../../functions/identity/roles';
import type { Resolver } from '../../functions/notifications/addresses';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import { notifyBatch, type Delivery, type Senders } from '../../functions/notifications/notify';
import { localSenders, webhookSender } from '../../functions/notifications/senders';
import { subscribe } from '../../functions/notifications/subscriptions';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { codeOf, contextFor, testDb } from '../support/domain';
import { sqsRecord, stockLevelChanged } from '../support/events';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

// The local runtime's mode (bin/local.ts sets it): outbox for email/SMS, http webhooks to loopback allowed.
process.env[LOCAL_MODE_ENV] = '1';

let t: TestApi;
const db = testDb();
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
  db.client.destroy();
});

/** A local webhook receiver on 127.0.0.1 that records every POST (raw body and headers) and answers `status()` (with `headers`). */
const startReceiver = async (status: () => number = () => 204, headers: Record<string, string> = {}) => {
  const received: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(status(), headers);
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/stock`;
  return { url, received, close: () => new Promise<void>((done) => server.close(() => done())) };
};

/** A TCP listener on 127.0.0.1 that only counts connections: whether anything reached this machine at all. */
const startListener = async () => {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
};

/** A caller of one tenant with its own subject: two clerks are two people (the test client signs one subject per role). */
const person = async (tenantId: string, role: Role, subject: string) => {
  const token = await t.issuer.sign({ tenantId, role, subject });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${t.api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { subscription_id: string; error?: { code: string } } };
  };
  return {
    subscribe: (target: string) => call('POST', '/api/alerts/subscribe', { scope: { all: true }, channel: 'email', target }),
    delete: (subscriptionId: string) => call('DELETE', `/api/alerts/subscriptions/${subscriptionId}`),
  };
};

/** A resolver answering from a table (tests have no DNS); an unknown name does not resolve. */
const resolverOf =
  (answers: Record<string, string[]>): Resolver =>
  async (host) => {
    const found = answers[host];
    if (!found) throw new Error(`ENOTFOUND ${host}`);
    return found;
  };

const verify = (secret: string, body: string, header: unknown): boolean =>
  header === `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

describe('subscriptions over HTTP', () => {
  test('subscribe per channel (a webhook gets its secret once), list without secrets (not to viewers), delete; another tenant sees and deletes nothing', async () => {
    const a = await t.client();
    await setupCatalog(a);
    const email = await a.post('/api/alerts/subscribe', { scope: { sku_id: 'sku-1' }, channel: 'email', target: 'ops@example.com' });
    expect(email.status).toBe(201);
    expect(email.body).toMatchObject({ scope: { sku_id: 'sku-1' }, channel: 'email', target: 'ops@example.com', min_severity: 'normal' });
    expect(email.body.secret).toBeUndefined();
    const sms = await a.post('/api/alerts/subscribe', { scope: { warehouse_id: 'wh-1' }, channel: 'sms', target: '+14155550123', min_severity: 'critical' });
    expect(sms.status).toBe(201);
    const hook = await a.post('/api/alerts/subscribe', { scope: { all: true }, channel: 'webhook', target: 'https://hooks.example.com/stock', min_severity: 'high' });
    expect(hook.status).toBe(201);
    expect(hook.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const listed = await a.get('/api/alerts/subscriptions?limit=2');
    expect(listed.status).toBe(200);
    expect(listed.body.subscriptions).toHaveLength(2);
    const rest = await a.get(`/api/alerts/subscriptions?cursor=${listed.body.next_cursor}`);
    const all = [...listed.body.subscriptions, ...rest.body.subscriptions];
    expect(all.map((s: { subscription_id: string }) => s.subscription_id)).toEqual([email.body.subscription_id, sms.body.subscription_id, hook.body.subscription_id]);
    expect(JSON.stringify(all)).not.toContain(hook.body.secret);
    // Another tenant: an empty list, and its delete of A's subscription is 404 (and deletes nothing).
    const b = await t.client();
    expect((await b.get('/api/alerts/subscriptions')).body.subscriptions).toEqual([]);
    expect((await b.delete(`/api/alerts/subscriptions/${email.body.subscription_id}`)).status).toBe(404);
    expect((await b.get(`/api/alerts/subscriptions?cursor=${listed.body.next_cursor}`)).status).toBe(400);
    // Delete works end to end through the local gateway (DELETE route), once.
    const gone = await a.delete(`/api/alerts/subscriptions/${email.body.subscription_id}`);
    expect(gone.status).toBe(200);
    expect(gone.body).toMatchObject({ subscription_id: email.body.subscription_id, channel: 'email' });
    expect((await a.delete(`/api/alerts/subscriptions/${email.body.subscription_id}`)).status).toBe(404);
    expect((await a.delete('/api/alerts/subscriptions/nope')).status).toBe(404);
    expect((await a.get('/api/alerts/subscriptions')).body.subscriptions).toHaveLength(2);
    // A viewer may not list subscriptions (their targets are addresses and phone numbers), subscribe or delete.
    const viewer = await t.client({ tenantId: a.tenantId, role: 'viewer' });
    expect((await viewer.get('/api/alerts/subscriptions')).status).toBe(403);
    const clerk = await t.client({ tenantId: a.tenantId, role: 'clerk' });
    expect((await clerk.get('/api/alerts/subscriptions')).status).toBe(200);
    expect((await viewer.post('/api/alerts/subscribe', { scope: { all: true }, channel: 'email', target: 'v@example.com' })).status).toBe(403);
    expect((await viewer.delete(`/api/alerts/subscriptions/${sms.body.subscription_id}`)).status).toBe(403);
  });

  test('bad input is 400 (or 404 for an unknown SKU or warehouse) and writes nothing', async () => {
    const a = await t.client();
    await setupCatalog(a);
    const ok = { scope: { all: true }, channel: 'webhook', target: 'https://hooks.example.com/x' };
    const cases: [unknown, number][] = [
      [{ ...ok, target: 'http://hooks.example.com/x' }, 400], // http, not loopback
      [{ ...ok, target: 'http://10.1.2.3/x' }, 400],
      [{ ...ok, target: 'ftp://hooks.example.com/x' }, 400],
      [{ ...ok, target: 'not a url' }, 400],
      [{ ...ok, channel: 'email', target: 'not-an-email' }, 400],
      [{ ...ok, channel: 'email', target: 'ops@example' }, 400],
      [{ ...ok, channel: 'sms', target: '555-0123' }, 400],
      [{ ...ok, channel: 'sms', target: '+0123456789' }, 400],
      [{ ...ok, channel: 'pager' }, 400],
      [{ ...ok, min_severity: 'urgent' }, 400],
      [{ ...ok, scope: { all: false } }, 400],
      [{ ...ok, scope: { sku_id: 'sku-1', warehouse_id: 'wh-1' } }, 400],
      [{ ...ok, scope: {} }, 400],
      [{ ...ok, extra: 1 }, 400],
      [{ ...ok, scope: { sku_id: 'nope' } }, 404],
      [{ ...ok, scope: { warehouse_id: 'nope' } }, 404],
    ];
    for (const [body, status] of cases) {
      const res = await a.post('/api/alerts/subscribe', body);
      expect({ body, status: res.status }).toEqual({ body, status });
    }
    // Outside local mode, plain http is refused even to loopback.
    process.env[LOCAL_MODE_ENV] = '0';
    try {
      expect((await a.post('/api/alerts/subscribe', { ...ok, target: 'http://127.0.0.1:9/x' })).status).toBe(400);
      expect((await a.post('/api/alerts/subscribe', { ...ok, target: 'https://localhost/x' })).status).toBe(400);
    } finally {
      process.env[LOCAL_MODE_ENV] = '1';
    }
    expect((await a.get('/api/alerts/subscriptions')).body.subscriptions).toEqual([]);
    // In local mode loopback http is accepted.
    expect((await a.post('/api/alerts/subscribe', { ...ok, target: 'http://127.0.0.1:9/x' })).status).toBe(201);
  });

  test('outside local mode a webhook to a loopback, unspecified, private, CGNAT, link-local, unique-local or mapped address is 400 and writes nothing', async () => {
    const a = await t.client();
    const targets = [
      'https://0.0.0.0/',
      'https://[::]/',
      'https://[::ffff:127.0.0.1]/',
      'https://localhost./',
      'https://10.0.0.1/',
      'https://192.168.1.1/',
      'https://[fd00::1]/',
      'https://100.64.0.1/',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fe80::1]/',
      'https://[64:ff9b::a9fe:a9fe]/',
    ];
    process.env[LOCAL_MODE_ENV] = '0';
    try {
      for (const target of targets) {
        const res = await a.post('/api/alerts/subscribe', { scope: { all: true }, channel: 'webhook', target });
        expect({ target, status: res.status, code: res.body.error?.code }).toEqual({ target, status: 400, code: 'VALIDATION_FAILED' });
        expect(res.body.error.details.fields).toEqual([{ in: 'body', path: 'target', message: expect.stringMatching(/^must point at a public host: /) }]);
      }
    } finally {
      process.env[LOCAL_MODE_ENV] = '1';
    }
    expect((await a.get('/api/alerts/subscriptions')).body.subscriptions).toEqual([]);
  });

  test('outside local mode a webhook host is judged by what it resolves to: a name of a private address is refused, a public one accepted', async () => {
    const ctx = contextFor();
    const resolve = resolverOf({ 'hooks.example.com': ['93.184.215.14'], 'intranet.example.com': ['93.184.215.14', '10.0.0.7'] });
    const hook = (target: string) => subscribe({ db, ctx, local: false, resolve }, { scope: { all: true }, channel: 'webhook', target, min_severity: 'normal' });
    expect(await codeOf(hook('https://intranet.example.com/x'))).toBe('VALIDATION_FAILED');
    expect(await codeOf(hook('https://unknown.example.com/x'))).toBe('VALIDATION_FAILED');
    await expect(hook('https://intranet.example.com/x')).rejects.toMatchObject({
      details: { fields: [{ path: 'target', message: 'must point at a public host: intranet.example.com resolves to a non-public address (a private (RFC 1918) address)' }] },
    });
    expect(await hook('https://hooks.example.com/x')).toMatchObject({ channel: 'webhook', target: 'https://hooks.example.com/x' });
  });

  test('a user deletes their own subscriptions; another user\'s is 403 unless a manager or admin deletes it', async () => {
    const admin = await t.client();
    const tenant = admin.tenantId;
    const [clerk, otherClerk, purchaser, manager, boss] = await Promise.all([
      person(tenant, 'clerk', 'clara'),
      person(tenant, 'clerk', 'colin'),
      person(tenant, 'purchaser', 'pat'),
      person(tenant, 'manager', 'mona'),
      person(tenant, 'admin', 'ada'),
    ]);
    const clarasOwn = (await clerk.subscribe('clara@example.com')).body.subscription_id;
    const adasOwn = (await boss.subscribe('ada@example.com')).body.subscription_id;
    const colinsOwn = (await otherClerk.subscribe('colin@example.com')).body.subscription_id;
    const listed = async () => (await admin.get('/api/alerts/subscriptions')).body.subscriptions.map((s: { subscription_id: string }) => s.subscription_id);
    expect(await listed()).toEqual([clarasOwn, adasOwn, colinsOwn]);

    // Clerks and purchasers may not delete anyone else's, an admin's included, and nothing is deleted.
    for (const [who, id] of [[otherClerk, clarasOwn], [clerk, adasOwn], [purchaser, adasOwn], [purchaser, clarasOwn]] as const) {
      const res = await who.delete(id);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    }
    expect(await listed()).toEqual([clarasOwn, adasOwn, colinsOwn]);
    // Their own, yes; another user's, a manager or an admin; an unknown id stays 404 for everyone.
    expect((await clerk.delete(clarasOwn)).status).toBe(200);
    expect((await manager.delete(adasOwn)).status).toBe(200);
    expect((await boss.delete(colinsOwn)).status).toBe(200);
    expect((await clerk.delete(clarasOwn)).status).toBe(404);
    expect((await purchaser.delete('nope')).status).toBe(404);
    expect(await listed()).toEqual([]);
  });
});

describe('the notification consumer domain function', () => {
  const recordingSenders = (fail: { webhook?: number } = {}) => {
    const sent: Delivery[] = [];
    let webhookFailures = fail.webhook ?? 0;
    const senders: Senders = {
      email: async (d) => void sent.push(d),
      sms: async (d) => void sent.push(d),
      webhook: async (d) => {
        if (webhookFailures > 0) {
          webhookFailures -= 1;
          throw new Error('receiver down');
        }
        sent.push(d);
      },
    };
    return { sent, senders };
  };

  const sqs = (events: { type: string; detail: AlertEventDetail }[]): SQSEvent => ({
    Records: events.map((e, i) => sqsRecord(`m-${i}`, { source: 'stockroom', 'detail-type': e.type, detail: e.detail })),
  });

  /** A tenant with an open alert (normal, then high, then critical) and the events its stream would give. */
  const setup = async () => {
    const ctx = contextFor();
    const tenant = ctx.caller.tenantId;
    // No catalog: the domain function needs none, and `all` scopes skip subscribe's SKU/warehouse check.
    // A real alert item to notify about: sku-1 x wh-1 down to 9 against a reorder point of 10.
    await evaluateLevelChange({ db, ctx }, stockLevelChanged(tenant, 1, 9));
    const [alert] = (await listAlerts({ db, ctx }, {})).alerts;
    const base: AlertEventDetail = {
      event_id: '',
      schema_version: 1,
      tenant_id: tenant,
      occurred_at: alert!.opened_at,
      alert_id: alert!.alert_id,
      sku_id: 'sku-1',
      warehouse_id: 'wh-1',
      severity: 'normal',
      status: 'open',
      available: 9,
      reorder_point: 10,
      safety_stock: 2,
      days_of_cover: null,
      opened_at: alert!.opened_at,
      version: 1,
    };
    const ev = (type: string, version: number, severity: AlertEventDetail['severity'], available: number) => ({
      type,
      detail: { ...base, event_id: `${type}:T#${tenant}#ALERT:${base.alert_id}:v${version}`, version, severity, available },
    });
    const events = [ev('AlertOpened', 1, 'normal', 9), ev('AlertUpdated', 2, 'high', 5), ev('AlertUpdated', 3, 'critical', 1)];
    return { ctx, tenant, events };
  };

  test('each matching subscription hears once per window; the same batch again, or reversed, sends nothing new', async () => {
    const { ctx, events } = await setup();
    const everyone = await subscribe({ db, ctx }, { scope: { all: true }, channel: 'email', target: 'all@example.com', min_severity: 'normal' });
    const critical = await subscribe({ db, ctx }, { scope: { all: true }, channel: 'sms', target: '+14155550123', min_severity: 'critical' });
    const hook = await subscribe({ db, ctx, local: true }, { scope: { all: true }, channel: 'webhook', target: 'https://hooks.example.com/x', min_severity: 'high' });
    const { sent, senders } = recordingSenders();
    expect(await notifyBatch({ db, senders }, sqs(events))).toEqual({ batchItemFailures: [] });
    // Most urgent first: the critical update reaches all three before the others are looked at.
    expect(sent.map((d) => [d.subscription.subscription_id, d.event_type, d.severity])).toEqual([
      [everyone.subscription_id, 'AlertUpdated', 'critical'],
      [critical.subscription_id, 'AlertUpdated', 'critical'],
      [hook.subscription_id, 'AlertUpdated', 'critical'],
    ]);
    // Redelivered, and reordered: nothing new.
    await notifyBatch({ db, senders }, sqs(events));
    await notifyBatch({ db, senders }, sqs([...events].reverse()));
    for (const e of events) await notifyBatch({ db, senders }, sqs([e]));
    expect(sent).toHaveLength(3);
    // The next window (a short throttle here) sends again, once.
    const later = events.map((e) => ({ ...e, detail: { ...e.detail, occurred_at: new Date(Date.parse(e.detail.opened_at) + 2_000).toISOString() } }));
    await notifyBatch({ db, senders, throttleSeconds: 1 }, sqs(later));
    await notifyBatch({ db, senders, throttleSeconds: 1 }, sqs(later));
    expect(sent).toHaveLength(6);
  });

  test('a failed send reports the message for retry, keeps the others sent, and the retry sends only what failed', async () => {
    const { ctx, events } = await setup();
    await subscribe({ db, ctx }, { scope: { all: true }, channel: 'email', target: 'b@example.com', min_severity: 'normal' });
    await subscribe({ db, ctx }, { scope: { all: true }, channel: 'webhook', target: 'https://hooks.example.com/y', min_severity: 'normal' });
    const { sent, senders } = recordingSenders({ webhook: 1 });
    const opened = sqs([events[0]!]);
    expect(await notifyBatch({ db, senders }, opened)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(sent.map((d) => d.subscription.channel)).toEqual(['email']);
    expect(await notifyBatch({ db, senders }, opened)).toEqual({ batchItemFailures: [] });
    expect(sent.map((d) => d.subscription.channel)).toEqual(['email', 'webhook']);
    expect(await notifyBatch({ db, senders }, opened)).toEqual({ batchItemFailures: [] });
    expect(sent).toHaveLength(2);
  });

  test('an event of an alert that has since resolved notifies nobody; an unreadable message is reported', async () => {
    const { ctx, tenant, events } = await setup();
    await subscribe({ db, ctx }, { scope: { all: true }, channel: 'email', target: 'a@example.com', min_severity: 'normal' });
    await evaluateLevelChange({ db, ctx }, stockLevelChanged(tenant, 2, 40));
    const { sent, senders } = recordingSenders();
    const batch = sqs(events);
    batch.Records.push({ ...batch.Records[0]!, messageId: 'junk', body: '{"not":"an event"}' });
    expect(await notifyBatch({ db, senders }, batch)).toEqual({ batchItemFailures: [{ itemIdentifier: 'junk' }] });
    expect(sent).toEqual([]);
  });

  test('the outbox shows a viewer redacted targets and a role with subscriptions:read the whole ones', async () => {
    const { ctx, tenant, events } = await setup();
    await subscribe({ db, ctx }, { scope: { all: true }, channel: 'email', target: 'jane.doe@example.com', min_severity: 'normal' });
    await subscribe({ db, ctx }, { scope: { all: true }, channel: 'sms', target: '+14155550123', min_severity: 'normal' });
    expect(await notifyBatch({ db, senders: localSenders(db) }, sqs([events[0]!]))).toEqual({ batchItemFailures: [] });
    const targetsSeenBy = async (role: Role) => {
      const res = await (await t.client({ tenantId: tenant, role })).get('/api/notifications');
      expect(res.status).toBe(200);
      return res.body.notifications.map((n: { channel: string; target: string }) => [n.channel, n.target]);
    };
    expect(await targetsSeenBy('viewer')).toEqual([
      ['email', 'j***@example.com'],
      ['sms', '+***0123'],
    ]);
    const whole = [
      ['email', 'jane.doe@example.com'],
      ['sms', '+14155550123'],
    ];
    expect(await targetsSeenBy('clerk')).toEqual(whole);
    expect(await targetsSeenBy('admin')).toEqual(whole);
  });

  test('a webhook whose name resolves to a private address at delivery time (DNS rebinding) is refused there, reaching nothing, and retried', async () => {
    const { ctx, events } = await setup();
    const listener = await startListener();
    try {
      const target = `https://hooks.example.com:${listener.port}/stock`;
      // At subscribe time the name answers a public address...
      const subscription = await subscribe(
        { db, ctx, local: false, resolve: resolverOf({ 'hooks.example.com': ['93.184.215.14'] }) },
        { scope: { all: true }, channel: 'webhook', target, min_severity: 'normal' },
      );
      // ...and at delivery time this machine, where the listener waits: the sender's own lookup refuses it.
      const rebound = webhookSender({ local: false, resolve: resolverOf({ 'hooks.example.com': ['127.0.0.1'] }) });
      const alert = events[0]!.detail;
      const delivery: Delivery = { delivery_id: 'd-1', event_type: 'AlertOpened', event_id: 'e-1', subscription, tenant_id: alert.tenant_id, notice_id: alert.alert_id, severity: alert.severity, payload: { alert }, subject: 's', text: 't' };
      await expect(rebound(delivery)).rejects.toMatchObject({ name: 'AddressRefused', message: expect.stringMatching(/hooks\.example\.com resolves to a non-public address \(a loopback address\)/) });
      expect(listener.connections()).toBe(0);
      const senders: Senders = { email: async () => undefined, sms: async () => undefined, webhook: rebound };
      const opened = sqs([events[0]!]);
      expect(await notifyBatch({ db, senders }, opened)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
      expect(listener.connections()).toBe(0);
      // The claim was released: a later attempt (here with a resolver that still rebinds) tries again, and still reaches nothing.
      expect(await notifyBatch({ db, senders }, opened)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
      expect(listener.connections()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  test('a webhook that answers a redirect is a failed delivery, and the redirect is not followed', async () => {
    const { ctx, events } = await setup();
    const elsewhere = await startReceiver();
    const redirecting = await startReceiver(() => 302, { location: elsewhere.url });
    try {
      await subscribe({ db, ctx, local: true }, { scope: { all: true }, channel: 'webhook', target: redirecting.url, min_severity: 'normal' });
      const senders: Senders = { email: async () => undefined, sms: async () => undefined, webhook: webhookSender({ local: true }) };
      expect(await notifyBatch({ db, senders }, sqs([events[0]!]))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
      expect(redirecting.received).toHaveLength(1);
      expect(elsewhere.received).toHaveLength(0);
    } finally {
      await redirecting.close();
      await elsewhere.close();
    }
  });
});

describe('end to end under the local runtime: sale -> alert -> AlertOpened -> queue -> outbox and webhook', () => {
  let c: Client;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    c = await t.client();
    receiver = await startReceiver();
    pipeline = await startLocalPipeline(c.tenantId);
  });
  afterAll(async () => {
    await pipeline.stop();
    await receiver.close();
  });

  /** Alert evaluation writes the alert, whose stream record is the AlertOpened/Updated event: two rounds. */
  const settle = () => pipeline.settle(2);

  test('one alert, one outbox email, one signed webhook POST; twenty more sales inside the window add none; a purchase order resolves it', async () => {
    await setupCatalog(c);
    await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 40 });
    expect((await c.put('/api/thresholds', { sku_id: 'sku-1', warehouse_id: 'wh-1', reorder_point: 30, safety_stock: 5 })).status).toBe(200);
    const email = await c.post('/api/alerts/subscribe', { scope: { sku_id: 'sku-1' }, channel: 'email', target: 'buyer@example.com' });
    expect(email.status).toBe(201);
    const hook = await c.post('/api/alerts/subscribe', { scope: { warehouse_id: 'wh-1' }, channel: 'webhook', target: receiver.url });
    expect(hook.status).toBe(201);
    // A subscriber that only wants critical alerts hears nothing of this one.
    expect((await c.post('/api/alerts/subscribe', { scope: { all: true }, channel: 'sms', target: '+14155550123', min_severity: 'critical' })).status).toBe(201);
    await settle();
    expect((await c.get('/api/notifications')).body.notifications).toEqual([]);

    expect((await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 12 })).status).toBe(200);
    await settle();
    const alerts = (await c.get('/api/alerts')).body.alerts;
    expect(alerts).toHaveLength(1);
    const outbox = (await c.get('/api/notifications')).body.notifications;
    expect(outbox).toEqual([
      expect.objectContaining({ channel: 'email', target: 'buyer@example.com', alert_id: alerts[0].alert_id, severity: 'normal', event_type: 'AlertOpened', subscription_id: email.body.subscription_id }),
    ]);
    expect(outbox[0].created_at).toEqual(expect.any(String));
    expect(receiver.received).toHaveLength(1);
    const post = receiver.received[0]!;
    expect(verify(hook.body.secret, post.body, post.headers['x-stockroom-signature'])).toBe(true);
    expect(verify('wrong', post.body, post.headers['x-stockroom-signature'])).toBe(false);
    expect(post.headers['x-stockroom-timestamp']).toBe(JSON.parse(post.body).timestamp);
    expect(JSON.parse(post.body)).toMatchObject({ type: 'AlertOpened', subscription_id: hook.body.subscription_id, alert: { alert_id: alerts[0].alert_id, available: 28 } });

    for (let i = 0; i < 20; i++) expect((await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 1 })).status).toBe(200);
    await settle();
    const after = (await c.get('/api/alerts')).body.alerts;
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ alert_id: alerts[0].alert_id, available: 8, severity: 'high' });
    expect((await c.get('/api/notifications')).body.notifications).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    expect(Object.values(pipeline.consumers.queues).flatMap((q) => q.deadLetters)).toEqual([]);
    expect(pipeline.consumers.queues.notifyAlerts!.stats.deleted).toBeGreaterThan(1);

    // Replenish: a purchase order for 40. With the default basis (available + incoming) the alert
    // resolves once the order is submitted; receiving the goods keeps it resolved and opens nothing.
    expect((await c.post('/api/suppliers', { supplier_id: 'sup-1', name: 'Supplier', lead_time_days: 7, currency: 'USD' })).status).toBe(201);
    const po = await c.post('/api/purchase-orders', { purchase_order_id: 'po-1', supplier_id: 'sup-1', warehouse_id: 'wh-1', lines: [{ sku_id: 'sku-1', quantity: 40, unit_cost: '2.50' }] });
    expect(po.status).toBe(201);
    expect((await c.post('/api/purchase-orders/po-1/submit')).status).toBe(200);
    await settle();
    expect((await c.get('/api/alerts')).body.alerts).toEqual([]);
    expect((await c.post('/api/purchase-orders/po-1/receive', { lines: [{ sku_id: 'sku-1', quantity: 40 }] })).body.status).toBe('received');
    await settle();
    expect((await c.get('/api/alerts')).body.alerts).toEqual([]);
    const resolved = (await c.get('/api/alerts?status=resolved')).body.alerts;
    expect(resolved).toEqual([expect.objectContaining({ alert_id: alerts[0].alert_id, status: 'resolved' })]);
    expect((await c.get('/api/inventory/sku/sku-1')).body.totals).toMatchObject({ on_hand: 48, available: 48, incoming: 0 });
    // Resolving notifies nobody: still the one email and the one webhook POST.
    expect((await c.get('/api/notifications')).body.notifications).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
  });
});
