import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '../support/api';
import { runtimeClient, startLocalRuntime, type RunningLocal } from '../support/local-runtime';

/**
 * Fault: the whole local runtime is killed (SIGKILL to its process group: Node and DynamoDB Local's
 * JVM) and started again on the same --data-dir (issue 15, scope item 3). What SQS and Lambda's
 * stream checkpoint keep in AWS must survive it, as the local stand-ins keep it under the data dir
 * (bin/local/queue-store.ts, bin/local/streams.ts fileCheckpoints): the data, the stream position,
 * and the messages waiting in the local queues.
 *
 * Three low-stock alerts, each killed at a different point of its way to the outbox:
 * - sku-1's notification is in flight: its webhook target (a receiver here that never answers)
 *   holds the notifier, with the message received and hidden;
 * - sku-2's notification waits in the notifier's queue behind it (sent, not yet received);
 * - sku-3's sale is acknowledged just before the kill: its events are still in the table's stream
 *   or in the alert evaluator's queue.
 * After the restart sku-2's and sku-3's e-mails each reach the outbox exactly once, and sku-1's
 * message is still kept in flight, to come back when its visibility timeout ends (as SQS would),
 * not at once: redelivered while its dead delivery claim is still leased, it would be skipped and lost.
 */
jest.setTimeout(180_000);

const SKUS = ['sku-1', 'sku-2', 'sku-3'];
let runtime: RunningLocal | undefined;
let dataDir = '';
let receiver: Server | undefined;

afterAll(async () => {
  await runtime?.stop();
  receiver?.closeAllConnections();
  await new Promise<void>((done) => (receiver ? receiver.close(() => done()) : done()));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const until = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
};

const must = async (what: string, r: Promise<{ status: number; body: unknown }>): Promise<unknown> => {
  const res = await r;
  if (res.status < 200 || res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
};

interface JournalMessage {
  queue: string;
  id: string;
  detailType: string;
  skuId: string | undefined;
  received: boolean;
}

/** The messages the queue journals under the data dir still hold (sent, neither deleted nor dead-lettered). */
const liveMessages = (dir: string): JournalMessage[] => {
  const queues = join(dir, 'queues');
  const live = new Map<string, JournalMessage>();
  for (const file of readdirSync(queues).filter((f) => f.endsWith('.jsonl'))) {
    const queue = file.replace(/\.jsonl$/, '');
    for (const text of readFileSync(join(queues, file), 'utf8').split('\n')) {
      if (!text.trim()) continue;
      const line = JSON.parse(text) as { op: string; id?: string; body?: string };
      if (line.op === 'send' && line.id && line.body) {
        const event = JSON.parse(line.body) as { 'detail-type': string; detail: { sku_id?: string } };
        live.set(line.id, { queue, id: line.id, detailType: event['detail-type'], skuId: event.detail.sku_id, received: false });
      } else if (line.op === 'receive' && line.id) {
        const m = live.get(line.id);
        if (m) m.received = true;
      } else if ((line.op === 'delete' || line.op === 'dead') && line.id) {
        live.delete(line.id);
      }
    }
  }
  return [...live.values()];
};

const outboxBySku = async (c: Client): Promise<Map<string, number>> => {
  const alerts = (await c.get<{ alerts: { alert_id: string; sku_id: string }[] }>('/api/alerts')).body.alerts;
  const skuOf = new Map(alerts.map((a) => [a.alert_id, a.sku_id]));
  const { notifications } = (await c.get<{ notifications: { alert_id: string; channel: string }[] }>('/api/notifications?limit=100')).body;
  const counts = new Map<string, number>();
  for (const n of notifications) {
    const sku = skuOf.get(n.alert_id) ?? `unknown alert ${n.alert_id}`;
    counts.set(sku, (counts.get(sku) ?? 0) + 1);
  }
  return counts;
};

test('npm start killed with SIGKILL and started again on its --data-dir loses no event: the stream resumes at its checkpoint, queued messages are delivered once, and a message in flight is kept for its visibility timeout', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stockroom-runtime-kill-'));
  // A webhook target that takes the POST and never answers: the notifier stays in the middle of sku-1's message.
  const posts: string[] = [];
  const held: ServerResponse[] = [];
  receiver = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      posts.push(String(req.headers['x-stockroom-delivery']));
      held.push(res);
    });
  });
  await new Promise<void>((done) => receiver!.listen(0, '127.0.0.1', done));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/stock`;

  runtime = await startLocalRuntime({ dataDir, args: ['--no-web'] });
  let c = runtimeClient(runtime);
  await must('product', c.post('/api/products', { product_id: 'prod-r', name: 'Restart' }));
  await must('warehouse', c.post('/api/warehouses', { warehouse_id: 'wh-1', name: 'W', latitude: 40, longitude: -74 }));
  for (const sku of SKUS) {
    await must(sku, c.post('/api/skus', { sku_id: sku, product_id: 'prod-r', name: sku }));
    await must(`stock ${sku}`, c.post('/api/inventory/update', { sku_id: sku, warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 40 }));
    await must(`thresholds ${sku}`, c.put('/api/thresholds', { sku_id: sku, warehouse_id: 'wh-1', reorder_point: 30, safety_stock: 5 }));
  }
  await must('email', c.post('/api/alerts/subscribe', { scope: { all: true }, channel: 'email', target: 'ops@example.com' }));
  await must('webhook', c.post('/api/alerts/subscribe', { scope: { sku_id: 'sku-1' }, channel: 'webhook', target: hookUrl }));
  const sell = (sku: string) => must(`sale ${sku}`, c.post('/api/inventory/update', { sku_id: sku, warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 15 }));

  // 1. sku-1's alert reaches the notifier, which is now waiting on the webhook (for at most its 5 s timeout).
  await sell('sku-1');
  await until('the webhook POST of sku-1', () => (posts.length > 0 ? true : undefined));
  // 2. sku-2's notification queues up behind it.
  const heldAt = Date.now();
  await sell('sku-2');
  // Within the webhook sender's 5 s timeout, after which the notifier would let go of sku-1's message and take this one.
  await until('sku-2 notification queued', () => (liveMessages(dataDir).some((m) => m.queue === 'notifyAlerts' && m.skuId === 'sku-2' && !m.received) ? true : undefined), 4_000);
  const queuedMs = Date.now() - heldAt;
  // 3. sku-3's sale, acknowledged, and the kill at once.
  await sell('sku-3');
  await runtime.kill();
  const killed = runtime;
  runtime = undefined;
  for (const res of held) res.destroy();

  const pending = liveMessages(dataDir);
  console.log(`sku-2's notification queued ${queuedMs} ms after sku-1's webhook POST arrived; at the kill: ${pending.length} messages kept in the queue journals: ${pending.map((m) => `${m.queue}:${m.detailType}:${m.skuId}${m.received ? ' (in flight)' : ''}`).join(', ')}`);
  expect(pending).toContainEqual(expect.objectContaining({ queue: 'notifyAlerts', skuId: 'sku-1', received: true }));
  expect(pending).toContainEqual(expect.objectContaining({ queue: 'notifyAlerts', skuId: 'sku-2', received: false }));
  expect(killed.output()).not.toMatch(/"level":"ERROR"/);
  // The stream position is kept too: the checkpoint file names the table's stream and where in its shard the poller got to.
  const checkpoint = JSON.parse(readFileSync(join(dataDir, 'stream-checkpoints.json'), 'utf8')) as { streams: string[]; sequences: Record<string, string> };
  expect(checkpoint.streams).toHaveLength(1);
  expect(Object.keys(checkpoint.sequences).length).toBeGreaterThan(0);

  // From now on the webhook target answers at once (a second POST of sku-1 would be counted).
  receiver.removeAllListeners('request');
  receiver.on('request', (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      posts.push(String(req.headers['x-stockroom-delivery']));
      res.writeHead(204).end();
    });
  });

  const began = Date.now();
  runtime = await startLocalRuntime({ dataDir, args: ['--no-web'] });
  c = runtimeClient(runtime);
  // sku-2 and sku-3: one e-mail each, whatever point the kill caught them at.
  const counts = await until('the e-mails of sku-2 and sku-3', async () => {
    const now = await outboxBySku(c);
    return (now.get('sku-2') ?? 0) >= 1 && (now.get('sku-3') ?? 0) >= 1 ? now : undefined;
  });
  console.log(`after the restart (${Date.now() - began} ms to start and deliver): outbox e-mails per SKU ${JSON.stringify(Object.fromEntries(counts))}`);
  // Long enough for a duplicate to show up: the stream and the queues are idle by now.
  await sleep(3_000);
  const settled = await outboxBySku(c);
  expect(settled.get('sku-2')).toBe(1);
  expect(settled.get('sku-3')).toBe(1);
  // sku-1's e-mail went before the kill or waits in its message: never two.
  expect(settled.get('sku-1') ?? 0).toBeLessThanOrEqual(1);
  const alerts = (await c.get<{ alerts: { sku_id: string }[] }>('/api/alerts')).body.alerts.map((a) => a.sku_id).sort();
  expect(alerts).toEqual(SKUS);
  // sku-1's message is still kept, in flight until its visibility timeout ends, and was not sent again early.
  expect(liveMessages(dataDir)).toEqual([expect.objectContaining({ queue: 'notifyAlerts', skuId: 'sku-1', received: true })]);
  expect(posts).toHaveLength(1);
  // The data written before the kill is there: each level at 40 - 15.
  for (const sku of SKUS) expect((await c.get<{ levels: { on_hand: number }[] }>(`/api/inventory/sku/${sku}`)).body.levels.map((l) => l.on_hand)).toEqual([25]);
});
