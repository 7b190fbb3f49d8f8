import * as z from 'zod';
import type { Db } from '../platform/db';
import { keys } from '../platform/keys';
import { decodeWith, getItem } from '../platform/storage';
import { ConditionFailed, putItem, when, writeOne } from '../platform/writes';

/**
 * One rate limit per connection, shared by every worker that calls the platform for it (the push
 * workers run concurrently, in several Lambdas): a token bucket kept in the table
 * (keys.channelRecords(tenant, channel, 'PACER')), taken from with a conditional write on its
 * version, so two workers never both spend the last token.
 * - Amazon's Listings Items patch: 5 requests a second, burst 5 (the documented usage plan).
 * - Shopify: the shop's own leaky bucket of query cost. Its state comes back with every answer
 *   (`extensions.cost.throttleStatus`), so `observe` replaces ours with the shop's after each
 *   call, and `take` spends the cost we expect before the next.
 */
export interface BucketSpec {
  capacity: number;
  /** Tokens restored per second. */
  rate: number;
}

/**
 * Amazon's documented 5 a second, burst 5, kept with a margin: burst 2, restored at 4.5 a second.
 * Our bucket counts when we take a token, Amazon's when the request arrives, and arrivals bunch up
 * (the first requests wait for the LWA token, later ones for a busy event loop): pacing exactly at the
 * limit drew a 429 in every burst of test/integration/channel-push.test.ts (8 requests arrived within
 * 512 ms), and burst 4 still drew some on a loaded machine (load 8). With burst 2, Amazon's bucket
 * (5 + 5/s) stays ahead of ours (2 + 4.5/s) through about 0.6 s of bunching; the steady rate is what
 * matters for sync, and it is 90% of the limit.
 */
export const AMAZON_LISTINGS_BUCKET: BucketSpec = { capacity: 2, rate: 4.5 };
/** Shopify Standard plan's Admin GraphQL bucket until the shop tells us its own. */
export const SHOPIFY_DEFAULT_BUCKET: BucketSpec = { capacity: 1000, rate: 100 };

const bucketItem = z.object({ tokens: z.number(), capacity: z.number(), rate: z.number(), at: z.number(), version: z.number().int() }).loose();
type BucketItem = z.output<typeof bucketItem>;
const decodeBucket = decodeWith('pacer bucket', bucketItem);

const bucketKey = (tenantId: string, channelId: string, name: string) => ({ pk: keys.channelRecords(tenantId, channelId, 'PACER'), sk: name });

/** Tokens at `now`, refilled since the bucket was last written. */
const level = (bucket: BucketItem, now: number): number => Math.min(bucket.capacity, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * bucket.rate);

export class Pacer {
  /** Every wait it imposed, in ms (the bench reports them). */
  waitedMs = 0;

  constructor(
    private readonly db: Db,
    private readonly tenantId: string,
    private readonly channelId: string,
    private readonly name: string,
    private readonly spec: BucketSpec,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  private read(): Promise<BucketItem | undefined> {
    return getItem(this.db, bucketKey(this.tenantId, this.channelId, this.name), decodeBucket);
  }

  private async write(next: Omit<BucketItem, 'version'>, previous: BucketItem | undefined): Promise<boolean> {
    try {
      await writeOne(
        this.db,
        putItem(this.db, {
          name: 'pacer bucket',
          key: bucketKey(this.tenantId, this.channelId, this.name),
          entity: 'channel-pacer',
          tenantId: this.tenantId,
          value: { ...next, version: (previous?.version ?? 0) + 1 },
          when: when.newOrVersion(previous?.version),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionFailed) return false;
      throw error;
    }
  }

  /**
   * Spends `cost` tokens, waiting until they are there; false when they would not be there
   * before `deadline` (the caller leaves the work for a later delivery rather than overrun).
   */
  async take(cost: number, deadline: number): Promise<boolean> {
    for (;;) {
      const now = Date.now();
      const current = await this.read();
      const bucket = current ?? { tokens: this.spec.capacity, capacity: this.spec.capacity, rate: this.spec.rate, at: now, version: 0 };
      const tokens = level(bucket, now);
      if (tokens >= cost) {
        if (await this.write({ tokens: tokens - cost, capacity: bucket.capacity, rate: bucket.rate, at: now }, current)) return true;
        continue; // another worker took some meanwhile: read again
      }
      const waitMs = Math.ceil(((cost - tokens) / bucket.rate) * 1000);
      if (now + waitMs > deadline) return false;
      this.waitedMs += waitMs;
      await this.sleep(waitMs);
    }
  }

  /** The platform said how full its bucket is (Shopify's throttleStatus): ours becomes that. */
  async observe(state: { available: number; capacity: number; rate: number }): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.read();
      if (await this.write({ tokens: state.available, capacity: state.capacity, rate: state.rate, at: Date.now() }, current)) return;
    }
  }

  /** The platform refused for rate (a 429, a THROTTLED): nothing is left for `seconds`. */
  async exhaust(seconds: number): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.read();
      const capacity = current?.capacity ?? this.spec.capacity;
      const rate = current?.rate ?? this.spec.rate;
      if (await this.write({ tokens: -seconds * rate, capacity, rate, at: Date.now() }, current)) return;
    }
  }
}
