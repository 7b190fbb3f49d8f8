import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../functions/platform/errors';
import { log } from '../../functions/platform/log';
import { queueUrlEnv, registerLocalQueue, type FifoMessage } from '../../functions/platform/queues';
import { entriesOf, type SyncQueue } from '../../functions/wiring';
import type { SQSRecord } from 'aws-lambda';
import type { ConsumerHandler } from './queues';
import { lambdaContext, sqsRecordOf } from './lambda-context';
import { DEDUP_WINDOW_MS, openQueueJournal, type QueueJournal } from './queue-store';

/**
 * The local stand-in for an SQS FIFO queue and its Lambda event source (functions/wiring.ts
 * channelSyncQueues), with the semantics the push path relies on:
 * - a message whose deduplication id was sent in the last 5 minutes is dropped;
 * - within a message group, order: a batch takes a group's messages from its head, and no other
 *   batch takes that group until this one is done; a failed message (and the rest of its group)
 *   becomes visible again after the visibility timeout, still at the head;
 * - groups run in parallel, at most `maxConcurrency` batches at once;
 * - after `maxReceives` receives a message moves to the dead-letter list, and its group goes on.
 */
interface FifoEntry {
  messageId: string;
  body: string;
  groupId: string;
  sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  visibleAt: number;
}

export class LocalFifoQueue {
  readonly deadLetters: { messageId: string; body: string; groupId: string; receiveCount: number }[] = [];
  readonly stats = { sent: 0, deduplicated: 0, received: 0, deleted: 0, batches: 0 };
  private readonly messages: FifoEntry[] = [];
  private readonly seen = new Map<string, number>();
  private readonly busyGroups = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private stopped = true;

  constructor(
    readonly name: string,
    private readonly spec: SyncQueue,
    private readonly handler: ConsumerHandler,
    /** The function's timeout: a sixth of the declared visibility timeout, as in AWS (kept when a test shortens the visibility). */
    private readonly timeoutMs = (spec.queue.visibilityTimeoutSeconds * 1000) / 6,
    /** Where the messages and deduplication ids outlive the process (bin/local/queue-store.ts); without it, in memory. */
    private readonly journal?: QueueJournal,
  ) {
    const restored = journal?.restored;
    if (restored) {
      // A previous run's messages, in their send order (so each group's order holds); one in flight when it died comes back
      // when its visibility timeout ends, as in SQS.
      for (const m of restored.messages)
        this.messages.push({ messageId: m.messageId, body: m.body, groupId: m.groupId ?? '', sentAt: m.sentAt, receiveCount: m.receiveCount ?? 0, visibleAt: m.visibleAt ?? 0 });
      for (const [id, at] of restored.seen) this.seen.set(id, at);
      this.deadLetters.push(...restored.deadLetters.map((d) => ({ messageId: d.messageId, body: d.body, groupId: d.groupId ?? '', receiveCount: d.receiveCount })));
      if (restored.messages.length > 0) log.info('queue messages restored from the previous run', { queue: name, messages: restored.messages.length });
    }
  }

  send(messages: readonly FifoMessage[]): void {
    const now = Date.now();
    for (const [id, at] of this.seen) if (now - at > DEDUP_WINDOW_MS) this.seen.delete(id);
    for (const message of messages) {
      if (this.seen.has(message.deduplicationId)) {
        this.stats.deduplicated += 1;
        continue;
      }
      this.seen.set(message.deduplicationId, now);
      const messageId = randomUUID();
      this.journal?.sent({ messageId, body: message.body, sentAt: now, groupId: message.groupId, deduplicationId: message.deduplicationId });
      this.messages.push({ messageId, body: message.body, groupId: message.groupId, sentAt: now, receiveCount: 0, visibleAt: 0 });
      this.stats.sent += 1;
    }
    this.kick(0);
  }

  /** Messages not yet deleted or dead-lettered. */
  get depth(): number {
    return this.messages.length;
  }

  /** SQS's ApproximateAgeOfOldestMessage: seconds since the oldest message not yet deleted or dead-lettered was sent (0 when empty). */
  oldestAgeSeconds(now = Date.now()): number {
    return this.messages.length === 0 ? 0 : Math.max(0, (now - Math.min(...this.messages.map((m) => m.sentAt))) / 1000);
  }

  start(): void {
    this.stopped = false;
    this.kick(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.inFlight]);
  }

  async drain(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.messages.length > 0 || this.inFlight.size > 0) {
      if (Date.now() > until) throw new Error(`queue ${this.name} not drained in ${timeoutMs} ms (${this.messages.length} left)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private kick(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dispatch();
    }, delayMs);
  }

  /** The next batch: from the head of each group not busy whose head is visible, in send order, up to batchSize. */
  private nextBatch(now: number): FifoEntry[] {
    const batch: FifoEntry[] = [];
    const blocked = new Set(this.busyGroups);
    for (const message of this.messages) {
      if (batch.length >= this.spec.queue.batchSize) break;
      if (blocked.has(message.groupId)) continue;
      if (message.visibleAt > now) {
        blocked.add(message.groupId); // the head is hidden: the group waits behind it
        continue;
      }
      batch.push(message);
    }
    return batch;
  }

  private dispatch(): void {
    while (!this.stopped && this.inFlight.size < this.spec.maxConcurrency) {
      const now = Date.now();
      const batch = this.nextBatch(now);
      if (batch.length === 0) break;
      const groups = new Set(batch.map((m) => m.groupId));
      for (const group of groups) this.busyGroups.add(group);
      for (const m of batch) {
        m.receiveCount += 1;
        m.firstReceiveAt ??= now;
        m.visibleAt = now + this.spec.queue.visibilityTimeoutSeconds * 1000;
        this.journal?.received(m.messageId, m.receiveCount, m.visibleAt);
      }
      this.stats.received += batch.length;
      this.stats.batches += 1;
      const run = this.run(batch).finally(() => {
        for (const group of groups) this.busyGroups.delete(group);
        this.inFlight.delete(run);
        this.kick(0);
      });
      this.inFlight.add(run);
    }
    if (!this.stopped && this.messages.length > 0 && this.inFlight.size === 0) {
      const next = Math.min(...this.messages.map((m) => m.visibleAt));
      this.kick(Math.max(10, next - Date.now()));
    }
  }

  private async run(batch: FifoEntry[]): Promise<void> {
    let failed: Set<string>;
    try {
      const response = await this.handler({ Records: batch.map((m) => this.record(m)) }, lambdaContext(this.name, randomUUID(), this.timeoutMs));
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      log.error('fifo queue consumer threw; the whole batch will be retried', { queue: this.name, error: errorMessage(error) });
      failed = new Set(batch.map((m) => m.messageId));
    }
    // FIFO: after a failed message, the rest of its group in the batch count as failed too (they must not overtake it).
    const failedGroups = new Set(batch.filter((m) => failed.has(m.messageId)).map((m) => m.groupId));
    for (const m of batch) {
      if (!failedGroups.has(m.groupId)) {
        this.remove(m);
        this.journal?.deleted(m.messageId);
        this.stats.deleted += 1;
      } else if (m.receiveCount >= this.spec.queue.maxReceives) {
        this.remove(m);
        this.journal?.deadLettered({ messageId: m.messageId, body: m.body, groupId: m.groupId, receiveCount: m.receiveCount });
        this.deadLetters.push({ messageId: m.messageId, body: m.body, groupId: m.groupId, receiveCount: m.receiveCount });
        log.error('message dead-lettered', { queue: this.name, message_id: m.messageId, receives: m.receiveCount });
      }
    }
  }

  private remove(message: FifoEntry): void {
    const index = this.messages.indexOf(message);
    if (index >= 0) this.messages.splice(index, 1);
  }

  private record(m: FifoEntry): SQSRecord {
    return sqsRecordOf(m, { queueArn: `arn:aws:sqs:local:000000000000:${this.name}.fifo`, senderId: 'local', attributes: { MessageGroupId: m.groupId } });
  }
}

/**
 * One local FIFO queue per entry of `queues` (default channelSyncQueues), registered so
 * functions/platform/queues.ts sends to it: its URL env var becomes `local:<name>`.
 * `visibilityTimeoutSeconds` overrides every queue's (tests of outages shorten the wait for a redelivery).
 */
export const startLocalSyncQueues = async (
  queues: Record<string, SyncQueue>,
  options: { load: (entry: string) => Promise<ConsumerHandler>; visibilityTimeoutSeconds?: number; journalDir?: string },
): Promise<{ queues: Record<string, LocalFifoQueue>; stop: () => Promise<void> }> => {
  const started: Record<string, LocalFifoQueue> = {};
  const unregister: (() => void)[] = [];
  for (const [name, spec] of entriesOf(queues)) {
    const effective: SyncQueue = options.visibilityTimeoutSeconds === undefined ? spec : { ...spec, queue: { ...spec.queue, visibilityTimeoutSeconds: options.visibilityTimeoutSeconds } };
    const journal = options.journalDir === undefined ? undefined : openQueueJournal(options.journalDir, `${name}.fifo`);
    const queue = new LocalFifoQueue(name, effective, await options.load(spec.entry), (spec.queue.visibilityTimeoutSeconds * 1000) / 6, journal);
    started[name] = queue;
    process.env[queueUrlEnv(name)] = `local:${name}`;
    unregister.push(registerLocalQueue(name, (messages) => queue.send(messages)));
    queue.start();
  }
  return {
    queues: started,
    stop: async () => {
      for (const off of unregister) off();
      await Promise.all(Object.values(started).map((q) => q.stop()));
    },
  };
};
