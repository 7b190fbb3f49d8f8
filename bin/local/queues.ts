import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../functions/platform/errors';
import { log } from '../../functions/platform/log';
import { allEventConsumers, channelSyncQueues, entriesOf, type EventConsumer, type SyncQueue } from '../../functions/wiring';
import { startLocalSyncQueues, type LocalFifoQueue } from './fifo-queues';
import type { BusEvent, EventPattern, LocalBus } from './bus';
import { importHandler } from './handlers';
import { openQueueJournal, type QueueJournal } from './queue-store';
import { lambdaContext, sqsRecordOf } from './lambda-context';

/**
 * The local stand-in for SQS queues between the bus and the event consumers
 * (functions/wiring.ts `eventConsumers`): the bus rule sends each matching
 * event into the queue as EventBridge's SQS target does (body = the event
 * JSON); a poller receives batches of up to `batchSize`, hides them for the
 * visibility timeout, calls the consumer's handler with an `SQSEvent`, and
 * deletes what succeeded: everything, or all but the `batchItemFailures`
 * (a thrown error fails the whole batch). A failed message becomes visible
 * again when its visibility timeout ends; after `maxReceives` receives it
 * moves to the dead-letter list (`deadLetters`, and an error log line).
 */
export type ConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

interface Message {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  visibleAt: number;
}

export interface LocalQueueOptions {
  name: string;
  maxReceives: number;
  visibilityTimeoutSeconds: number;
  batchSize: number;
  handler: ConsumerHandler;
  /** Idle poll period (Lambda long-polls; a few times a second is close enough). */
  pollIntervalMs?: number;
  /** Where the queue's messages outlive the process (bin/local/queue-store.ts); without it they live in memory. */
  journal?: QueueJournal;
}

/** Seconds since the oldest of these messages was sent, 0 for none. */
export const oldestAge = (messages: readonly { sentAt: number }[], now: number): number =>
  messages.length === 0 ? 0 : Math.max(0, (now - Math.min(...messages.map((m) => m.sentAt))) / 1000);

export class LocalQueue {
  readonly name: string;
  readonly deadLetters: { messageId: string; body: string; receiveCount: number }[] = [];
  /** `errors`: batches whose handler threw (Lambda's Errors, as the local evaluator samples it). */
  readonly stats = { sent: 0, received: 0, deleted: 0, batches: 0, errors: 0 };
  private readonly messages: Message[] = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;

  constructor(private readonly options: LocalQueueOptions) {
    this.name = options.name;
    const restored = options.journal?.restored;
    if (restored) {
      // What a previous run left, as SQS keeps it: one in flight when that run died comes back when its visibility timeout ends.
      for (const m of restored.messages)
        this.messages.push({ messageId: m.messageId, body: m.body, sentAt: m.sentAt, receiveCount: m.receiveCount ?? 0, visibleAt: m.visibleAt ?? 0 });
      this.deadLetters.push(...restored.deadLetters.map((d) => ({ messageId: d.messageId, body: d.body, receiveCount: d.receiveCount })));
      if (restored.messages.length > 0) log.info('queue messages restored from the previous run', { queue: this.name, messages: restored.messages.length });
    }
  }

  send(body: string): string {
    const messageId = randomUUID();
    const sentAt = Date.now();
    // On disk before the send returns: the bus hands events to queues synchronously, so an accepted event is kept.
    this.options.journal?.sent({ messageId, body, sentAt });
    this.messages.push({ messageId, body, sentAt, receiveCount: 0, visibleAt: 0 });
    this.stats.sent += 1;
    this.kick();
    return messageId;
  }

  /** Messages not yet deleted or dead-lettered (visible or in flight). */
  get depth(): number {
    return this.messages.length;
  }

  /** SQS's ApproximateAgeOfOldestMessage: seconds since the oldest message not yet deleted or dead-lettered was sent (0 when empty). */
  oldestAgeSeconds(now = Date.now()): number {
    return oldestAge(this.messages, now);
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Resolves once the queue is empty (every message deleted or dead-lettered). */
  async drain(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.messages.length > 0 || this.running) {
      if (Date.now() > until) throw new Error(`queue ${this.name} not drained in ${timeoutMs} ms (${this.messages.length} left)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private kick(delayMs = 0): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.poll().finally(() => {
        this.running = undefined;
        if (!this.stopped && this.messages.length > 0) this.kick(this.nextVisibleIn());
      });
    }, delayMs);
  }

  private nextVisibleIn(): number {
    const now = Date.now();
    const next = Math.min(...this.messages.map((m) => m.visibleAt));
    return Math.max(next - now, this.options.pollIntervalMs ?? 10);
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      const batch = this.messages.filter((m) => m.visibleAt <= now).slice(0, this.options.batchSize);
      if (batch.length === 0) return;
      for (const m of batch) {
        m.receiveCount += 1;
        m.firstReceiveAt ??= now;
        m.visibleAt = now + this.options.visibilityTimeoutSeconds * 1000;
        this.options.journal?.received(m.messageId, m.receiveCount, m.visibleAt);
      }
      this.stats.received += batch.length;
      this.stats.batches += 1;
      let failed: Set<string>;
      try {
        const response = await this.options.handler({ Records: batch.map((m) => this.record(m)) }, lambdaContext(this.name, randomUUID()));
        failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (error) {
        this.stats.errors += 1;
        log.error('queue consumer threw; the whole batch will be retried', { queue: this.name, error: errorMessage(error) });
        failed = new Set(batch.map((m) => m.messageId));
      }
      for (const m of batch) {
        if (!failed.has(m.messageId)) {
          this.remove(m);
          this.options.journal?.deleted(m.messageId);
          this.stats.deleted += 1;
        } else if (m.receiveCount >= this.options.maxReceives) {
          this.remove(m);
          this.options.journal?.deadLettered({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount });
          this.deadLetters.push({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount });
          log.error('message dead-lettered', { queue: this.name, message_id: m.messageId, receives: m.receiveCount });
        }
      }
    }
  }

  private remove(message: Message): void {
    const index = this.messages.indexOf(message);
    if (index >= 0) this.messages.splice(index, 1);
  }

  private record(m: Message): SQSRecord {
    return sqsRecordOf(m, { queueArn: `arn:aws:sqs:local:000000000000:${this.name}`, senderId: 'events.amazonaws.com' });
  }
}

export interface LocalConsumers {
  readonly queues: Record<string, LocalQueue>;
  /** The FIFO queues functions feed (channelSyncQueues), with their workers. */
  readonly syncQueues: Record<string, LocalFifoQueue>;
  /** Waits until the bus has delivered everything and every queue is empty. */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One queue per eventConsumers entry, fed by a bus rule with the entry's
 * pattern (narrowed by `narrow`, e.g. to one tenant in tests), drained by a
 * poller calling the entry's handler.
 */
export const startLocalConsumers = async (
  bus: LocalBus,
  options: {
    consumers?: Record<string, EventConsumer>;
    syncQueues?: Record<string, SyncQueue>;
    /** Overrides the sync queues' visibility timeout (tests of an outage wait less for the redelivery). */
    syncVisibilityTimeoutSeconds?: number;
    narrow?: EventPattern;
    load?: (entry: string) => Promise<ConsumerHandler>;
    /** A directory to keep every queue's messages in (npm start's data dir), so they survive a kill; default: in memory. */
    journalDir?: string;
  } = {},
): Promise<LocalConsumers> => {
  const consumers = options.consumers ?? allEventConsumers;
  const load = options.load ?? importHandler<ConsumerHandler>;
  // Started first: a consumer (the channel router) sends to them.
  const sync = await startLocalSyncQueues(options.syncQueues ?? channelSyncQueues, {
    load,
    ...(options.journalDir === undefined ? {} : { journalDir: options.journalDir }),
    ...(options.syncVisibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds: options.syncVisibilityTimeoutSeconds }),
  });
  const queues: Record<string, LocalQueue> = {};
  const unsubscribe: (() => void)[] = [];
  for (const [name, consumer] of entriesOf(consumers)) {
    const journal = options.journalDir === undefined ? undefined : openQueueJournal(options.journalDir, name);
    const queue = new LocalQueue({ name, ...consumer.queue, handler: await load(consumer.entry), ...(journal ? { journal } : {}) });
    queues[name] = queue;
    const pattern: EventPattern = { ...consumer.pattern, ...options.narrow };
    // Delivered in the publish itself (`immediate`): once PutEvents has answered, the event is in the queue (and its journal),
    // as EventBridge has it once it answers; the stream processor then writes its markers and the poller its checkpoint.
    unsubscribe.push(bus.addRule({ name: `${name}-queue`, pattern, immediate: true, targets: [(event: BusEvent) => void queue.send(JSON.stringify(event))] }));
    queue.start();
  }
  return {
    queues,
    syncQueues: sync.queues,
    drain: async (timeoutMs = 30_000) => {
      await bus.idle();
      await Promise.all(Object.values(queues).map((q) => q.drain(timeoutMs)));
      await Promise.all(Object.values(sync.queues).map((q) => q.drain(timeoutMs)));
    },
    stop: async () => {
      for (const off of unsubscribe) off();
      await Promise.all(Object.values(queues).map((q) => q.stop()));
      await sync.stop();
    },
  };
};
