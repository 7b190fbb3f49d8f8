import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type AttributeValue as StreamAttributeValue,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as z from 'zod';
import { errorMessage, errorName } from '../../functions/platform/errors';
import { log } from '../../functions/platform/log';
import { streamProcessor } from '../../functions/wiring';

/**
 * The local stand-in for Lambda's DynamoDB event source mapping: polls
 * DynamoDB Local's stream and calls the stream processor with the same
 * `DynamoDBStreamEvent` Lambda would build, with Lambda's semantics:
 *
 * - shards are read in parallel, each in order; a child shard only after its
 *   parent is done; shards found after start are read from TRIM_HORIZON;
 * - batches of at most `batchSize` records from one shard;
 * - a partial batch response (`batchItemFailures`) or a thrown error retries
 *   from the first failed record (everything before it is checkpointed),
 *   with exponential backoff, up to `maxRetries` retries; then that record
 *   goes to the dead-letter list (`deadLetters`, and an error log line) and
 *   the shard moves on (in AWS, bisect-on-error isolates the same record
 *   and the SQS DLQ receives its batch's description).
 *
 * `drain()` resolves once every record written before the call has been
 * processed (or dead-lettered): tests wait on it.
 *
 * The checkpoint (the last record processed per shard) is kept in `checkpoints`: a poller started
 * with the checkpoints of one that stopped or crashed resumes after the last record that one
 * processed, as Lambda's mapping does, and does not apply `startingPosition` again.
 */
export type StreamProcess = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

export interface StreamPollerOptions {
  endpoint: string;
  tableName: string;
  process: StreamProcess;
  /** Default: functions/wiring.ts streamProcessor. */
  batchSize?: number;
  maxRetries?: number;
  /** How often an idle shard is polled (Lambda polls about 4 times a second). */
  pollIntervalMs?: number;
  /** First retry delay; doubles per retry, capped at 5 s. */
  retryBaseMs?: number;
  /**
   * Where to start the shards that exist at start: TRIM_HORIZON (everything
   * the stream still holds, the default, as the CDK mapping does) or LATEST
   * (only what is written from now on). Shards found later always start at
   * TRIM_HORIZON.
   */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Where the last poller on this stream got to (default: a fresh memoryCheckpoints(), i.e. nowhere yet). */
  checkpoints?: StreamCheckpoints;
}

/**
 * Lambda's per-shard checkpoint of an event source mapping: the sequence number of the last record
 * processed (or dead-lettered) in each shard, and whether the mapping has started on the stream at
 * all (after that, a shard without a checkpoint is read from TRIM_HORIZON: a poller that stopped
 * before it processed anything in a shard reads it again rather than skip what came meanwhile).
 */
export interface StreamCheckpoints {
  get(streamArn: string, shardId: string): string | undefined;
  set(streamArn: string, shardId: string, sequenceNumber: string): void;
  started(streamArn: string): boolean;
  markStarted(streamArn: string): void;
}

/** Checkpoints in memory: they outlive a poller, not the process (npm start --in-memory; otherwise fileCheckpoints). */
export const memoryCheckpoints = (): StreamCheckpoints => {
  const sequences = new Map<string, string>();
  const streams = new Set<string>();
  return {
    get: (arn, shardId) => sequences.get(`${arn} ${shardId}`),
    set: (arn, shardId, sequenceNumber) => void sequences.set(`${arn} ${shardId}`, sequenceNumber),
    started: (arn) => streams.has(arn),
    markStarted: (arn) => void streams.add(arn),
  };
};

const checkpointFile = z.object({ streams: z.array(z.string()), sequences: z.record(z.string(), z.string()) });

/**
 * Checkpoints in a JSON file (npm start's data dir), what Lambda's event source mapping keeps for a stream in AWS: a
 * runtime killed and started again on the same data dir resumes after the last record it processed. Each change
 * rewrites the file (a temp name, then a rename: a kill leaves the old or the new one, whole); it is a few lines, written
 * once a processed batch. A checkpoint one batch behind is harmless (the processor's markers), one ahead would lose it.
 */
export const fileCheckpoints = (file: string): StreamCheckpoints => {
  const sequences = new Map<string, string>();
  const streams = new Set<string>();
  try {
    const stored = checkpointFile.parse(JSON.parse(readFileSync(file, 'utf8')));
    for (const arn of stored.streams) streams.add(arn);
    for (const [key, sequence] of Object.entries(stored.sequences)) sequences.set(key, sequence);
  } catch (error) {
    if (!(typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT')) throw new Error(`stream checkpoint file ${file} is unreadable: ${errorMessage(error)}`, { cause: error });
  }
  mkdirSync(dirname(file), { recursive: true });
  const save = (): void => {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ streams: [...streams], sequences: Object.fromEntries(sequences) }));
    renameSync(temp, file);
  };
  return {
    get: (arn, shardId) => sequences.get(`${arn} ${shardId}`),
    set: (arn, shardId, sequenceNumber) => {
      sequences.set(`${arn} ${shardId}`, sequenceNumber);
      save();
    },
    started: (arn) => streams.has(arn),
    markStarted: (arn) => {
      if (streams.has(arn)) return;
      streams.add(arn);
      save();
    },
  };
};

export interface DeadLetter {
  shardId: string;
  record: DynamoDBRecord;
  attempts: number;
  error: string;
  at: string;
}

export interface StreamPoller {
  start(): Promise<void>;
  stop(): Promise<void>;
  drain(timeoutMs?: number): Promise<void>;
  readonly deadLetters: DeadLetter[];
  readonly stats: { batches: number; records: number; retries: number };
  /**
   * Lambda's IteratorAge, as the local evaluator samples it (bin/local/alarms.ts): how long ago the
   * oldest record read but not yet processed was written (its ApproximateCreationDateTime), 0 when
   * every record read is processed.
   */
  iteratorAgeMs(now?: number): number;
}

interface ShardState {
  id: string;
  parentId?: string;
  position: ShardIteratorType;
  iterator?: string;
  /** Set once GetRecords returned no next iterator (the shard is closed and read to its end). */
  closed: boolean;
  lastSequence?: string;
  buffer: DynamoDBRecord[];
  /** Failed attempts of the batch at the head of the buffer. */
  attempts: number;
  retryAt: number;
  lastError?: string;
  /** When the newest GetRecords was issued, and whether it reached the end of the shard. */
  fetchedAt: number;
  fetchedToEnd: boolean;
  /** Every record written before this instant has been processed. */
  caughtUpAt: number;
}

/** GetRecords returns at most 1,000 records. */
const GET_RECORDS_LIMIT = 1000;
const REFRESH_EVERY_MS = 1000;
const MAX_BACKOFF_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SDK attribute values -> the JSON Lambda receives (binary as base64). */
const toLambdaValue = (value: StreamAttributeValue): AttributeValue => {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.M !== undefined) return { M: toLambdaMap(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  // The SDK's catch-all for a type newer than it: Lambda's event has no field for it either.
  throw new Error(`stream record has an attribute of an unknown type: ${JSON.stringify(value.$unknown)}`);
};

const toLambdaMap = (image: Record<string, StreamAttributeValue>): Record<string, AttributeValue> =>
  Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toLambdaValue(v)]));

const toLambdaImage = (image: Record<string, StreamAttributeValue> | undefined): Record<string, AttributeValue> | undefined =>
  image && toLambdaMap(image);

/** One stream record as Lambda's event source mapping delivers it. */
export const toLambdaRecord = (record: _Record, streamArn: string): DynamoDBRecord => {
  const d = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    // INSERT, MODIFY or REMOVE: the SDK and Lambda's event declare the same names.
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(d.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      Keys: toLambdaImage(d.Keys),
      ...(d.NewImage ? { NewImage: toLambdaImage(d.NewImage) } : {}),
      ...(d.OldImage ? { OldImage: toLambdaImage(d.OldImage) } : {}),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
  };
};

export const createStreamPoller = (options: StreamPollerOptions): StreamPoller => {
  const config = { endpoint: options.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const dynamo = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  const batchSize = options.batchSize ?? streamProcessor.batchSize;
  const maxRetries = options.maxRetries ?? streamProcessor.maxRetries;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const retryBaseMs = options.retryBaseMs ?? 100;
  const checkpoints = options.checkpoints ?? memoryCheckpoints();

  const shards = new Map<string, ShardState>();
  const deadLetters: DeadLetter[] = [];
  const stats = { batches: 0, records: 0, retries: 0 };
  let streamArn: string | undefined;
  let refreshedAt = 0;
  let refreshDue = true;
  let firstDiscovery = true;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const nap = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });

  const refresh = async (): Promise<void> => {
    const startedAt = Date.now();
    const table = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${options.tableName} has no stream`);
    if (arn !== streamArn) {
      // A new stream (first start, or the table was re-created): everything in it is new to us.
      if (streamArn) firstDiscovery = false;
      streamArn = arn;
      shards.clear();
    }
    const found: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const out = await streams.send(new DescribeStreamCommand({ StreamArn: arn, ExclusiveStartShardId: exclusiveStartShardId }));
      found.push(...(out.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = out.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    const resumed = checkpoints.started(arn);
    const present = new Set(found.map((shard) => shard.ShardId));
    for (const [id, shard] of shards) {
      if (present.has(id)) continue;
      // Trimmed from the stream (past its retention) or gone with a DynamoDB Local that restarted: nothing more can be read from it.
      shards.delete(id);
      if (!done(shard)) log.warn('stream shard disappeared before it was read to its end', { shard_id: id, buffered: shard.buffer.length });
    }
    for (const shard of found) {
      if (!shard.ShardId || shards.has(shard.ShardId)) continue;
      const latest = firstDiscovery && !resumed && options.startingPosition === 'LATEST';
      const ending = shard.SequenceNumberRange?.EndingSequenceNumber;
      // A shard already closed when the mapping starts at LATEST is passed over: checkpointed at its end, so a resumed poller passes it over too.
      if (latest && ending) checkpoints.set(arn, shard.ShardId, ending);
      const lastSequence = checkpoints.get(arn, shard.ShardId);
      shards.set(shard.ShardId, {
        id: shard.ShardId,
        ...(shard.ParentShardId ? { parentId: shard.ParentShardId } : {}),
        ...(lastSequence ? { lastSequence } : {}),
        position: latest ? 'LATEST' : 'TRIM_HORIZON',
        // Starting at LATEST, a shard that is already closed holds nothing new; nor does a closed one checkpointed at its end.
        closed: (latest && Boolean(ending)) || (ending !== undefined && lastSequence === ending),
        buffer: [],
        attempts: 0,
        retryAt: 0,
        fetchedAt: 0,
        fetchedToEnd: false,
        caughtUpAt: 0,
      });
    }
    firstDiscovery = false;
    checkpoints.markStarted(arn);
    refreshedAt = startedAt;
  };

  const done = (shard: ShardState): boolean => shard.closed && shard.buffer.length === 0;

  /** A parent still being read holds its children back (records of one item stay in order across the split). */
  const ready = (shard: ShardState): boolean => {
    const parent = shard.parentId ? shards.get(shard.parentId) : undefined;
    return !parent || done(parent);
  };

  /** An iterator from the checkpoint (after the last processed record), or from the shard's starting position. */
  const openIterator = async (shard: ShardState, arn: string): Promise<void> => {
    const out = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: arn,
        ShardId: shard.id,
        ShardIteratorType: shard.lastSequence ? 'AFTER_SEQUENCE_NUMBER' : shard.position,
        ...(shard.lastSequence ? { SequenceNumber: shard.lastSequence } : {}),
      }),
    );
    shard.iterator = out.ShardIterator;
    if (!shard.iterator) shard.closed = true;
  };

  const fetch = async (shard: ShardState, arn: string): Promise<boolean> => {
    if (!shard.iterator) {
      await openIterator(shard, arn);
      if (!shard.iterator) return false;
    }
    const issuedAt = Date.now();
    let out;
    try {
      out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: GET_RECORDS_LIMIT }));
    } catch (error) {
      if (errorName(error) === 'ExpiredIteratorException') {
        shard.iterator = undefined;
        return true;
      }
      throw error;
    }
    const records = (out.Records ?? []).map((r) => toLambdaRecord(r, arn));
    shard.iterator = out.NextShardIterator;
    if (!shard.iterator) shard.closed = true;
    shard.buffer.push(...records);
    shard.fetchedAt = issuedAt;
    shard.fetchedToEnd = records.length < GET_RECORDS_LIMIT;
    if (shard.buffer.length === 0 && shard.fetchedToEnd) shard.caughtUpAt = issuedAt;
    return records.length > 0;
  };

  const advance = (shard: ShardState, arn: string, sequenceNumber: string): void => {
    shard.lastSequence = sequenceNumber;
    checkpoints.set(arn, shard.id, sequenceNumber);
  };

  const processBatch = async (shard: ShardState, arn: string): Promise<void> => {
    const batch = shard.buffer.slice(0, batchSize);
    let failedFrom = batch.length;
    let error = '';
    try {
      const response = await options.process({ Records: batch });
      const failures = response?.batchItemFailures ?? [];
      if (failures.length > 0) {
        // Lambda restarts from the lowest reported sequence number; an unknown identifier fails the whole batch.
        const indexes = failures.map((f) => batch.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier));
        failedFrom = indexes.includes(-1) ? 0 : Math.min(...indexes);
        error = 'reported in batchItemFailures';
      }
    } catch (thrown) {
      failedFrom = 0;
      error = errorMessage(thrown);
    }
    stats.batches += 1;
    stats.records += failedFrom;
    const checkpoint = batch[failedFrom - 1]?.dynamodb?.SequenceNumber;
    if (checkpoint) advance(shard, arn, checkpoint);
    shard.buffer.splice(0, failedFrom);
    if (failedFrom === batch.length) {
      shard.attempts = 0;
    } else {
      if (failedFrom > 0) shard.attempts = 0;
      shard.attempts += 1;
      shard.lastError = error;
      if (shard.attempts > maxRetries) {
        const [record] = shard.buffer.splice(0, 1);
        if (record) {
          const letter = { shardId: shard.id, record, attempts: shard.attempts, error, at: new Date().toISOString() };
          deadLetters.push(letter);
          if (record.dynamodb?.SequenceNumber) advance(shard, arn, record.dynamodb.SequenceNumber);
          log.error('stream record dead-lettered after retries', {
            shard_id: shard.id,
            sequence_number: record.dynamodb?.SequenceNumber,
            attempts: shard.attempts,
            error,
          });
        }
        shard.attempts = 0;
      } else {
        stats.retries += 1;
        shard.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** (shard.attempts - 1));
      }
    }
    if (shard.buffer.length === 0 && shard.fetchedToEnd) shard.caughtUpAt = shard.fetchedAt;
  };

  /** One step for one shard; true if it did work (so the loop should not sleep). */
  const step = async (shard: ShardState, arn: string): Promise<boolean> => {
    if (done(shard) || !ready(shard)) return false;
    if (shard.buffer.length === 0) return fetch(shard, arn);
    if (Date.now() < shard.retryAt) return false;
    await processBatch(shard, arn);
    return true;
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    while (running) {
      try {
        if (refreshDue || Date.now() - refreshedAt >= REFRESH_EVERY_MS) {
          refreshDue = false;
          await refresh();
        }
        const arn = streamArn;
        if (!arn) throw new Error('no stream');
        const worked = await Promise.all([...shards.values()].map((shard) => step(shard, arn)));
        failures = 0;
        if (!worked.some(Boolean) && running) {
          const retryAt = Math.min(...[...shards.values()].filter((s) => s.buffer.length > 0).map((s) => s.retryAt));
          await nap(Math.max(0, Math.min(pollIntervalMs, (Number.isFinite(retryAt) ? retryAt : Infinity) - Date.now())));
        }
      } catch (error) {
        failures += 1;
        if (failures === 1 || failures % 50 === 0) log.warn('stream poller error', { error: errorMessage(error), failures });
        refreshDue = true;
        // The iterators may not outlive what failed (DynamoDB Local restarted): reopen each from its checkpoint. Not a shard
        // opened at LATEST that has no checkpoint yet: reopened, it would skip what was written meanwhile.
        for (const shard of shards.values()) if (shard.lastSequence || shard.position === 'TRIM_HORIZON') shard.iterator = undefined;
        if (running) await nap(Math.min(MAX_BACKOFF_MS, pollIntervalMs * failures));
      }
    }
  };

  return {
    deadLetters,
    stats,
    iteratorAgeMs: (now = Date.now()) => {
      let oldest = Infinity;
      for (const shard of shards.values()) {
        const created = shard.buffer[0]?.dynamodb?.ApproximateCreationDateTime;
        if (created !== undefined) oldest = Math.min(oldest, created * 1000);
      }
      return oldest === Infinity ? 0 : Math.max(0, now - oldest);
    },
    start: async () => {
      if (running) return;
      // Find the shards and open LATEST iterators before returning, so "latest" means now, not the first poll.
      await refresh();
      const arn = streamArn;
      if (arn) for (const shard of shards.values()) if (shard.position === 'LATEST' && !shard.closed) await openIterator(shard, arn);
      running = true;
      loop = run();
    },
    stop: async () => {
      running = false;
      wake?.();
      await loop;
      dynamo.destroy();
      streams.destroy();
    },
    drain: async (timeoutMs = 30_000) => {
      const since = Date.now();
      refreshDue = true;
      wake?.();
      const deadline = since + timeoutMs;
      for (;;) {
        const states = [...shards.values()];
        if (refreshedAt >= since && states.every((s) => done(s) || s.caughtUpAt >= since)) return;
        if (!running) throw new Error('stream poller is not running');
        if (Date.now() > deadline) {
          const behind = states.filter((s) => !done(s) && s.caughtUpAt < since);
          throw new Error(
            `stream poller did not catch up within ${timeoutMs} ms: ${behind
              .map((s) => `${s.id} (${s.buffer.length} buffered, ${s.attempts} failed attempts${s.lastError ? `: ${s.lastError}` : ''})`)
              .join(', ')}`,
          );
        }
        await sleep(20);
      }
    },
  };
};
