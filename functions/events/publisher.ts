import { errorMessage } from '../platform/errors';
import type { DomainEvent } from './model';

/**
 * Where events go: EventBridge in AWS, the in-process bus locally. Both
 * speak PutEvents (entries in, per-entry results out), so one adapter
 * (`putEventsPublisher`) turns either into a `Publisher`.
 */
export interface Publisher {
  /**
   * Publishes `events` in order. Resolves with the indexes that were NOT
   * published (empty: all were). Rejects when the outcome is unknown (a
   * network error mid-call): the caller then treats every event as maybe
   * published, maybe not.
   */
  publish(events: readonly DomainEvent[]): Promise<{ failed: { index: number; reason: string }[] }>;
}

/** The subset of EventBridge's PutEvents request entry we use. */
export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
  Time?: Date;
  /** ARNs the event is about (EventBridge's `resources`; a CloudWatch alarm state change names its alarm). */
  Resources?: string[];
}

/** The subset of EventBridge's PutEvents response we read. */
export interface PutEventsResult {
  FailedEntryCount?: number;
  Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

export type PutEvents = (entries: PutEventsEntry[]) => Promise<PutEventsResult>;

/** PutEvents accepts at most 10 entries and 256 KiB per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/** EventBridge's size rule for an entry: UTF-8 bytes of Source, DetailType, Detail, plus 14 for Time. */
export const entrySize = (entry: PutEventsEntry): number =>
  Buffer.byteLength(entry.Source) + Buffer.byteLength(entry.DetailType) + Buffer.byteLength(entry.Detail) + (entry.Time ? 14 : 0);

export const toEntry = (event: DomainEvent, busName: string): PutEventsEntry => ({
  Source: event.source,
  DetailType: event['detail-type'],
  Detail: JSON.stringify(event.detail),
  EventBusName: busName,
  Time: new Date(event.detail.occurred_at),
});

/** Consecutive chunks within PutEvents' limits, as index ranges [start, end). */
const chunks = (entries: PutEventsEntry[]): [number, number][] => {
  const out: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  entries.forEach((entry, i) => {
    const size = entrySize(entry);
    if (i > start && (i - start >= PUT_EVENTS_MAX_ENTRIES || bytes + size > PUT_EVENTS_MAX_BYTES)) {
      out.push([start, i]);
      start = i;
      bytes = 0;
    }
    bytes += size;
  });
  if (start < entries.length) out.push([start, entries.length]);
  return out;
};

/**
 * A Publisher over PutEvents: chunks within the API's limits, sends the
 * chunks one after another, and stops at the first chunk with a failed
 * entry (FailedEntryCount > 0), reporting every later event as not
 * published, so the caller can keep the stream's order by retrying from
 * the first failure. A rejected call (a network error: unknown outcome)
 * counts its chunk and the rest as failed; the caller retries them, which
 * may duplicate that chunk if it had in fact landed (consumers tolerate it).
 */
export const putEventsPublisher = (putEvents: PutEvents, busName: string): Publisher => ({
  publish: async (events) => {
    const entries = events.map((event) => toEntry(event, busName));
    const failed: { index: number; reason: string }[] = [];
    const markRest = (from: number, reason: string) => {
      for (let i = from; i < entries.length; i += 1) if (!failed.some((f) => f.index === i)) failed.push({ index: i, reason });
    };
    for (const [start, end] of chunks(entries)) {
      let result: PutEventsResult;
      try {
        result = await putEvents(entries.slice(start, end));
      } catch (error) {
        markRest(start, `PutEvents failed: ${errorMessage(error)}`);
        break;
      }
      if ((result.FailedEntryCount ?? 0) > 0) {
        (result.Entries ?? []).forEach((entry, i) => {
          if (entry.ErrorCode) failed.push({ index: start + i, reason: `${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}` });
        });
        // FailedEntryCount without per-entry codes: nothing tells which failed, so none count as published.
        if (failed.length === 0) markRest(start, 'PutEvents reported failed entries without saying which');
        markRest(end, 'not attempted: an earlier entry failed');
        break;
      }
    }
    return { failed: failed.sort((a, b) => a.index - b.index) };
  },
});
