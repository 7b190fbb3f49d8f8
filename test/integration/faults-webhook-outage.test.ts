import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalBus } from '../../bin/local/bus';
import { startLocalConsumers, type LocalConsumers } from '../../bin/local/queues';
import { evaluateLevelChange, listAlerts } from '../../functions/alerts/alerts';
import type { AlertEventDetail } from '../../functions/events/model';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import { subscribe } from '../../functions/notifications/subscriptions';
import type { RequestContext } from '../../functions/platform/context';
import { eventConsumers } from '../../functions/wiring';
import { contextFor, testDb } from '../support/domain';
import { stockLevelChanged } from '../support/events';

/**
 * Fault: a webhook target is down for a while (issue 15, scope item 3). The real notifier
 * (eventConsumers.notifyAlerts, its handler module with the local senders, which really POST
 * webhooks) behind the local SQS stand-in with the declared maxReceives and batch size; only the
 * visibility timeout is shortened so redeliveries come within the test. The target is a real HTTP
 * receiver on 127.0.0.1 that refuses (503, or closes the connection) and later accepts; deliveries
 * are counted by their X-Stockroom-Delivery id.
 */
// The local runtime's mode (bin/local.ts sets it): webhooks over http to loopback allowed.
process.env[LOCAL_MODE_ENV] = '1';

const db = testDb();
const declared = eventConsumers.notifyAlerts.queue;
const VISIBILITY_SECONDS = 0.2;

afterAll(() => db.client.destroy());

type Answer = 'accept' | '503' | 'close';

/** A webhook receiver whose answer to the n-th POST (from 0) is `answer(n)`; it records every attempt. */
const startReceiver = async (answer: (n: number) => Answer) => {
  const attempts: { delivery: string; answer: Answer }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      const a = answer(attempts.length);
      attempts.push({ delivery: String(req.headers['x-stockroom-delivery']), answer: a });
      if (a === 'close') {
        req.socket.destroy();
        return;
      }
      res.writeHead(a === 'accept' ? 204 : 503);
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/stock`;
  /** Accepted deliveries per delivery id. */
  const accepted = (): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const a of attempts) if (a.answer === 'accept') counts.set(a.delivery, (counts.get(a.delivery) ?? 0) + 1);
    return counts;
  };
  return { url, attempts, accepted, close: () => new Promise<void>((done) => server.close(() => done())) };
};

/** The notifier behind its queue, fed by the bus with this tenant's events only. */
const startNotifier = async (tenantId: string): Promise<{ bus: LocalBus; consumers: LocalConsumers }> => {
  const bus = new LocalBus();
  const consumers = await startLocalConsumers(bus, {
    consumers: { notifyAlerts: { ...eventConsumers.notifyAlerts, queue: { ...declared, visibilityTimeoutSeconds: VISIBILITY_SECONDS } } },
    syncQueues: {},
    narrow: { detail: { tenant_id: [tenantId] } },
  });
  return { bus, consumers };
};

/** Open a real (critical) alert on each SKU and return the AlertOpened detail its stream record would give. */
const openAlerts = async (ctx: RequestContext, skus: readonly string[]): Promise<AlertEventDetail[]> => {
  const tenantId = ctx.caller.tenantId;
  for (const sku of skus) await evaluateLevelChange({ db, ctx }, stockLevelChanged(tenantId, 1, 1, { sku_id: sku }));
  const { alerts } = await listAlerts({ db, ctx }, { limit: 100 });
  expect(alerts).toHaveLength(skus.length);
  return alerts.map((a) => ({
    event_id: `AlertOpened:T#${tenantId}#ALERT:${a.alert_id}:v1`,
    schema_version: 1,
    tenant_id: tenantId,
    occurred_at: a.opened_at,
    alert_id: a.alert_id,
    sku_id: a.sku_id,
    warehouse_id: a.warehouse_id,
    severity: a.severity,
    status: 'open',
    available: a.available,
    reorder_point: a.reorder_point,
    safety_stock: a.safety_stock,
    days_of_cover: a.days_of_cover ?? null,
    opened_at: a.opened_at,
    version: 1,
  }));
};

const publishOpened = async (bus: LocalBus, details: readonly AlertEventDetail[]): Promise<void> => {
  const put = await bus.putEvents(details.map((d) => ({ Source: 'stockroom', DetailType: 'AlertOpened', Detail: JSON.stringify(d), EventBusName: bus.name })));
  expect(put.FailedEntryCount).toBe(0);
};

test('a webhook target down for its first attempts: deliveries are retried until it is back, then each delivery id is accepted exactly once, and redelivered events send nothing more', async () => {
  const ctx = contextFor();
  const tenantId = ctx.caller.tenantId;
  // Refused five times (503s and closed connections, alternating), then accepting.
  const DOWN_FOR = 5;
  const receiver = await startReceiver((n) => (n < DOWN_FOR ? (n % 2 === 0 ? '503' : 'close') : 'accept'));
  const { bus, consumers } = await startNotifier(tenantId);
  try {
    const subs = [];
    for (const name of ['a', 'b']) {
      subs.push(await subscribe({ db, ctx, local: true }, { scope: { all: true }, channel: 'webhook', target: `${receiver.url}?sub=${name}`, min_severity: 'normal' }));
    }
    const opened = await openAlerts(ctx, ['sku-1', 'sku-2']);
    await publishOpened(bus, opened);
    await consumers.drain(20_000);

    const queue = consumers.queues.notifyAlerts!;
    // Every refusal happened, and the outage was short enough: nothing was dead-lettered.
    expect(receiver.attempts.filter((a) => a.answer !== 'accept')).toHaveLength(DOWN_FOR);
    expect(queue.deadLetters).toEqual([]);
    // The messages were redelivered (the outage spanned receives), and every delivery id was accepted once.
    expect(queue.stats.received).toBeGreaterThan(opened.length);
    expect(queue.stats.received).toBeLessThanOrEqual(opened.length * declared.maxReceives);
    const expected = subs.flatMap((s) => opened.map((o) => `${s.subscription_id}:${o.alert_id}:`));
    const accepted = receiver.accepted();
    expect(accepted.size).toBe(expected.length);
    for (const prefix of expected) expect([...accepted].filter(([id]) => id.startsWith(prefix)).map(([, n]) => n)).toEqual([1]);

    // Back and healthy: the same events delivered again (a redelivered stream record, a duplicate) send nothing new.
    await publishOpened(bus, opened);
    await consumers.drain(20_000);
    expect(queue.stats.deleted).toBe(opened.length * 2);
    expect([...receiver.accepted().values()]).toEqual(expected.map(() => 1));
    expect(receiver.attempts).toHaveLength(DOWN_FOR + expected.length);
  } finally {
    await consumers.stop();
    await receiver.close();
  }
});

test('a webhook target that stays down past maxReceives: the message is tried maxReceives times, then it is in the notifier queue\'s DLQ and nothing was delivered', async () => {
  const ctx = contextFor();
  const tenantId = ctx.caller.tenantId;
  let down = true;
  const receiver = await startReceiver(() => (down ? '503' : 'accept'));
  const { bus, consumers } = await startNotifier(tenantId);
  try {
    await subscribe({ db, ctx, local: true }, { scope: { all: true }, channel: 'webhook', target: receiver.url, min_severity: 'normal' });
    const [opened] = await openAlerts(ctx, ['sku-1']);
    await publishOpened(bus, [opened!]);
    await consumers.drain(20_000);

    const queue = consumers.queues.notifyAlerts!;
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.deadLetters[0]!.receiveCount).toBe(declared.maxReceives);
    expect(JSON.parse(queue.deadLetters[0]!.body)).toMatchObject({ 'detail-type': 'AlertOpened', detail: { event_id: opened!.event_id } });
    expect(queue.depth).toBe(0);
    // One attempt per receive, every one refused: nothing delivered.
    expect(receiver.attempts.map((a) => a.answer)).toEqual(Array.from({ length: declared.maxReceives }, () => '503'));
    expect(receiver.accepted().size).toBe(0);

    // The target comes back: the dead-lettered message is not retried by the queue, so nothing more reaches it.
    down = false;
    await new Promise((r) => setTimeout(r, VISIBILITY_SECONDS * 1000 * 3));
    await consumers.drain(20_000);
    expect(receiver.attempts).toHaveLength(declared.maxReceives);
  } finally {
    await consumers.stop();
    await receiver.close();
  }
});
