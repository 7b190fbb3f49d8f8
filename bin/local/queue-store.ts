import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { log } from '../../functions/platform/log';

/**
 * What SQS keeps of a queue, on disk, so the local queues (bin/local/queues.ts, fifo-queues.ts)
 * survive a kill of npm start: the messages not yet deleted, the dead letters, and for a FIFO
 * queue the deduplication ids sent in the last five minutes.
 *
 * A journal of JSON lines, one per change (a send, a delete, a dead letter), appended with one
 * write each, so a process killed at any instant leaves every acknowledged send on disk (a kill
 * of the process, not of the machine: nothing is fsynced). Loading replays it and rewrites it
 * with only what is still live (written to a temp name, then renamed, so a kill during that leaves
 * the old journal whole); a long-running queue compacts the same way once most lines are dead.
 *
 * Receives are kept too (their count and until when the message is hidden), because consumers rely
 * on SQS's visibility timeout: a message in flight when the process died comes back when its
 * visibility timeout ends, as SQS redelivers one whose consumer died, not at once. (The notifier's
 * delivery claim has a lease shorter than its queue's visibility timeout: redelivered at once, the
 * message would find its own dead claim still leased, skip it, and the notification would be lost.)
 * Its receive count goes on, so a message that kills its consumer still reaches the dead letters.
 */
export interface StoredMessage {
  messageId: string;
  body: string;
  sentAt: number;
  /** FIFO only. */
  groupId?: string;
  deduplicationId?: string;
  /** Receives so far, and until when the last one hides it (epoch ms; 0: visible). */
  receiveCount?: number;
  visibleAt?: number;
}

export interface StoredDeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  groupId?: string;
}

export interface QueueJournal {
  /** What the previous runs left: live messages in send order, dead letters, FIFO deduplication ids with when they were sent. */
  readonly restored: { messages: StoredMessage[]; deadLetters: StoredDeadLetter[]; seen: Map<string, number> };
  sent(message: StoredMessage): void;
  received(messageId: string, receiveCount: number, visibleAt: number): void;
  deleted(messageId: string): void;
  deadLettered(letter: StoredDeadLetter): void;
}

const line = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('send'),
    id: z.string(),
    body: z.string(),
    at: z.number(),
    group: z.string().optional(),
    dedup: z.string().optional(),
  }),
  z.object({ op: z.literal('delete'), id: z.string() }),
  z.object({ op: z.literal('receive'), id: z.string(), receives: z.number(), visible: z.number() }),
  z.object({ op: z.literal('dead'), id: z.string(), receives: z.number() }),
  z.object({ op: z.literal('seen'), dedup: z.string(), at: z.number() }),
  z.object({ op: z.literal('dead-letter'), id: z.string(), body: z.string(), receives: z.number(), group: z.string().optional() }),
]);
type Line = z.infer<typeof line>;

/** SQS FIFO's deduplication interval. */
export const DEDUP_WINDOW_MS = 5 * 60 * 1000;
/** Compact when the journal holds this many lines more than it would after compaction. */
const COMPACT_SLACK = 5_000;

const readLines = (file: string, queue: string): Line[] => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return [];
    throw error;
  }
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // Only a line cut short by a kill in mid-append can be unreadable: it was never acknowledged.
      log.warn('queue journal line unreadable; skipped', { queue, line: raw.slice(0, 200) });
      continue;
    }
    const checked = line.safeParse(parsed);
    if (checked.success) lines.push(checked.data);
    else log.warn('queue journal line of an unknown shape; skipped', { queue, line: raw.slice(0, 200) });
  }
  return lines;
};

/** The journal of queue `name` under `dir` (made if absent), with what the previous runs left in it. */
export const openQueueJournal = (dir: string, name: string): QueueJournal => {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.jsonl`);
  const live = new Map<string, StoredMessage>();
  const deadLetters: StoredDeadLetter[] = [];
  const seen = new Map<string, number>();
  for (const entry of readLines(file, name)) {
    if (entry.op === 'send') {
      live.set(entry.id, {
        messageId: entry.id,
        body: entry.body,
        sentAt: entry.at,
        ...(entry.group === undefined ? {} : { groupId: entry.group }),
        ...(entry.dedup === undefined ? {} : { deduplicationId: entry.dedup }),
      });
      if (entry.dedup !== undefined) seen.set(entry.dedup, entry.at);
    } else if (entry.op === 'delete') {
      live.delete(entry.id);
    } else if (entry.op === 'receive') {
      const message = live.get(entry.id);
      if (message) live.set(entry.id, { ...message, receiveCount: entry.receives, visibleAt: entry.visible });
    } else if (entry.op === 'dead') {
      const message = live.get(entry.id);
      live.delete(entry.id);
      if (message) deadLetters.push({ messageId: message.messageId, body: message.body, receiveCount: entry.receives, ...(message.groupId === undefined ? {} : { groupId: message.groupId }) });
    } else if (entry.op === 'seen') {
      seen.set(entry.dedup, entry.at);
    } else {
      deadLetters.push({ messageId: entry.id, body: entry.body, receiveCount: entry.receives, ...(entry.group === undefined ? {} : { groupId: entry.group }) });
    }
  }
  const now = Date.now();
  for (const [id, at] of seen) if (now - at > DEDUP_WINDOW_MS) seen.delete(id);

  const sendLine = (m: StoredMessage): Line => ({
    op: 'send',
    id: m.messageId,
    body: m.body,
    at: m.sentAt,
    ...(m.groupId === undefined ? {} : { group: m.groupId }),
    ...(m.deduplicationId === undefined ? {} : { dedup: m.deduplicationId }),
  });
  // What the journal is rewritten to: every dead letter, the deduplication ids still in their window, the live messages in order.
  const current = {
    live: new Map(live),
    deadLetters: [...deadLetters],
    seen: new Map(seen),
  };
  let lines = 0;
  const compact = (): void => {
    const at = Date.now();
    for (const [id, sentAt] of current.seen) if (at - sentAt > DEDUP_WINDOW_MS) current.seen.delete(id);
    const out: Line[] = [
      ...current.deadLetters.map((d): Line => ({ op: 'dead-letter', id: d.messageId, body: d.body, receives: d.receiveCount, ...(d.groupId === undefined ? {} : { group: d.groupId }) })),
      ...[...current.seen].map(([dedup, sentAt]): Line => ({ op: 'seen', dedup, at: sentAt })),
      ...[...current.live.values()].flatMap((m): Line[] => [
        sendLine(m),
        ...(m.receiveCount ? [{ op: 'receive' as const, id: m.messageId, receives: m.receiveCount, visible: m.visibleAt ?? 0 }] : []),
      ]),
    ];
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, out.map((l) => `${JSON.stringify(l)}\n`).join(''));
    renameSync(temp, file);
    lines = out.length;
  };
  compact();
  const append = (entry: Line): void => {
    appendFileSync(file, `${JSON.stringify(entry)}\n`);
    lines += 1;
    if (lines > 2 * current.live.size + current.seen.size + current.deadLetters.length + COMPACT_SLACK) compact();
  };

  return {
    restored: { messages: [...live.values()], deadLetters, seen },
    sent: (message) => {
      current.live.set(message.messageId, message);
      if (message.deduplicationId !== undefined) current.seen.set(message.deduplicationId, message.sentAt);
      append(sendLine(message));
    },
    received: (messageId, receiveCount, visibleAt) => {
      const message = current.live.get(messageId);
      if (!message) return;
      current.live.set(messageId, { ...message, receiveCount, visibleAt });
      append({ op: 'receive', id: messageId, receives: receiveCount, visible: visibleAt });
    },
    deleted: (messageId) => {
      if (!current.live.delete(messageId)) return;
      append({ op: 'delete', id: messageId });
    },
    deadLettered: (letter) => {
      current.live.delete(letter.messageId);
      current.deadLetters.push(letter);
      append({ op: 'dead', id: letter.messageId, receives: letter.receiveCount });
    },
  };
};
