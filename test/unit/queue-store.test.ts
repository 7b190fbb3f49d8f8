import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { LocalFifoQueue } from '../../bin/local/fifo-queues';
import { openQueueJournal } from '../../bin/local/queue-store';
import { LocalQueue } from '../../bin/local/queues';
import { fileCheckpoints } from '../../bin/local/streams';
import { channelSyncQueues } from '../../functions/wiring';

/** The local queues' journal (bin/local/queue-store.ts) and the file stream checkpoint: what a killed npm start leaves for the next one. */
let dir = '';
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'queue-journal-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a reopened journal holds the messages neither deleted nor dead-lettered, in send order, with their receives and visibility, and the dead letters', () => {
  const first = openQueueJournal(dir, 'q');
  for (const id of ['a', 'b', 'c', 'd']) first.sent({ messageId: id, body: `body ${id}`, sentAt: 1000 });
  first.received('b', 1, 5000);
  first.deleted('a');
  first.deadLettered({ messageId: 'c', body: 'body c', receiveCount: 5 });
  const again = openQueueJournal(dir, 'q');
  expect(again.restored.messages).toEqual([
    { messageId: 'b', body: 'body b', sentAt: 1000, receiveCount: 1, visibleAt: 5000 },
    { messageId: 'd', body: 'body d', sentAt: 1000 },
  ]);
  expect(again.restored.deadLetters).toEqual([{ messageId: 'c', body: 'body c', receiveCount: 5 }]);
  // Opening compacts: only what is live is left on disk, and it reads back the same.
  expect(readFileSync(join(dir, 'q.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
  expect(openQueueJournal(dir, 'q').restored.messages.map((m) => m.messageId)).toEqual(['b', 'd']);
});

test('a last line cut short by a kill in mid-append is skipped, and everything before it is kept', () => {
  const journal = openQueueJournal(dir, 'q');
  journal.sent({ messageId: 'a', body: 'kept', sentAt: 1 });
  appendFileSync(join(dir, 'q.jsonl'), '{"op":"send","id":"b","bo');
  expect(openQueueJournal(dir, 'q').restored.messages.map((m) => m.messageId)).toEqual(['a']);
});

test('a LocalQueue given the journal of a killed one delivers its waiting messages, and keeps one that was in flight hidden until its visibility timeout ends', async () => {
  const handled: string[] = [];
  const handler = async (event: SQSEvent) => void handled.push(...event.Records.map((r) => r.body));
  const killed = new LocalQueue({ name: 'q', maxReceives: 3, visibilityTimeoutSeconds: 60, batchSize: 10, handler, journal: openQueueJournal(dir, 'q') });
  killed.send('waiting');
  // A receive the dead process made: hidden for a minute from now.
  const journal = openQueueJournal(dir, 'q');
  journal.sent({ messageId: 'm-flight', body: 'in flight', sentAt: Date.now() });
  journal.received('m-flight', 1, Date.now() + 60_000);
  const next = new LocalQueue({ name: 'q', maxReceives: 3, visibilityTimeoutSeconds: 60, batchSize: 10, handler, journal: openQueueJournal(dir, 'q') });
  next.start();
  const deadline = Date.now() + 5_000;
  while (handled.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  await next.stop();
  expect(handled).toEqual(['waiting']);
  expect(next.depth).toBe(1);
  expect(openQueueJournal(dir, 'q').restored.messages).toEqual([expect.objectContaining({ messageId: 'm-flight', receiveCount: 1 })]);
});

test('a FIFO queue started on a killed one\'s journal still drops a deduplication id sent within five minutes', () => {
  const spec = channelSyncQueues.pushShopify;
  const handler = async () => undefined;
  const killed = new LocalFifoQueue('push', spec, handler, 1000, openQueueJournal(dir, 'push.fifo'));
  killed.send([{ body: 'one', groupId: 'g', deduplicationId: 'dedup-1' }]);
  const next = new LocalFifoQueue('push', spec, handler, 1000, openQueueJournal(dir, 'push.fifo'));
  next.send([{ body: 'one again', groupId: 'g', deduplicationId: 'dedup-1' }]);
  expect(next.stats.deduplicated).toBe(1);
  expect(next.depth).toBe(1);
});

test('file stream checkpoints read back after a restart: each shard\'s last sequence number and the streams started', () => {
  const file = join(dir, 'checkpoints.json');
  const first = fileCheckpoints(file);
  expect(first.started('arn-1')).toBe(false);
  first.markStarted('arn-1');
  first.set('arn-1', 'shard-a', '000000000000000000042');
  const again = fileCheckpoints(file);
  expect(again.started('arn-1')).toBe(true);
  expect(again.get('arn-1', 'shard-a')).toBe('000000000000000000042');
  expect(again.get('arn-1', 'shard-b')).toBeUndefined();
});
