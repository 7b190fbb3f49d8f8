import type { Quantities, StockLevel } from './model';
import { incrementEffect, type IncrementType } from './stock-rules';
import type { StoredSubLevel } from './store';

/**
 * Sub-levels: one hot level (a flash-sale SKU in one warehouse) split into K
 * items, so its writes spread over K items instead of queueing on one. In AWS
 * one item takes at most 1,000 write units a second, so one level tops out
 * near 500 transactional writes a second; K sub-levels take K times that.
 *
 * Sub-level 0 is the level item itself: it keeps the thresholds, `incoming`
 * and `sub_levels` (K), and its own share of on_hand, reserved and available.
 * Sub-levels 1..K-1 are items of their own (store.ts). The level is always
 * the sum, and every read sums (stock.ts), so nothing outside inventory ever
 * sees a part.
 *
 * Writes: a blind increment picks one part at random among those that, as
 * last read, can take it; when none can alone but the sum can, it is split
 * over several parts in the same transaction, so an order is never refused
 * while the sum could cover it. A part that turned out short cancels the
 * transaction and the next attempt reads the parts again; only the sum
 * refuses. A writer that does not know a level is split writes sub-level 0,
 * which is always right, only not spread. Changes planned from the level in
 * hand (counts, expectations, thresholds), a rebalance and a change of K
 * write every part at once (distribute), conditioned on the versions read.
 *
 * This module is the pure part: the sums, which parts a change goes to, how
 * units are spread over K parts, and the container's memory of how each hot
 * level is split.
 */

/** At most this many sub-levels: a change of K writes every part and the level in one transaction. */
export const MAX_SUB_LEVELS = 10;

/** One part's share of a level; index 0 is the level item's own. */
export interface Part {
  index: number;
  on_hand: number;
  reserved: number;
  available: number;
}

/** A split level as stored: the level item (sub-level 0) and sub-levels 1..K-1. */
export interface Split {
  header: StockLevel;
  subs: StoredSubLevel[];
}

export const subLevelCount = (level: Pick<StockLevel, 'sub_levels'>): number => level.sub_levels ?? 1;

export const isSplit = (level: Pick<StockLevel, 'sub_levels'>): boolean => subLevelCount(level) > 1;

export const partsOf = ({ header, subs }: Split): Part[] => [
  { index: 0, on_hand: header.on_hand, reserved: header.reserved, available: header.available },
  ...subs.map((s) => ({ index: s.sub_level, on_hand: s.on_hand, reserved: s.reserved, available: s.available })),
];

/**
 * The level a split stands for: the quantities summed, the version the sum of
 * the parts' versions (it grows with every change to any part), the latest
 * update of any part.
 */
export const summed = ({ header, subs }: Split): StockLevel => {
  const latest = subs.reduce<string | null>((at, s) => (s.updated_at && (!at || s.updated_at > at) ? s.updated_at : at), header.updated_at);
  return {
    ...header,
    on_hand: subs.reduce((n, s) => n + s.on_hand, header.on_hand),
    reserved: subs.reduce((n, s) => n + s.reserved, header.reserved),
    available: subs.reduce((n, s) => n + s.available, header.available),
    version: subs.reduce((n, s) => n + s.version, header.version),
    updated_at: latest,
  };
};

/** `total` in `count` whole shares that differ by at most one, the larger first. */
const shares = (total: number, count: number): number[] =>
  Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));

/**
 * The level's on_hand and reserved spread evenly over `count` parts. Every
 * part keeps on_hand >= reserved (so available >= 0): both are split the same
 * way, the larger shares first, and on_hand >= reserved overall.
 */
export const distribute = (level: Pick<Quantities, 'on_hand' | 'reserved'>, count: number): Part[] => {
  const onHand = shares(level.on_hand, count);
  const reserved = shares(level.reserved, count);
  return onHand.map((on_hand, index) => {
    const held = reserved[index] ?? 0;
    return { index, on_hand, reserved: held, available: on_hand - held };
  });
};

/** One part's piece of a change: the same type, its share of the quantity (signed as the change is). */
export interface PartChange {
  index: number;
  quantity: number;
}

const pick = <T>(from: readonly T[], random: () => number): T | undefined => from[Math.floor(random() * from.length)];

/**
 * Which parts a change goes to, from the parts as last read. Changes to
 * `incoming` go to sub-level 0, which holds all of it. Arrivals go to one
 * part at random. A change guarded by available (a sale, an allocation) or
 * reserved (a release, a shipment) goes to a random part that can take it
 * whole, else is split over the parts that hold the most, largest first;
 * 'short' when the parts together cannot cover it (the caller decides from
 * the sum, after reading them again if what it knew may be stale).
 */
export const spread = (
  parts: readonly Part[],
  change: { type: IncrementType; quantity: number },
  random: () => number = Math.random,
): PartChange[] | 'short' => {
  const effect = incrementEffect(change);
  if (effect.deltas.incoming !== 0 || parts.length <= 1) return [{ index: 0, quantity: change.quantity }];
  const guard = effect.guards.find((g) => g.atLeast !== undefined && (g.attribute === 'available' || g.attribute === 'reserved'));
  if (!guard) {
    const part = pick(parts, random);
    return [{ index: part?.index ?? 0, quantity: change.quantity }];
  }
  const attribute = guard.attribute as 'available' | 'reserved';
  const sign = change.quantity < 0 ? -1 : 1;
  const needed = Math.abs(change.quantity);
  const whole = parts.filter((p) => p[attribute] >= needed);
  const one = pick(whole, random);
  if (one) return [{ index: one.index, quantity: change.quantity }];
  const pieces: PartChange[] = [];
  let left = needed;
  for (const part of [...parts].sort((a, b) => b[attribute] - a[attribute])) {
    if (left === 0) break;
    const take = Math.min(left, part[attribute]);
    if (take <= 0) break;
    pieces.push({ index: part.index, quantity: sign * take });
    left -= take;
  }
  return left === 0 ? pieces : 'short';
};

/**
 * What this container last read of each split level's parts. Only a hint for
 * where to write: a stale entry costs a cancelled attempt and a fresh read,
 * never a wrong answer (every part write is conditional, and sub-level 0 is
 * always there). Bounded: the oldest entries go first.
 */
const KNOWN_FOR_MS = 10_000;
const MAX_KNOWN = 10_000;
const known = new Map<string, { parts: Part[]; at: number }>();

const knownKey = (tenantId: string, skuId: string, warehouseId: string): string => `${tenantId}\u0000${skuId}\u0000${warehouseId}`;

export const rememberParts = (tenantId: string, level: { sku_id: string; warehouse_id: string }, parts: Part[] | undefined, now = Date.now()): void => {
  const key = knownKey(tenantId, level.sku_id, level.warehouse_id);
  known.delete(key);
  if (!parts || parts.length <= 1) return;
  known.set(key, { parts, at: now });
  if (known.size > MAX_KNOWN) {
    const oldest = known.keys().next().value;
    if (oldest !== undefined) known.delete(oldest);
  }
};

/** The parts this container last read of a level, if it is split and that was recent. */
export const knownParts = (tenantId: string, level: { sku_id: string; warehouse_id: string }, now = Date.now()): Part[] | undefined => {
  const entry = known.get(knownKey(tenantId, level.sku_id, level.warehouse_id));
  return entry && now - entry.at <= KNOWN_FOR_MS ? entry.parts : undefined;
};

/** One part's share of a rebalance: `delta` units of available (and on hand) in (+) or out (-). */
export interface PartMove {
  index: number;
  delta: number;
}

/**
 * How to even out a split level's available units with blind moves: each
 * part ends with an even share of the sum's available (the larger shares to
 * the parts holding the most, so the fewest units move); reserved units stay
 * where they are, since releases and shipments find them by what each part
 * holds. The moves sum to zero; a move out is guarded by the part still
 * having it, so a rebalance racing a flash sale never takes a part below
 * zero, it is only cancelled.
 */
export const rebalanceMoves = (parts: readonly Part[]): PartMove[] => {
  const sum = parts.reduce((n, p) => n + p.available, 0);
  const targets = shares(sum, parts.length);
  return [...parts]
    .sort((a, b) => b.available - a.available || a.index - b.index)
    .map((p, rank) => ({ index: p.index, delta: (targets[rank] ?? 0) - p.available }))
    .filter((m) => m.delta !== 0);
};

/** Are a split level's parts uneven enough to be worth a rebalance: some part holds under half its even share? */
export const isUneven = (parts: readonly Part[]): boolean => {
  const even = parts.reduce((n, p) => n + p.available, 0) / parts.length;
  return even >= 1 && parts.some((p) => p.available < even / 2);
};
