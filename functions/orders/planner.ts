/**
 * Order allocation planner: decides which warehouses ship which units of an
 * order, or says precisely what is short.
 *
 * Pure and dependency-free: no I/O, clock or randomness. Stock is read only
 * through `request.available`, called exactly once per (line, eligible
 * warehouse), so the caller can back it with a snapshot of stock levels, write
 * the plan in one transaction, and simply re-plan after a conflict. The dry-run
 * endpoint returns the same result, `explanation` included.
 *
 * Choices (the issue leaves them open):
 * - Warehouse ordering. `fewest_shipments` and `nearest`: great-circle distance
 *   to ship_to, then priority (lower first), then warehouse_id. `priority`:
 *   priority, then distance, then warehouse_id. Ids compare by UTF-16 code
 *   units, never by locale, so the plan is the same on every machine.
 * - `fewest_shipments` with a split: among the covering sets of the smallest
 *   size, the one with the smallest SUM of distances (it tracks total freight;
 *   the max would ignore all but the farthest leg), then the smallest SUM of
 *   priorities, then the sorted id list. Inside the chosen set every line is
 *   filled nearest-first (then priority, id).
 * - The exact search enumerates subsets by increasing size while the number of
 *   subsets examined stays within EXHAUSTIVE_SUBSET_BUDGET; sizes that cannot
 *   cover some line even with its k best-stocked warehouses are skipped for
 *   free. Past the budget it falls back to a greedy set cover (most still-needed
 *   units first, ties nearest-first) with redundant warehouses dropped, and the
 *   explanation says the result may not be minimal.
 * - `warehouses` lists the warehouses used, in the strategy's ordering.
 * - `partial` omits lines of which nothing can be shipped; every listed line
 *   has quantity > 0 and no allocation is ever 0.
 * - With allow_split=false and no single warehouse able to fill the order, the
 *   "best single warehouse" is the one that can ship the most units of the
 *   order (ties by the strategy's ordering); shortfall and partial are relative
 *   to it.
 * - A duplicated warehouse_id in `warehouses` keeps its first entry. An
 *   `available` that is negative, fractional or not finite counts as its floor,
 *   at least 0.
 * - Lines must have unique sku_ids and positive integer quantities; anything
 *   else is a caller bug and throws a RangeError.
 */

export type Strategy = 'fewest_shipments' | 'nearest' | 'priority';

export interface PlanWarehouse {
  warehouse_id: string;
  latitude: number;
  longitude: number;
  /** Lower ships first. */
  priority: number;
  active: boolean;
}

export interface PlanLine {
  sku_id: string;
  /** Positive integer. */
  quantity: number;
}

export interface PlanRequest {
  /** sku_ids are unique: the caller merges duplicates. */
  lines: PlanLine[];
  ship_to: { latitude: number; longitude: number };
  strategy: Strategy;
  allow_split: boolean;
  /** Restrict the candidates to these (undefined = all). */
  warehouse_ids?: string[];
  warehouses: PlanWarehouse[];
  /** Current available units; 0 when there is no stock level. */
  available: (sku_id: string, warehouse_id: string) => number;
}

export interface PlannedAllocation {
  warehouse_id: string;
  quantity: number;
  distance_km: number;
}

export interface PlannedLine {
  sku_id: string;
  quantity: number;
  allocations: PlannedAllocation[];
}

export interface LineShortfall {
  sku_id: string;
  requested: number;
  available: number;
  short: number;
}

export type PlanResult =
  | { ok: true; lines: PlannedLine[]; shipments: number; warehouses: string[]; explanation: string }
  | { ok: false; shortfall: LineShortfall[]; partial: PlannedLine[]; explanation: string };

export const EARTH_RADIUS_KM = 6371.0088;

/**
 * Subsets the exact fewest-warehouses search may examine before giving way to
 * the greedy cover. 100k covers every subset of 16 candidates, or subsets up to
 * size 6 of 20, in a few milliseconds; orders needing more are rare.
 */
export const EXHAUSTIVE_SUBSET_BUDGET = 100_000;

type Point = { latitude: number; longitude: number };

/** Haversine great-circle distance in km. */
export function distanceKm(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  // Rounding can push h a hair outside [0, 1] for (near-)antipodal points; asin would return NaN.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(Math.min(1, Math.max(0, h))));
}

/** An eligible warehouse with everything the planner needs, `stock[i]` being line i's available units. */
interface Candidate {
  id: string;
  distance: number;
  priority: number;
  stock: number[];
}

type Ordering = (a: Candidate, b: Candidate) => number;

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byDistance: Ordering = (a, b) => a.distance - b.distance || a.priority - b.priority || compareIds(a.id, b.id);
const byPriority: Ordering = (a, b) => a.priority - b.priority || a.distance - b.distance || compareIds(a.id, b.id);

const round1 = (km: number): number => Math.round(km * 10) / 10;
const km = (distance: number): string => `${round1(distance)} km`;
const units = (raw: number): number => (Number.isFinite(raw) ? Math.max(0, Math.floor(raw)) : 0);
const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function validate(lines: PlanLine[]): void {
  const seen = new Set<string>();
  for (const line of lines) {
    if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0) {
      throw new RangeError(`line ${line.sku_id}: quantity must be a positive integer, got ${line.quantity}`);
    }
    if (seen.has(line.sku_id)) throw new RangeError(`line ${line.sku_id} appears twice; merge duplicate lines first`);
    seen.add(line.sku_id);
  }
}

function eligibleWarehouses(request: PlanRequest): Candidate[] {
  const allowed = request.warehouse_ids === undefined ? undefined : new Set(request.warehouse_ids);
  const seen = new Set<string>();
  const eligible: Candidate[] = [];
  for (const w of request.warehouses) {
    if (seen.has(w.warehouse_id)) continue;
    seen.add(w.warehouse_id);
    if (!w.active || (allowed !== undefined && !allowed.has(w.warehouse_id))) continue;
    eligible.push({
      id: w.warehouse_id,
      distance: distanceKm(w, request.ship_to),
      priority: w.priority,
      stock: request.lines.map((line) => units(request.available(line.sku_id, w.warehouse_id))),
    });
  }
  return eligible;
}

/** Fill every line from `ordered` in that order, as far as stock goes; never emits a 0 allocation. */
function fill(lines: PlanLine[], ordered: Candidate[]): PlannedLine[] {
  return lines.map((line, i) => {
    let remaining = line.quantity;
    const allocations: PlannedAllocation[] = [];
    for (const c of ordered) {
      if (remaining === 0) break;
      const take = Math.min(c.stock[i] ?? 0, remaining);
      if (take === 0) continue;
      allocations.push({ warehouse_id: c.id, quantity: take, distance_km: round1(c.distance) });
      remaining -= take;
    }
    return { sku_id: line.sku_id, quantity: line.quantity - remaining, allocations };
  });
}

const covers = (lines: PlanLine[], set: Candidate[]): boolean =>
  lines.every((line, i) => sum(set.map((c) => c.stock[i] ?? 0)) >= line.quantity);

/** Units of the order `c` alone could ship. */
const shippable = (lines: PlanLine[], c: Candidate): number =>
  sum(lines.map((line, i) => Math.min(c.stock[i] ?? 0, line.quantity)));

/** C(n, k), saturating at `cap` so huge counts stay cheap and exact enough to compare with the budget. */
function binomial(n: number, k: number, cap: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) {
    result = (result * (n - k + i)) / i;
    if (result > cap) return cap;
  }
  return Math.round(result);
}

interface Cover {
  set: Candidate[];
  /** false when the greedy fallback chose it (may not be minimal). */
  exact: boolean;
  /** How many covering sets of this size exist (exact search only). */
  alternatives: number;
}

/** Set order for equally small covers: sum of distances, sum of priorities, sorted ids. */
function compareSets(a: Candidate[], b: Candidate[]): number {
  const byKey =
    sum(a.map((c) => c.distance)) - sum(b.map((c) => c.distance)) ||
    sum(a.map((c) => c.priority)) - sum(b.map((c) => c.priority));
  if (byKey !== 0) return byKey;
  const idsA = a.map((c) => c.id).sort(compareIds);
  const idsB = b.map((c) => c.id).sort(compareIds);
  for (let i = 0; i < idsA.length; i++) {
    const diff = compareIds(idsA[i] ?? '', idsB[i] ?? '');
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The smallest set of warehouses that together cover every line; undefined if none does. */
function fewestWarehouses(lines: PlanLine[], ranked: Candidate[]): Cover | undefined {
  // Only warehouses holding at least one unit of some line can help a cover.
  const pool = ranked.filter((c) => c.stock.some((s) => s > 0));
  if (!covers(lines, pool)) return undefined;
  // Per line, stock sorted best first: if the k best holders of a line cannot cover it, no k-set can.
  const bestStock = lines.map((_, i) => pool.map((c) => c.stock[i] ?? 0).sort((x, y) => y - x));
  const reachable = (k: number): boolean => lines.every((line, i) => sum((bestStock[i] ?? []).slice(0, k)) >= line.quantity);

  let spent = 0;
  for (let k = 1; k <= pool.length; k++) {
    if (!reachable(k)) continue;
    const combinations = binomial(pool.length, k, EXHAUSTIVE_SUBSET_BUDGET + 1);
    if (spent + combinations > EXHAUSTIVE_SUBSET_BUDGET) return { set: greedyCover(lines, pool), exact: false, alternatives: 0 };
    spent += combinations;

    let best: Candidate[] | undefined;
    let alternatives = 0;
    const chosen: Candidate[] = [];
    const visit = (start: number): void => {
      if (chosen.length === k) {
        if (!covers(lines, chosen)) return;
        alternatives++;
        if (best === undefined || compareSets(chosen, best) < 0) best = [...chosen];
        return;
      }
      // The candidates that still leave enough after them to complete a set of k.
      for (const [offset, c] of pool.slice(start, pool.length - (k - chosen.length) + 1).entries()) {
        chosen.push(c);
        visit(start + offset + 1);
        chosen.pop();
      }
    };
    visit(0);
    if (best !== undefined) return { set: best, exact: true, alternatives };
  }
  return undefined; // unreachable: the whole pool covers, so some size found a cover
}

/**
 * Greedy multicover: repeatedly take the warehouse that supplies the most
 * still-needed units (ties: `pool` order, i.e. nearest), then drop any member
 * the others already cover, latest first, so every member ships something.
 */
function greedyCover(lines: PlanLine[], pool: Candidate[]): Candidate[] {
  const need = lines.map((line) => line.quantity);
  const left = [...pool];
  const chosen: Candidate[] = [];
  while (need.some((n) => n > 0)) {
    let best: Candidate | undefined;
    let bestGain = 0;
    for (const c of left) {
      const gain = sum(need.map((n, i) => Math.min(n, c.stock[i] ?? 0)));
      if (gain > bestGain) [best, bestGain] = [c, gain];
    }
    if (best === undefined) break; // cannot happen: the caller checked the pool covers
    const picked = best;
    chosen.push(picked);
    left.splice(left.indexOf(picked), 1);
    need.forEach((n, i) => (need[i] = n - Math.min(n, picked.stock[i] ?? 0)));
  }
  for (const c of [...chosen].reverse()) {
    const without = chosen.filter((other) => other !== c);
    if (covers(lines, without)) chosen.splice(chosen.indexOf(c), 1);
  }
  return chosen;
}

/** Ids of the warehouses `planned` ships from, in the strategy's ordering (`ranked`). */
function usedWarehouses(planned: PlannedLine[], ranked: Candidate[]): string[] {
  const used = new Set(planned.flatMap((line) => line.allocations.map((a) => a.warehouse_id)));
  return ranked.filter((c) => used.has(c.id)).map((c) => c.id);
}

function success(planned: PlannedLine[], ranked: Candidate[], explanation: string): PlanResult {
  const warehouses = usedWarehouses(planned, ranked);
  return { ok: true, lines: planned, shipments: warehouses.length, warehouses, explanation };
}

/** Why `chosen` (the first of `fillers`, the warehouses that can each fill the whole order) won. */
function explainSingle(strategy: Strategy, chosen: Candidate, fillers: Candidate[], splitForbidden: boolean): string {
  const runnerUp = fillers[1];
  const prefix = splitForbidden && strategy !== 'fewest_shipments' ? 'Splitting is not allowed, so one warehouse ships everything: ' : '';
  if (runnerUp === undefined) {
    return `${prefix}Warehouse ${chosen.id} is the only eligible warehouse that can fill the whole order (${km(chosen.distance)} away).`;
  }
  const reason =
    strategy === 'priority'
      ? `has the best priority (${chosen.priority}, ${km(chosen.distance)} away)`
      : `is the nearest (${km(chosen.distance)})`;
  const tie =
    strategy === 'priority'
      ? chosen.priority !== runnerUp.priority
        ? ''
        : chosen.distance !== runnerUp.distance
          ? `; tied on priority with ${runnerUp.id}, it is nearer`
          : `; tied with ${runnerUp.id} on priority and distance, chosen by warehouse id`
      : chosen.distance !== runnerUp.distance
        ? ''
        : chosen.priority !== runnerUp.priority
          ? `; tied on distance with ${runnerUp.id}, it has the better priority`
          : `; tied with ${runnerUp.id} on distance and priority, chosen by warehouse id`;
  return `${prefix}Warehouse ${chosen.id} can fill the whole order and ${reason} of the ${fillers.length} that can${tie}.`;
}

function failure(shortfall: LineShortfall[], planned: PlannedLine[], explanation: string): PlanResult {
  return { ok: false, shortfall, partial: planned.filter((line) => line.quantity > 0), explanation };
}

function describeShortfall(shortfall: LineShortfall[]): string {
  const shown = shortfall.slice(0, 3).map((s) => `${s.sku_id} has ${s.available} of ${s.requested}`);
  const more = shortfall.length > 3 ? `, and ${plural(shortfall.length - 3, 'more line')} short` : '';
  return shown.join(', ') + more;
}

function describePartial(planned: PlannedLine[], lines: PlanLine[], ranked: Candidate[]): string {
  const shipped = sum(planned.map((line) => line.quantity));
  const requested = sum(lines.map((line) => line.quantity));
  return shipped === 0
    ? 'Nothing can be shipped.'
    : `The partial proposal ships ${shipped} of ${requested} units from ${usedWarehouses(planned, ranked).join(', ')}.`;
}

/** allow_split=false and no warehouse can fill the whole order: report against the best single warehouse. */
function noSingleWarehouse(request: PlanRequest, ranked: Candidate[]): PlanResult {
  const { lines } = request;
  // Most shippable units wins; the stable sort keeps the strategy's ordering among equals.
  const [best] = [...ranked].sort((a, b) => shippable(lines, b) - shippable(lines, a));
  if (best === undefined) return noEligibleWarehouse(request);
  const shortfall = lines.flatMap((line, i) => {
    const available = best.stock[i] ?? 0;
    return available >= line.quantity ? [] : [{ sku_id: line.sku_id, requested: line.quantity, available, short: line.quantity - available }];
  });
  const acrossSeveral = covers(lines, ranked) ? '; the stock exists, but only across several warehouses' : '';
  const explanation =
    shippable(lines, best) === 0
      ? `Splitting is not allowed and no eligible warehouse holds any of the order${acrossSeveral}. Nothing can be shipped.`
      : `Splitting is not allowed and no single warehouse can fill the whole order${acrossSeveral}. ` +
        `Shortfall is relative to the best single warehouse, ${best.id}, which can ship ${shippable(lines, best)} of ${sum(lines.map((l) => l.quantity))} units.`;
  return failure(shortfall, fill(lines, [best]), explanation);
}

function noEligibleWarehouse(request: PlanRequest): PlanResult {
  const shortfall = request.lines.map((line) => ({ sku_id: line.sku_id, requested: line.quantity, available: 0, short: line.quantity }));
  const scope = request.warehouse_ids === undefined ? '' : ' among the requested warehouse_ids';
  return failure(shortfall, [], `No active warehouse${scope} is eligible, so nothing can be shipped.`);
}

/** Split allowed, but some line is short across all eligible warehouses together. */
function notEnoughStock(request: PlanRequest, ranked: Candidate[]): PlanResult {
  const { lines } = request;
  if (ranked.length === 0) return noEligibleWarehouse(request);
  const shortfall = lines.flatMap((line, i) => {
    const available = sum(ranked.map((c) => c.stock[i] ?? 0));
    return available >= line.quantity ? [] : [{ sku_id: line.sku_id, requested: line.quantity, available, short: line.quantity - available }];
  });
  const planned = fill(lines, ranked);
  const explanation = `Not enough stock across the ${plural(ranked.length, 'eligible warehouse')}: ${describeShortfall(shortfall)}. ${describePartial(planned, lines, ranked)}`;
  return failure(shortfall, planned, explanation);
}

export function planAllocation(request: PlanRequest): PlanResult {
  const { lines, strategy } = request;
  validate(lines);
  if (lines.length === 0) return { ok: true, lines: [], shipments: 0, warehouses: [], explanation: 'The order has no lines; nothing to ship.' };

  const ranked = eligibleWarehouses(request).sort(strategy === 'priority' ? byPriority : byDistance);
  const fillers = ranked.filter((c) => lines.every((line, i) => (c.stock[i] ?? 0) >= line.quantity));

  // One warehouse for the whole order: required without split, and the first choice of fewest_shipments.
  const [firstFiller] = fillers;
  if (firstFiller !== undefined && (!request.allow_split || strategy === 'fewest_shipments')) {
    return success(fill(lines, [firstFiller]), ranked, explainSingle(strategy, firstFiller, fillers, !request.allow_split));
  }
  if (!request.allow_split) return noSingleWarehouse(request, ranked);
  if (!covers(lines, ranked)) return notEnoughStock(request, ranked);

  if (strategy === 'fewest_shipments') {
    const cover = fewestWarehouses(lines, ranked);
    if (cover === undefined) throw new Error('unreachable: the eligible warehouses cover the order, so some set of them does');
    const set = [...cover.set].sort(byDistance);
    const ids = set.map((c) => c.id).join(', ');
    const head = `No single warehouse holds the whole order; ${set.length} shipments from ${ids}`;
    const explanation = !cover.exact
      ? `${head}, chosen by a greedy set cover because the ${plural(ranked.length, 'eligible warehouse')} are too many to search exhaustively, so it may not be the fewest possible.`
      : cover.alternatives > 1
        ? `${head} is the fewest possible. Of the ${cover.alternatives} sets of ${set.length} that could, this one has the shortest total distance (${km(sum(set.map((c) => c.distance)))}).`
        : `${head} is the fewest possible.`;
    return success(fill(lines, set), ranked, explanation);
  }

  // nearest / priority: per line, walk the warehouses in the strategy's ordering.
  const planned = fill(lines, ranked);
  const used = usedWarehouses(planned, ranked);
  const how = strategy === 'nearest' ? 'from the nearest eligible warehouses first' : 'by warehouse priority first (lowest number first), then distance';
  return success(planned, ranked, `Each line is filled ${how}: ${plural(used.length, 'shipment')} from ${used.join(', ')}.`);
}
