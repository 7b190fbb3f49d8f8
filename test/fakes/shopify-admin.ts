import type { IncomingMessage } from 'node:http';
import { Bucket, PlatformFake, type Reply } from './server';

/**
 * A fake Shopify Admin GraphQL API speaking the wire format of docs/brief research section 1:
 * `POST /admin/api/:version/graphql.json` with `X-Shopify-Access-Token`; `productVariants` by
 * `sku:"..."` and `inventorySetQuantities` (name "available", `changeFromQuantity` compare-and-swap,
 * `@idempotent(key:)`); `extensions.cost` from a leaky bucket, and THROTTLED in an HTTP 200 with no
 * `data` when the bucket is short. It matches operations by field name, not by a GraphQL parser.
 */
export interface FakeVariant {
  variantId: string;
  sku: string;
  inventoryItemId: string;
  /** available per location id */
  levels: Map<string, number>;
}

export const LOOKUP_COST = 12;
export const SET_COST = 10;
export const READ_COST = 2;

interface Remembered {
  input: string;
  reply: Reply;
}

export class ShopifyAdminFake extends PlatformFake {
  readonly variants: FakeVariant[] = [];
  readonly bucket = new Bucket(1000, 50);
  /** Mutations that changed something (an idempotent replay does not count). */
  applied = 0;
  /** Every quantity a mutation set, in order, per `inventoryItemId|locationId` (tests check nothing was set twice). */
  readonly history = new Map<string, number[]>();
  /** The same, with when each was set (the channel bench measures sync lag from it). */
  readonly timeline: { key: string; quantity: number; at: number }[] = [];
  private readonly idempotency = new Map<string, Remembered>();
  private nextId = 1;

  constructor(readonly accessToken = 'shpat_fake_token') {
    super();
  }

  protected handleRequest(req: IncomingMessage, body: string, url: URL): Reply {
    return this.handle(req.method ?? '', req.headers['x-shopify-access-token'], body, url);
  }

  static async start(accessToken?: string): Promise<ShopifyAdminFake> {
    const fake = new ShopifyAdminFake(accessToken);
    await fake.server.start();
    return fake;
  }

  /** Add a variant with `available` per location name; answers its global ids. */
  addVariant(sku: string, levels: Record<string, number>): FakeVariant {
    const n = this.nextId++;
    const variant: FakeVariant = {
      variantId: `gid://shopify/ProductVariant/${n}`,
      sku,
      inventoryItemId: `gid://shopify/InventoryItem/${n}`,
      levels: new Map(Object.entries(levels).map(([loc, q]) => [locationGid(loc), q])),
    };
    this.variants.push(variant);
    return variant;
  }

  /** Drift: change a quantity behind the client's back. */
  setQuantity(inventoryItemId: string, locationId: string, quantity: number): void {
    this.item(inventoryItemId)?.levels.set(locationId, quantity);
  }

  getQuantity(inventoryItemId: string, locationId: string): number | undefined {
    return this.item(inventoryItemId)?.levels.get(locationId);
  }

  /** Change the bucket (a plan's size and restore rate), optionally emptying it to `currentlyAvailable`. */
  throttle({ maximumAvailable, restoreRate, currentlyAvailable }: { maximumAvailable?: number; restoreRate?: number; currentlyAvailable?: number }): void {
    if (maximumAvailable !== undefined) this.bucket.capacity = maximumAvailable;
    if (restoreRate !== undefined) this.bucket.rate = restoreRate;
    this.bucket.set(currentlyAvailable ?? this.bucket.available());
  }


  private item(inventoryItemId: string): FakeVariant | undefined {
    return this.variants.find((v) => v.inventoryItemId === inventoryItemId);
  }

  private cost(requested: number, actual: number | null): unknown {
    return {
      requestedQueryCost: requested,
      actualQueryCost: actual,
      throttleStatus: { maximumAvailable: this.bucket.capacity, currentlyAvailable: Math.floor(this.bucket.available()), restoreRate: this.bucket.rate },
    };
  }

  private handle(method: string, token: string | string[] | undefined, body: string, url: URL): Reply {
    if (method !== 'POST' || !/^\/admin\/api\/\d{4}-\d{2}\/graphql\.json$/.test(url.pathname)) return { status: 404, body: { errors: 'Not Found' } };
    if (token !== this.accessToken) return { status: 401, body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' } };
    let parsed: { query?: unknown; variables?: Record<string, unknown> };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return { status: 400, body: { errors: [{ message: 'invalid JSON' }] } };
    }
    const query = typeof parsed.query === 'string' ? parsed.query : '';
    const variables = parsed.variables ?? {};
    const operation = query.includes('inventorySetQuantities')
      ? 'inventorySetQuantities'
      : query.includes('productVariants')
        ? 'productVariants'
        : query.includes('inventoryItem(')
          ? 'inventoryItem'
          : undefined;
    if (!operation) return { status: 200, body: { errors: [{ message: 'unsupported operation in the fake' }] } };
    const requested = operation === 'productVariants' ? LOOKUP_COST : operation === 'inventoryItem' ? READ_COST : SET_COST;
    if (!this.bucket.take(requested)) {
      return { status: 200, operation, body: { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }], extensions: { cost: this.cost(requested, null) } } };
    }
    const data =
      operation === 'productVariants' ? this.productVariants(variables) : operation === 'inventoryItem' ? this.inventoryItem(variables) : this.setQuantities(query, variables);
    if ('reply' in data) return { ...data.reply, operation };
    return { status: 200, operation, body: { data: data.data, extensions: { cost: this.cost(requested, requested) } } };
  }

  private productVariants(variables: Record<string, unknown>): { data: unknown } {
    const q = typeof variables.query === 'string' ? variables.query : '';
    const match = /^sku:"((?:[^"\\]|\\.)*)"$/.exec(q);
    const wanted = match?.[1]?.replace(/\\(.)/g, '$1');
    // Shopify's search is looser than equality (prefix/token matches): the fake matches by prefix
    // so the client's exact-match filter is exercised.
    const nodes = wanted === undefined ? [] : this.variants.filter((v) => v.sku.startsWith(wanted)).slice(0, 2);
    return {
      data: {
        productVariants: {
          nodes: nodes.map((v) => ({
            id: v.variantId,
            sku: v.sku,
            inventoryItem: {
              id: v.inventoryItemId,
              inventoryLevels: { nodes: [...v.levels].map(([loc, q]) => ({ location: { id: loc }, quantities: [{ name: 'available', quantity: q }] })) },
            },
          })),
        },
      },
    };
  }

  private inventoryItem(variables: Record<string, unknown>): { data: unknown } {
    const v = typeof variables.id === 'string' ? this.item(variables.id) : undefined;
    const quantity = v && typeof variables.locationId === 'string' ? v.levels.get(variables.locationId) : undefined;
    return {
      data: { inventoryItem: v ? { id: v.inventoryItemId, inventoryLevel: quantity === undefined ? null : { quantities: [{ name: 'available', quantity }] } } : null },
    };
  }

  private setQuantities(query: string, variables: Record<string, unknown>): { data: unknown } | { reply: Reply } {
    const key = /@idempotent\(\s*key:\s*("(?:[^"\\]|\\.)*")\s*\)/.exec(query)?.[1];
    const input = JSON.stringify(variables.input ?? null);
    const result = (payload: unknown): { data: unknown } => ({ data: { inventorySetQuantities: payload } });
    const userError = (code: string, message: string, field: string[] = ['input']) => result({ inventoryAdjustmentGroup: null, userErrors: [{ code, field, message }] });
    if (key === undefined) return userError('IDEMPOTENCY_KEY_REQUIRED', 'The @idempotent directive is required for this mutation.');
    const keyText = JSON.parse(key) as string;
    const seen = this.idempotency.get(keyText);
    if (seen) {
      if (seen.input !== input) return userError('IDEMPOTENCY_KEY_PARAMETER_MISMATCH', 'The same idempotency key was used with different parameters.');
      return { reply: seen.reply };
    }
    const outcome = this.apply(variables.input, result, userError);
    const reply: Reply = { status: 200, body: { data: outcome.data, extensions: { cost: this.cost(SET_COST, SET_COST) } } };
    this.idempotency.set(keyText, { input, reply });
    return outcome;
  }

  private apply(
    raw: unknown,
    result: (payload: unknown) => { data: unknown },
    userError: (code: string, message: string, field?: string[]) => { data: unknown },
  ): { data: unknown } {
    const input = raw as { name?: unknown; reason?: unknown; quantities?: unknown } | null;
    if (!input || input.name !== 'available') return userError('INVALID_NAME', 'name must be "available" in this fake', ['input', 'name']);
    if (typeof input.reason !== 'string') return userError('INVALID_REASON', 'reason is required', ['input', 'reason']);
    const quantities = Array.isArray(input.quantities) ? (input.quantities as { inventoryItemId?: unknown; locationId?: unknown; quantity?: unknown; changeFromQuantity?: unknown }[]) : [];
    const planned: { v: FakeVariant; loc: string; from: number; to: number }[] = [];
    for (const [i, q] of quantities.entries()) {
      const v = typeof q.inventoryItemId === 'string' ? this.item(q.inventoryItemId) : undefined;
      const loc = typeof q.locationId === 'string' ? q.locationId : '';
      if (!v) return userError('INVALID_INVENTORY_ITEM', 'The specified inventory item could not be found.', ['input', 'quantities', String(i), 'inventoryItemId']);
      const from = v.levels.get(loc);
      if (from === undefined) return userError('INVALID_LOCATION', 'The specified location could not be found.', ['input', 'quantities', String(i), 'locationId']);
      if (typeof q.quantity !== 'number' || !Number.isInteger(q.quantity)) return userError('INVALID_QUANTITY', 'quantity must be an integer', ['input', 'quantities', String(i), 'quantity']);
      if (!('changeFromQuantity' in q)) return userError('CHANGE_FROM_QUANTITY_REQUIRED', 'changeFromQuantity is required (null opts out).', ['input', 'quantities', String(i), 'changeFromQuantity']);
      if (q.changeFromQuantity !== null && q.changeFromQuantity !== from) {
        return userError('CHANGE_FROM_QUANTITY_STALE', 'The quantity has changed since it was last read.', ['input', 'quantities', String(i), 'changeFromQuantity']);
      }
      planned.push({ v, loc, from, to: q.quantity });
    }
    const changes = planned.filter((p) => p.from !== p.to);
    for (const p of changes) {
      p.v.levels.set(p.loc, p.to);
      const key = `${p.v.inventoryItemId}|${p.loc}`;
      this.history.set(key, [...(this.history.get(key) ?? []), p.to]);
      this.timeline.push({ key, quantity: p.to, at: Date.now() });
    }
    if (changes.length === 0) return result({ inventoryAdjustmentGroup: null, userErrors: [] });
    this.applied += 1;
    return result({
      inventoryAdjustmentGroup: { id: `gid://shopify/InventoryAdjustmentGroup/${this.nextId++}`, changes: changes.map((p) => ({ name: 'available', delta: p.to - p.from, quantityAfterChange: p.to })) },
      userErrors: [],
    });
  }
}

export const locationGid = (name: string): string => (name.startsWith('gid://') ? name : `gid://shopify/Location/${name}`);
