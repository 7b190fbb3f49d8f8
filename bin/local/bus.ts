import type { EventBridgeEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import {
  entrySize,
  PUT_EVENTS_MAX_BYTES,
  PUT_EVENTS_MAX_ENTRIES,
  putEventsPublisher,
  type Publisher,
  type PutEventsEntry,
  type PutEventsResult,
} from '../../functions/events/publisher';
import { errorMessage } from '../../functions/platform/errors';
import { log } from '../../functions/platform/log';

/**
 * The local stand-in for the EventBridge bus: PutEvents in (same entries,
 * same per-entry result), rules with EventBridge event patterns, targets
 * invoked asynchronously with the event EventBridge would deliver, and an
 * in-memory log of everything published (tests; a debug view later).
 *
 * Patterns: a field's array lists accepted values (exact match; an array
 * field matches if any element does), nested objects match nested fields,
 * and the content filters `prefix`, `suffix`, `equals-ignore-case`,
 * `anything-but`, `exists` and `numeric` work as in EventBridge.
 */
export const LOCAL_BUS_NAME = 'stockroom-local';
/** The account and region the local runtime's events (and alarm ARNs) name. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'local';

export type BusEvent = EventBridgeEvent<string, unknown>;
export type Target = (event: BusEvent) => unknown;
export interface EventPattern {
  [field: string]: readonly unknown[] | EventPattern;
}
export interface BusRule {
  name: string;
  pattern: EventPattern;
  targets: Target[];
  /**
   * Call the targets inside PutEvents, before it answers (a synchronous target such as a local queue's send): an event the
   * bus accepted is then already in the queue, as EventBridge keeps it once it answers, so a process killed right after
   * the stream processor published loses nothing. A target that throws is delivered again the asynchronous way,
   * with its retries.
   */
  immediate?: boolean;
}
export interface DeliveryFailure {
  rule: string;
  event_id: string;
  error: string;
}

// ---------- pattern matching ----------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const numericMatch = (spec: readonly unknown[], value: unknown): boolean => {
  if (typeof value !== 'number') return false;
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const [op, bound] = [spec[i], spec[i + 1]];
    // A bound that is not a number is a malformed pattern (EventBridge refuses it): it matches nothing.
    if (typeof bound !== 'number') return false;
    const ok =
      op === '<' ? value < bound : op === '<=' ? value <= bound : op === '=' ? value === bound : op === '>' ? value > bound : op === '>=' ? value >= bound : false;
    if (!ok) return false;
  }
  return true;
};

/** One element of a pattern array against one scalar value (exists is handled by the caller). */
const matchOne = (rule: unknown, value: unknown): boolean => {
  if (!isObject(rule)) return rule === value;
  if ('prefix' in rule) return typeof value === 'string' && typeof rule.prefix === 'string' && value.startsWith(rule.prefix);
  if ('suffix' in rule) return typeof value === 'string' && typeof rule.suffix === 'string' && value.endsWith(rule.suffix);
  if ('equals-ignore-case' in rule)
    return typeof value === 'string' && typeof rule['equals-ignore-case'] === 'string' && value.toLowerCase() === rule['equals-ignore-case'].toLowerCase();
  if ('numeric' in rule) return Array.isArray(rule.numeric) && numericMatch(rule.numeric, value);
  if ('anything-but' in rule) {
    const but = rule['anything-but'];
    if (isObject(but)) return !matchOne(but, value);
    return !(Array.isArray(but) ? but : [but]).some((b) => b === value);
  }
  return false;
};

const matchField = (rules: readonly unknown[], present: boolean, value: unknown): boolean => {
  const values = Array.isArray(value) ? value : [value];
  return rules.some((rule) => {
    if (isObject(rule) && 'exists' in rule) return rule.exists === present;
    return present && values.some((v) => matchOne(rule, v));
  });
};

/** A pattern field is either the list of values it accepts, or a nested pattern. */
const isValueList = (rule: EventPattern[string]): rule is readonly unknown[] => Array.isArray(rule);

/** Whether `event` (as delivered: source, detail-type, detail, ...) matches an EventBridge event pattern. */
export const matches = (pattern: EventPattern, event: object): boolean =>
  Object.entries(pattern).every(([field, rule]) => {
    const value: unknown = Object.prototype.hasOwnProperty.call(event, field) ? Reflect.get(event, field) : undefined;
    const present = value !== undefined;
    if (isValueList(rule)) return matchField(rule, present, value);
    return present && isObject(value) && matches(rule, value);
  });

// ---------- the bus ----------

const DELIVERY_ATTEMPTS = 3;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface LocalBusOptions {
  name?: string;
  /** How many published events the log keeps (oldest dropped first). */
  maxLog?: number;
  rules?: BusRule[];
}

export class LocalBus {
  readonly name: string;
  /** Every event published, oldest first (bounded by maxLog). */
  readonly log: BusEvent[] = [];
  readonly deliveryFailures: DeliveryFailure[] = [];
  private readonly rules = new Map<string, BusRule>();
  private readonly maxLog: number;
  private readonly inFlight = new Set<Promise<void>>();
  private subscriptions = 0;

  constructor(options: LocalBusOptions = {}) {
    this.name = options.name ?? LOCAL_BUS_NAME;
    this.maxLog = options.maxLog ?? 10_000;
    for (const rule of options.rules ?? []) this.addRule(rule);
  }

  /** PutEvents: each entry is checked and published on its own, like EventBridge. */
  async putEvents(entries: PutEventsEntry[]): Promise<PutEventsResult> {
    if (entries.length === 0 || entries.length > PUT_EVENTS_MAX_ENTRIES)
      throw new Error(`PutEvents takes 1 to ${PUT_EVENTS_MAX_ENTRIES} entries, got ${entries.length}`);
    const total = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
    if (total > PUT_EVENTS_MAX_BYTES) throw new Error(`PutEvents request of ${total} bytes exceeds ${PUT_EVENTS_MAX_BYTES}`);
    const results = entries.map((entry) => this.accept(entry));
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  }

  /** The Publisher the stream processor uses locally (same adapter as EventBridge's). */
  publisher(): Publisher {
    return putEventsPublisher((entries) => this.putEvents(entries), this.name);
  }

  addRule(rule: BusRule): () => void {
    if (this.rules.has(rule.name)) throw new Error(`rule ${rule.name} exists`);
    this.rules.set(rule.name, rule);
    return () => this.rules.delete(rule.name);
  }

  /** A rule with one target, for tests: returns the unsubscribe function. */
  subscribe(pattern: EventPattern, target: Target): () => void {
    this.subscriptions += 1;
    return this.addRule({ name: `subscription-${this.subscriptions}`, pattern, targets: [target] });
  }

  /** Events in the log matching a pattern. */
  find(pattern: EventPattern): BusEvent[] {
    return this.log.filter((event) => matches(pattern, event));
  }

  /** Resolves once every delivery started so far has finished (or given up). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private accept(entry: PutEventsEntry): { EventId?: string; ErrorCode?: string; ErrorMessage?: string } {
    if (entry.EventBusName && entry.EventBusName !== this.name)
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${entry.EventBusName} does not exist.` };
    if (!entry.Source || !entry.DetailType) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source and DetailType are required' };
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (!isObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object.' };
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: LOCAL_ACCOUNT,
      // EventBridge delivers whole seconds.
      time: (entry.Time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: LOCAL_REGION,
      resources: entry.Resources ?? [],
      detail,
    };
    this.log.push(event);
    if (this.log.length > this.maxLog) this.log.splice(0, this.log.length - this.maxLog);
    for (const rule of this.rules.values())
      if (matches(rule.pattern, event)) for (const target of rule.targets) if (!(rule.immediate && this.deliverNow(target, event))) this.deliver(rule, target, event);
    return { EventId: event.id };
  }

  /** True when the target took the event (an asynchronous one is awaited by idle()); false, to deliver it the usual way, if it threw. */
  private deliverNow(target: Target, event: BusEvent): boolean {
    try {
      const result = target(event);
      if (result instanceof Promise) {
        // Started already: it must not be delivered twice, so its outcome is awaited like a delivery's.
        const run = result.then(
          () => undefined,
          (error: unknown) => log.error('event delivery failed', { event_id: event.id, error: errorMessage(error), detail_type: event['detail-type'] }),
        );
        this.inFlight.add(run);
        void run.finally(() => this.inFlight.delete(run));
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Asynchronous, like EventBridge: a few attempts with backoff, then the failure is logged and kept. */
  private deliver(rule: BusRule, target: Target, event: BusEvent): void {
    const run = (async () => {
      await new Promise((r) => setImmediate(r));
      for (let attempt = 1; ; attempt += 1) {
        try {
          await target(event);
          return;
        } catch (error) {
          if (attempt >= DELIVERY_ATTEMPTS) {
            const failure = { rule: rule.name, event_id: event.id, error: errorMessage(error) };
            this.deliveryFailures.push(failure);
            log.error('event delivery failed', { ...failure, detail_type: event['detail-type'] });
            return;
          }
          await sleep(50 * 2 ** attempt);
        }
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }
}

/** The one rule the local runtime has today: every domain event as a log line. */
export const loggingRule = (source = 'stockroom'): BusRule => ({
  name: 'log-domain-events',
  pattern: { source: [source] },
  targets: [
    (event) => {
      // accept() publishes only events whose detail is an object.
      const detail = isObject(event.detail) ? event.detail : {};
      log.info('event', { detail_type: event['detail-type'], event_id: detail.event_id, tenant_id: detail.tenant_id });
    },
  ],
});
