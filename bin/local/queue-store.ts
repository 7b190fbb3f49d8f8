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
 * What is not kept: receive counts and visibility. A message in flight when the process died is
 * visible again at once after a restart (its consumer died with the process), as SQS redelivers
 * one whose consumer never deleted it; consumers are idempotent, so at least once is enough.
 */
export interface StoredMessage {
  messageId: string;
  body: string;
  sentAt: number;
  /** FIFO only. */
  groupId?: string;
  deduplicationId?: string;
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
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
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
      ...[...current.live.values()].map(sendLine),
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
    if (lines > current.live.size + current.seen.size + current.deadLetters.length + COMPACT_SLACK) compact();
  };

  return {
    restored: { messages: [...live.values()], deadLetters, seen },
    sent: (message) => {
      current.live.set(message.messageId, message);
      if (message.deduplicationId !== undefined) current.seen.set(message.deduplicationId, message.sentAt);
      append(sendLine(message));
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
