import { createHmac } from 'node:crypto';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addressProblem, guardedLookup, resolvedHostProblem, type Resolver } from '../../functions/notifications/addresses';
import { redactTarget } from '../../functions/notifications/outbox';
import { eventsFromRecord, EventMappingError } from '../../functions/events/mapper';
import type { AlertEventDetail } from '../../functions/events/model';
import { byUrgency, messageOf, windowStart } from '../../functions/notifications/notify';
import { signature, webhookBody } from '../../functions/notifications/senders';
import { severityReaches } from '../../functions/notifications/subscriptions';
import { isLoopbackHost, targetProblem, webhookUrlProblem } from '../../functions/notifications/targets';
import { streamRecord, type Item } from '../support/events';

const alertItem = (over: Item = {}): Item => ({
  pk: 'T#acme#ALERT',
  sk: 'A1',
  gsi1pk: 'T#acme#ALERTS#ACTIVE',
  gsi1sk: '2#~#A1',
  entity: 'alert',
  tenant_id: 'acme',
  alert_id: 'A1',
  sku_id: 'sku-1',
  warehouse_id: 'wh-1',
  status: 'open',
  severity: 'normal',
  on_hand: 28,
  available: 28,
  incoming: 0,
  reorder_point: 30,
  safety_stock: 5,
  days_of_cover: null,
  level_version: 3,
  opened_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  version: 1,
  ...over,
});

describe('alert events from the stream', () => {
  test('an alert INSERT is AlertOpened with the alert as it stands, and a deterministic id from its version', () => {
    const events = eventsFromRecord(streamRecord('INSERT', alertItem()));
    expect(events).toEqual([
      {
        source: 'stockroom',
        'detail-type': 'AlertOpened',
        detail: {
          event_id: 'AlertOpened:T#acme#ALERT:A1:v1',
          schema_version: 1,
          tenant_id: 'acme',
          occurred_at: '2026-01-01T00:00:00.000Z',
          alert_id: 'A1',
          sku_id: 'sku-1',
          warehouse_id: 'wh-1',
          severity: 'normal',
          status: 'open',
          available: 28,
          reorder_point: 30,
          safety_stock: 5,
          days_of_cover: null,
          opened_at: '2026-01-01T00:00:00.000Z',
          version: 1,
        },
      },
    ]);
    // The same record again: the same event, id included.
    expect(eventsFromRecord(streamRecord('INSERT', alertItem()))).toEqual(events);
  });

  test('a MODIFY that changes severity or available is AlertUpdated; one that changes neither (acknowledge) is nothing', () => {
    const before = alertItem();
    const dropped = eventsFromRecord(streamRecord('MODIFY', alertItem({ available: 27, version: 2, updated_at: '2026-01-01T00:01:00.000Z' }), before));
    expect(dropped.map((e) => [e['detail-type'], e.detail.event_id])).toEqual([['AlertUpdated', 'AlertUpdated:T#acme#ALERT:A1:v2']]);
    expect(dropped[0]!.detail).toMatchObject({ available: 27, occurred_at: '2026-01-01T00:01:00.000Z', version: 2 });
    const worse = eventsFromRecord(streamRecord('MODIFY', alertItem({ severity: 'high', version: 3 }), before));
    expect(worse.map((e) => e['detail-type'])).toEqual(['AlertUpdated']);
    const acknowledged = alertItem({ status: 'acknowledged', acknowledged_at: '2026-01-01T00:02:00.000Z', version: 2 });
    expect(eventsFromRecord(streamRecord('MODIFY', acknowledged, before))).toEqual([]);
  });

  test('a MODIFY to resolved is AlertResolved, once; a resolved alert written again is nothing', () => {
    const resolved = alertItem({ status: 'resolved', available: 40, resolved_at: '2026-01-02T00:00:00.000Z', version: 4 });
    const events = eventsFromRecord(streamRecord('MODIFY', resolved, alertItem({ status: 'acknowledged', version: 3 })));
    expect(events.map((e) => [e['detail-type'], (e.detail as AlertEventDetail).status, e.detail.event_id])).toEqual([['AlertResolved', 'resolved', 'AlertResolved:T#acme#ALERT:A1:v4']]);
    expect(eventsFromRecord(streamRecord('MODIFY', { ...resolved, version: 5 }, resolved))).toEqual([]);
  });

  test('the alert state item, REMOVE and TTL-style records map to nothing; a malformed alert image throws', () => {
    expect(eventsFromRecord(streamRecord('INSERT', { pk: 'T#acme#ALERT#sku-1#wh-1', sk: 'STATE', entity: 'alert_state', last_version: 3 }))).toEqual([]);
    expect(eventsFromRecord(streamRecord('REMOVE', undefined, alertItem()))).toEqual([]);
    expect(() => eventsFromRecord(streamRecord('INSERT', alertItem({ severity: 'urgent' })))).toThrow(EventMappingError);
  });
});

describe('subscription targets', () => {
  test('email and E.164 phone numbers', () => {
    expect(targetProblem('email', 'ops@example.com', false)).toBeUndefined();
    for (const bad of ['ops', 'ops@', '@example.com', 'ops@example', 'a b@example.com', `${'x'.repeat(250)}@example.com`]) {
      expect({ bad, problem: targetProblem('email', bad, false) }).toEqual({ bad, problem: expect.any(String) });
    }
    expect(targetProblem('sms', '+14155550123', false)).toBeUndefined();
    for (const bad of ['4155550123', '+0155550123', '+1 415 555 0123', '+1234567890123456', 'ops@example.com']) {
      expect({ bad, problem: targetProblem('sms', bad, false) }).toEqual({ bad, problem: expect.any(String) });
    }
  });

  test('webhooks: https anywhere public; http only to loopback and only in local mode', () => {
    expect(webhookUrlProblem('https://hooks.example.com/stock', false)).toBeUndefined();
    expect(webhookUrlProblem('https://hooks.example.com/stock', true)).toBeUndefined();
    for (const local of ['http://127.0.0.1:8080/x', 'http://127.1.2.3/x', 'http://localhost:3000/x', 'http://[::1]:9000/x']) {
      expect({ local, problem: webhookUrlProblem(local, true) }).toEqual({ local, problem: undefined });
      expect({ local, problem: webhookUrlProblem(local, false) }).toEqual({ local, problem: 'must be https' });
    }
    for (const bad of ['http://example.com/x', 'http://10.0.0.1/x', 'http://128.0.0.1/x', 'ftp://example.com', 'not a url', 'https://u:p@example.com/']) {
      expect({ bad, problem: webhookUrlProblem(bad, true) }).toEqual({ bad, problem: expect.any(String) });
    }
    // Outside local mode the function must not call its own host or the link-local range, even over https.
    expect(webhookUrlProblem('https://localhost/x', false)).toEqual(expect.any(String));
    expect(webhookUrlProblem('https://169.254.169.254/latest', false)).toEqual(expect.any(String));
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('127.example.com')).toBe(false);
  });
});

describe('webhook addresses outside local mode', () => {
  /** The forms the issue found accepted, and the rest of the ranges a webhook must never reach. */
  const refused = [
    'https://0.0.0.0/',
    'https://[::]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://localhost./',
    'https://api.localhost/',
    'https://10.0.0.1/',
    'https://192.168.1.1/',
    'https://172.16.5.4/',
    'https://[fd00::1]/',
    'https://[fc00::1]/',
    'https://100.64.0.1/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[fe80::1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[::ffff:169.254.169.254]/',
    'https://[::127.0.0.1]/',
    'https://[64:ff9b::a00:1]/',
    'https://[2002:7f00:1::]/',
    'https://224.0.0.1/',
    'https://[ff02::1]/',
    'https://255.255.255.255/',
    'https://240.0.0.1/',
    'https://192.0.2.10/',
    'https://2130706433/',
    'https://0x7f.1/',
    'https://[::1]/',
    'https://127.0.0.1/',
  ];
  test.each(refused)('%s is refused by the pure check, naming the range', (target) => {
    expect(webhookUrlProblem(target, false)).toMatch(/^must point at a public host: .* (is a .* address|names the local host)$/);
  });

  test('public unicast literals and names pass the pure check; local mode keeps its allowances', () => {
    for (const target of ['https://8.8.8.8/', 'https://[2606:4700::1111]/', 'https://[::ffff:8.8.8.8]/', 'https://hooks.example.com/x']) {
      expect({ target, problem: webhookUrlProblem(target, false) }).toEqual({ target, problem: undefined });
    }
    // Local mode: the local runtime and the tests post to receivers on this machine.
    for (const target of ['https://localhost./', 'https://10.0.0.1/', 'http://127.0.0.1:8080/x']) {
      expect({ target, problem: webhookUrlProblem(target, true) }).toEqual({ target, problem: undefined });
    }
    expect(addressProblem('not-an-ip')).toEqual(expect.any(String));
  });

  const resolverOf = (answers: Record<string, string[]>): Resolver => async (host) => {
    const found = answers[host];
    if (!found) throw new Error(`ENOTFOUND ${host}`);
    return found;
  };

  test('a name is judged by every address it resolves to; one non-public address refuses it; an unresolvable name is refused', async () => {
    const resolve = resolverOf({
      'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
      'internal.example.com': ['10.1.2.3'],
      'mixed.example.com': ['93.184.215.14', '169.254.169.254'],
      'mapped.example.com': ['::ffff:127.0.0.1'],
    });
    expect(await resolvedHostProblem('hooks.example.com', resolve)).toBeUndefined();
    expect(await resolvedHostProblem('hooks.example.com.', resolve)).toBeUndefined();
    expect(await resolvedHostProblem('internal.example.com', resolve)).toBe('internal.example.com resolves to a non-public address (a private (RFC 1918) address)');
    expect(await resolvedHostProblem('mixed.example.com', resolve)).toMatch(/link-local/);
    expect(await resolvedHostProblem('mapped.example.com', resolve)).toMatch(/loopback/);
    expect(await resolvedHostProblem('nowhere.example.com', resolve)).toBe('nowhere.example.com does not resolve');
    // Literals need no resolver at all.
    expect(await resolvedHostProblem('[fd00::1]', resolverOf({}))).toMatch(/unique-local/);
  });

  /** What net.connect does with a lookup: call it, in the single or the `all` form. */
  const lookupWith = (resolve: Resolver, host: string, options: { all?: boolean; family?: number }) =>
    new Promise<{ error: Error | null; address: unknown; family?: number }>((done) =>
      guardedLookup(resolve)(host, options, (error, address, family) => done({ error, address, family })),
    );

  test('the guarded lookup hands the socket only the addresses it checked, and refuses a name with any non-public one', async () => {
    const resolve = resolverOf({ 'hooks.example.com': ['93.184.215.14', '2606:4700::1111'], 'rebound.example.com': ['93.184.215.14', '127.0.0.1'] });
    expect(await lookupWith(resolve, 'hooks.example.com', { all: true })).toEqual({
      error: null,
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700::1111', family: 6 },
      ],
      family: undefined,
    });
    expect(await lookupWith(resolve, 'hooks.example.com', { family: 6 })).toEqual({ error: null, address: '2606:4700::1111', family: 6 });
    const refusedLookup = await lookupWith(resolve, 'rebound.example.com', { all: true });
    expect(refusedLookup.error?.name).toBe('AddressRefused');
    expect(refusedLookup.error?.message).toMatch(/loopback/);
    expect((await lookupWith(resolve, 'nowhere.example.com', {})).error?.message).toMatch(/does not resolve/);
  });

  test('a real connection through the guarded lookup never opens to a refused address', async () => {
    let connections = 0;
    const server: Server = createServer((_req, res) => res.end('reached'));
    server.on('connection', () => (connections += 1));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    try {
      // A name that resolves to this machine: what a rebinding DNS answers at delivery time.
      const lookup = guardedLookup(resolverOf({ 'rebound.example.com': ['127.0.0.1'] }));
      const failure = await new Promise<Error>((done) => {
        get({ host: 'rebound.example.com', port, path: '/', lookup }, () => done(new Error('connected'))).on('error', done);
      });
      expect(failure.name).toBe('AddressRefused');
      expect(connections).toBe(0);
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });
});

describe('targets shown to roles without subscriptions:read', () => {
  test('an email keeps its first letter and domain, a phone its last four digits, a webhook its origin', () => {
    expect(redactTarget('email', 'jane.doe@example.com')).toBe('j***@example.com');
    expect(redactTarget('sms', '+14155550123')).toBe('+***0123');
    expect(redactTarget('webhook', 'https://hooks.example.com/t/s3cret?k=1')).toBe('https://hooks.example.com/…');
    expect(redactTarget('email', 'garbled')).toBe('***');
  });
});

describe('delivery rules', () => {
  test('severity reaches a subscription at or above its minimum', () => {
    expect(severityReaches('critical', 'normal')).toBe(true);
    expect(severityReaches('high', 'high')).toBe(true);
    expect(severityReaches('normal', 'high')).toBe(false);
    expect(severityReaches('high', 'critical')).toBe(false);
  });

  test('throttle windows count from the alert opening; a redelivered event keeps its window', () => {
    const opened = '2026-01-01T10:59:00.000Z';
    expect(windowStart(opened, opened, 3600)).toBe(opened);
    expect(windowStart(opened, '2026-01-01T11:58:59.999Z', 3600)).toBe(opened);
    expect(windowStart(opened, '2026-01-01T11:59:00.000Z', 3600)).toBe('2026-01-01T11:59:00.000Z');
    expect(windowStart(opened, '2026-01-01T15:00:00.000Z', 3600)).toBe('2026-01-01T14:59:00.000Z');
    // An event stamped before the opening (clock skew) belongs to the first window.
    expect(windowStart(opened, '2026-01-01T10:00:00.000Z', 3600)).toBe(opened);
  });

  test('a batch is handled most urgent first, in arrival order within a severity', () => {
    const ev = (id: string, severity: AlertEventDetail['severity']) => ({ id, event: { detail: { severity } } as never });
    const order = byUrgency([ev('a', 'normal'), ev('b', 'critical'), ev('c', 'high'), ev('d', 'critical'), ev('e', 'normal')]).map((x) => x.id);
    expect(order).toEqual(['b', 'd', 'c', 'a', 'e']);
  });

  test('webhook signature: sha256=<hex HMAC of the raw body>, verifiable with the secret', () => {
    const detail = { alert_id: 'A1', severity: 'high' } as AlertEventDetail;
    const delivery = { delivery_id: 'd', event_type: 'AlertOpened' as const, event_id: 'e', subscription: { subscription_id: 's' } as never, tenant_id: 't', notice_id: 'A1', severity: 'high' as const, payload: { alert: detail }, ...messageOf('AlertOpened', { ...detail, sku_id: 'sku-1', warehouse_id: 'wh-1' }) };
    const body = webhookBody(delivery, '2026-01-01T00:00:00.000Z');
    expect(JSON.parse(body)).toMatchObject({ type: 'AlertOpened', subscription_id: 's', timestamp: '2026-01-01T00:00:00.000Z', alert: { alert_id: 'A1' } });
    expect(signature('sekret', body)).toBe(`sha256=${createHmac('sha256', 'sekret').update(body).digest('hex')}`);
    expect(signature('other', body)).not.toBe(signature('sekret', body));
    expect(delivery.subject).toBe('[Stockroom] high low stock: sku-1 at wh-1');
  });
});
