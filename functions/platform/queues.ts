import { traced } from './tracing';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';

/**
 * Sending to a FIFO queue that a function (not an EventBridge rule) feeds: SQS's SendMessageBatch
 * in AWS, the in-process queue of bin/local/queues.ts locally. Which one is named by the queue's
 * env var (`queueUrlEnv(name)`): an SQS URL, or `local:<name>` for a queue the local runtime
 * registered here. EventBridge cannot give each event its own message group (a rule's SQS target
 * takes one static MessageGroupId), which is why a function routes the messages.
 */
export interface FifoMessage {
  body: string;
  /** Messages of one group are delivered in order, one batch in flight at a time. */
  groupId: string;
  /** SQS drops a message whose id it saw in the last 5 minutes (a retried send). */
  deduplicationId: string;
}

export interface QueueSender {
  send(messages: readonly FifoMessage[]): Promise<void>;
}

/** The env var holding a queue's URL (its name in functions/wiring.ts, upper-cased). */
export const queueUrlEnv = (name: string): string => `QUEUE_URL_${name.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;

/** SQS allows 128 characters in a group or deduplication id: longer ones are hashed (sha256 hex is 64). */
export const fifoId = (...parts: string[]): string => {
  const plain = parts.join('#');
  return plain.length <= 128 && /^[\w!"#$%&'()*+,\-./:;<=>?@[\\\]^`{|}~]+$/.test(plain) ? plain : createHash('sha256').update(plain).digest('hex');
};

const LOCAL = 'local:';
const localQueues = new Map<string, (messages: readonly FifoMessage[]) => void>();

/** The local runtime's queue `name` takes what `send` is given for `local:<name>`. Answers the unregister. */
export const registerLocalQueue = (name: string, receive: (messages: readonly FifoMessage[]) => void): (() => void) => {
  localQueues.set(name, receive);
  return () => {
    if (localQueues.get(name) === receive) localQueues.delete(name);
  };
};

let sqs: SQSClient | undefined;

/** SendMessageBatch takes at most 10 messages; a failed entry is sent again (its dedup id keeps it single), then the call fails. */
const sqsSender = (url: string): QueueSender => ({
  async send(messages) {
    sqs ??= traced(new SQSClient({}));
    for (let at = 0; at < messages.length; at += 10) {
      let pending = messages.slice(at, at + 10).map((m, index) => ({ Id: String(index), MessageBody: m.body, MessageGroupId: m.groupId, MessageDeduplicationId: m.deduplicationId }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }));
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        pending = pending.filter((entry) => failed.has(entry.Id));
        if (pending.length > 0 && attempt >= 2) throw new Error(`SQS refused ${pending.length} message(s): ${(out.Failed ?? []).map((f) => f.Code).join(', ')}`);
      }
    }
  },
});

/** The sender of queue `name`, from its env var. */
export const queueSenderFromEnv = (name: string): QueueSender => {
  const url = process.env[queueUrlEnv(name)];
  if (!url) throw new Error(`${queueUrlEnv(name)} is not set: the queue ${name} has no URL`);
  if (url.startsWith(LOCAL)) {
    const local = url.slice(LOCAL.length);
    return {
      send: async (messages) => {
        const receive = localQueues.get(local);
        if (!receive) throw new Error(`the local queue ${local} is not running`);
        receive(messages);
      },
    };
  }
  return sqsSender(url);
};
