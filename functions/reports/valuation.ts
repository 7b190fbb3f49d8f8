import * as z from 'zod';
import { amountIn, canonicalDecimal } from '../platform/money';

/**
 * Inventory valuation (issue 9): what the stock of every SKU x warehouse is
 * worth at `as_of`, by FIFO or by a running (perpetual) weighted average,
 * computed from ledger rows alone. Pure: no storage, no clock, no throwing on
 * bad books; what the ledger cannot explain is reported in `warnings`.
 *
 * Money is exact: bigint micro-units (10^-6) internally, because every cost
 * the ledger accepts has at most 4 decimals (platform/money.ts) and so every
 * FIFO value (units x cost) is exact at that scale. Only a share of a
 * weighted-average pool (value x k / quantity) and an average cost per unit
 * need rounding; both round half-even at 10^-6, once per movement. Results
 * are rounded half-even once more to at most 4 decimals and written with at
 * least the currency's minor-unit digits (amountIn), as strings.
 *
 * Rules where the ledger is ambiguous (see also the report of the commit):
 * - Only on_hand deltas move value; rows with a zero on_hand delta
 *   (allocation, release, purchase_ordered, thresholds, ...) are skipped.
 * - A positive row with a valid unit_cost (receipt, restock, or any other
 *   non-transfer row that carries one) adds a layer at that cost. A positive
 *   row without one (count up, positive adjustment, a return restocked
 *   without a cost, a receipt without a cost) adds units at the level's
 *   current average: value / quantity, or, while the level is empty, the
 *   average it last had. A level that never had a cost adds them at zero
 *   and says so (warning `no_cost`).
 * - Every negative row (sale, shipment, transfer_out, count down, negative
 *   adjustment) consumes the oldest layers (FIFO) or its share of the pool at
 *   the average (weighted). A count down is treated like a negative
 *   adjustment: the units counted missing are the oldest ones.
 * - A transfer_out's consumed layers travel, in order and at their cost, to
 *   the transfer_in with the same correlation_id and sku_id; if the in sorts
 *   before its out, the out is processed first (they are one transaction).
 * - A consumption larger than the stock takes what there is, records the
 *   shortfall at the current average (warning `shortfall`) and leaves a
 *   deficit: the level's quantity goes negative (it always equals the sum of
 *   its on_hand deltas) while its value stays zero; the next units in fill
 *   the deficit first and their cost leaves with the units already gone. A
 *   transfer_out that is short carries the shortfall at that average, so the
 *   destination is valued as if the units had their usual cost.
 * - A level holds one currency at a time: it takes the currency of its first
 *   costed units, and may change only while it holds no value. Units at a
 *   cost in another currency (no rate to convert) enter at the level's
 *   average instead (warning `currency_mismatch`).
 *
 * Checkpoints: `result.state` is everything the engine holds at `as_of` (see
 * ValuationState), and `options.start` resumes from such a state, so that
 * valuing the rows up to T, then the rows after T from the state, gives the
 * same lines and totals as valuing them all at once. Exact because the
 * engine orders rows by movement_id and inventory gives every row a ULID of
 * its created_at instant (functions/inventory/stock.ts movementOf): every row
 * at or before T sorts before every row after it. A transfer's two rows are
 * one transaction with one instant, so no checkpoint falls between them.
 */

export type ValuationMethod = 'fifo' | 'weighted_average';

/** The ledger's movement types, named here so that this context does not depend on inventory's internals. */
export type LedgerMovementType =
  | 'sale'
  | 'restock'
  | 'adjustment'
  | 'transfer_out'
  | 'transfer_in'
  | 'count'
  | 'allocation'
  | 'release'
  | 'shipment'
  | 'receipt'
  | 'purchase_ordered'
  | 'purchase_cancelled'
  | 'thresholds';

/** What the engine reads of one ledger row (a subset of inventory's Movement, flattened as the lake holds it). */
export interface ValuationRow {
  /** ULID: sorts by time, so it orders the ledger. */
  movement_id: string;
  sku_id: string;
  warehouse_id: string;
  type: LedgerMovementType;
  /** The row's on_hand delta (Movement.deltas.on_hand). */
  on_hand: number;
  /** Exact decimal string, per unit, on receipts and restocks with a cost. */
  unit_cost?: string;
  currency?: string;
  /** Shared by a transfer's out and in rows. */
  correlation_id?: string;
  /** Not read: a return is a restock (reason "returned"), valued like any restock, at its cost or at the average. */
  reason?: string;
  /** ISO 8601 instant. */
  created_at: string;
}

export interface ValuationOptions {
  /**
   * ISO 8601 instant; rows created after it are ignored, rows at it count. A bare date
   * ("2025-12-31") is its first instant (UTC midnight), so "stock on 31 December" is
   * "2025-12-31T23:59:59.999Z": the API turns a date into that.
   */
  as_of: string;
  method: ValuationMethod;
  /**
   * Filters on the answer only. The rows must still include every warehouse
   * (and every SKU transferred into the filtered ones), because a transfer_in
   * is valued at the cost of the source's layers.
   */
  sku_id?: string;
  warehouse_id?: string;
  /**
   * Resume from a checkpoint (a `result.state`): the engine starts with its
   * levels and transfers in flight instead of empty books. The state must
   * include every row created at or before its `as_of`, so rows at or before
   * it are ignored (the caller may pass whole day partitions); a state of the
   * other method, or one after `as_of`, is refused (RangeError), and so is a
   * malformed one (it is decoded with parseValuationState first, unless it
   * came from there).
   */
  start?: ValuationState;
}

export interface ValuationLine {
  sku_id: string;
  warehouse_id: string;
  /** on_hand at as_of: the sum of the level's on_hand deltas; negative when the books are short. */
  quantity: number;
  /** value / quantity rounded once (for weighted average that is the running average); null without stock. */
  unit_cost: string | null;
  value: string;
  /** null while the level never had costed units (its value is then zero). */
  currency: string | null;
}

export interface ValuationTotal {
  currency: string;
  quantity: number;
  /** The exact sum of the levels' values, rounded once (so it may differ from the sum of the rounded lines by rounding). */
  value: string;
}

export type ValuationWarningKind =
  /** A consumption larger than the stock: the missing units and their value at the current average. */
  | 'shortfall'
  /** Units that came in at zero cost because the level had no cost yet. */
  | 'no_cost'
  /** A unit_cost that is not a non-negative decimal, or has no currency: the units came in at the average. */
  | 'invalid_cost'
  /** Units at a cost in another currency than the level's: the units came in at the level's average. */
  | 'currency_mismatch'
  /** A transfer row without its counterpart, or whose quantities differ. */
  | 'unmatched_transfer'
  /** A row that cannot be read (on_hand not an integer, created_at not a date): skipped. */
  | 'invalid_row';

export interface ValuationWarning {
  kind: ValuationWarningKind;
  movement_id: string;
  sku_id: string;
  warehouse_id: string;
  type: string;
  /** The units the warning is about. */
  quantity: number;
  /** For a shortfall: the value of the missing units and their unit cost. */
  value?: string;
  unit_cost?: string;
  currency?: string;
  message: string;
}

export interface ValuationResult {
  as_of: string;
  method: ValuationMethod;
  lines: ValuationLine[];
  totals: ValuationTotal[];
  warnings: ValuationWarning[];
  /** The engine's state at as_of, whatever the filters: a checkpoint to resume from (options.start). */
  state: ValuationState;
}

/* ---------- checkpoints ---------- */

/** A bigint in JSON: a decimal integer string without sign or leading zeros. */
const natural = z.string().regex(/^(?:0|[1-9]\d*)$/, 'a non-negative integer as a decimal string');
const positive = z.string().regex(/^[1-9]\d*$/, 'a positive integer as a decimal string');

const levelBase = {
  sku_id: z.string(),
  warehouse_id: z.string(),
  /** The level's currency; null while it never had costed units. Every layer and the pool are in it. */
  currency: z.string().min(1).nullable(),
  /** Units owed: gone out while the level held none; the next units in fill them first. */
  deficit: natural,
  /** Micro-units per unit: the average the level last had while it held stock, null if it never did. */
  last_average_micros: natural.nullable(),
};

/**
 * FIFO layers, oldest first, as one text: `<quantity>@<unit_cost_micros>` each, space-separated
 * ("10@2000000 5@4000000"; "" for none). One string per level rather than an object per layer: a
 * busy tenant's state holds ~200k layers, and as objects they cost ~0.2 s to parse and validate.
 */
const LAYERS = /^(?:[1-9]\d*@(?:0|[1-9]\d*)(?: [1-9]\d*@(?:0|[1-9]\d*))*)?$/;

const fifoLevel = z.strictObject({
  ...levelBase,
  /** Oldest first; consecutive units at one cost are one layer. */
  layers: z.string().regex(LAYERS, 'layers as "<quantity>@<unit_cost_micros>", space-separated, each quantity positive'),
});

/** The layers a state's text holds, oldest first (the text matched LAYERS). */
const parseLayers = (text: string): { quantity: bigint; unit: bigint }[] =>
  text === ''
    ? []
    : text.split(' ').map((layer) => {
        const at = layer.indexOf('@');
        return { quantity: BigInt(layer.slice(0, at)), unit: BigInt(layer.slice(at + 1)) };
      });

const averageLevel = z.strictObject({
  ...levelBase,
  pool: z.strictObject({ quantity: natural, value_micros: natural }),
});

/** A transfer_out whose transfer_in was not seen by as_of: the units and their exact value, waiting for it. */
const inTransit = z.strictObject({
  correlation_id: z.string(),
  sku_id: z.string(),
  /** The currency of the source level when the units left it. */
  currency: z.string().min(1).nullable(),
  lots: z.array(z.strictObject({ quantity: positive, value_micros: natural })),
  /** The transfer_out row, named in the warning if its transfer_in never comes. */
  out: z.strictObject({ movement_id: z.string(), warehouse_id: z.string() }),
});

/** The checkpoint format: 2 holds FIFO layers as one text per level (1 had an object per layer). */
export const VALUATION_STATE_VERSION = 2;

const stateOf = <M extends ValuationMethod, L extends z.ZodType<{ sku_id: string; warehouse_id: string; deficit: string }>>(method: M, level: L) =>
  z.strictObject({
    version: z.literal(VALUATION_STATE_VERSION),
    method: z.literal(method),
    /** The instant the state is as of (ISO 8601, UTC, milliseconds): it holds every row created at or before it. */
    as_of: z.iso.datetime(),
    /** Every level the ledger touched up to as_of, sorted by sku_id then warehouse_id. */
    levels: z.array(level).superRefine((levels, ctx) => {
      const seen = new Set<string>();
      levels.forEach((l, index) => {
        const key = levelKey(l.sku_id, l.warehouse_id);
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index], message: `level ${l.sku_id} x ${l.warehouse_id} appears twice` });
        seen.add(key);
      });
    }),
    /** In ledger order per correlation_id and SKU. */
    in_transit: z.array(inTransit),
  });

/**
 * A checkpoint: plain JSON (bigints as decimal strings, money in micro-units,
 * 10^-6), versioned. Decode a stored one with valuationState.safeParse or
 * parseValuationState: it is untrusted input.
 */
export const valuationState = z.discriminatedUnion('method', [
  stateOf(
    'fifo',
    fifoLevel.refine((l) => l.deficit === '0' || l.layers === '', { message: 'a level with a deficit holds no layers (the next units fill the deficit first)' }),
  ),
  stateOf(
    'weighted_average',
    averageLevel
      .refine((l) => l.pool.quantity !== '0' || l.pool.value_micros === '0', { message: 'an empty pool has no value' })
      .refine((l) => l.deficit === '0' || l.pool.quantity === '0', { message: 'a level with a deficit holds no units (the next units fill the deficit first)' }),
  ),
]);

export type ValuationState = z.infer<typeof valuationState>;
type LevelState = z.infer<typeof fifoLevel> | z.infer<typeof averageLevel>;

/** States parseValuationState made: valuate does not decode them again (a FIFO state of 250k layers takes ~0.2 s to decode). */
const decoded = new WeakMap<object, ValuationState>();

/** A stored checkpoint decoded, or a RangeError saying what is wrong with it. Decode once, at the boundary, and do not edit the result. */
export const parseValuationState = (input: unknown): ValuationState => {
  const known = typeof input === 'object' && input !== null ? decoded.get(input) : undefined;
  if (known) return known;
  const parsed = valuationState.safeParse(input);
  // The first few issues say what is wrong; a state of another format has one per level.
  if (!parsed.success) throw new RangeError(`not a valuation state: ${z.prettifyError(new z.ZodError(parsed.error.issues.slice(0, 3)))}${parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : ''}`);
  decoded.set(parsed.data, parsed.data);
  return parsed.data;
};

/* ---------- exact decimal arithmetic ---------- */

/** Internal scale: 10^-6 of a currency unit. */
const SCALE_DIGITS = 6;
/** Results carry at most this many decimals. */
const OUT_DIGITS = 4;
/** From micro-units to the output's 10^-4. */
const TO_OUT = 10n ** BigInt(SCALE_DIGITS - OUT_DIGITS);

/** n / d rounded half-even (d > 0): the rounding that does not drift up over many rows. */
export const divHalfEven = (n: bigint, d: bigint): bigint => {
  if (d <= 0n) throw new RangeError('divHalfEven needs a positive divisor');
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let q = abs / d;
  const twice = (abs % d) * 2n;
  if (twice > d || (twice === d && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
};

/** A non-negative decimal string in micro-units, rounded half-even past 6 decimals; undefined when not one. */
export const parseMicros = (text: string): bigint | undefined => {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) return undefined;
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  const digits = BigInt(whole + fraction);
  const exponent = fraction.length - SCALE_DIGITS;
  return exponent <= 0 ? digits * 10n ** BigInt(-exponent) : divHalfEven(digits, 10n ** BigInt(exponent));
};

/** Micro-units as a decimal string with at most 4 decimals (half-even), in the currency's minor digits when known. */
export const formatMicros = (micros: bigint, currency: string | undefined): string => {
  const units = divHalfEven(micros, TO_OUT);
  const negative = units < 0n;
  const abs = (negative ? -units : units).toString().padStart(OUT_DIGITS + 1, '0');
  const text = canonicalDecimal(`${abs.slice(0, -OUT_DIGITS)}.${abs.slice(-OUT_DIGITS)}`);
  const written = currency === undefined ? text : amountIn(text, currency);
  return negative ? `-${written}` : written;
};

/** value / quantity per unit, rounded once from the exact quotient to the output's 4 decimals. */
const unitCostOut = (value: bigint, quantity: bigint, currency: string | undefined): string =>
  formatMicros(divHalfEven(value, quantity * TO_OUT) * TO_OUT, currency);

/* ---------- stock pools ---------- */

/** Units and their exact value (micro-units) moving as one piece: a layer, a share of a pool, a transfer's cargo. */
interface Lot {
  quantity: bigint;
  value: bigint;
}

/** The first k units of a lot (k <= quantity); exact for FIFO lots, whose value is quantity x unit cost. */
const headOf = (lot: Lot, k: bigint): Lot => (k === lot.quantity ? lot : { quantity: k, value: divHalfEven(lot.value * k, lot.quantity) });

const lotsQuantity = (lots: readonly Lot[]): bigint => lots.reduce((sum, lot) => sum + lot.quantity, 0n);
const lotsValue = (lots: readonly Lot[]): bigint => lots.reduce((sum, lot) => sum + lot.value, 0n);

/** Splits lots into the first k units and the rest, in order. */
const splitLots = (lots: readonly Lot[], k: bigint): { head: Lot[]; rest: Lot[] } => {
  const head: Lot[] = [];
  const rest: Lot[] = [];
  let left = k;
  for (const lot of lots) {
    if (left <= 0n) rest.push(lot);
    else if (lot.quantity <= left) {
      head.push(lot);
      left -= lot.quantity;
    } else {
      const first = headOf(lot, left);
      head.push(first);
      rest.push({ quantity: lot.quantity - left, value: lot.value - first.value });
      left = 0n;
    }
  }
  return { head, rest };
};

/** The units a level has (never negative: a deficit is kept by the Level) and how they are costed. */
interface Pool {
  quantity(): bigint;
  value(): bigint;
  /** Takes k <= quantity() units: FIFO the oldest layers, in order; weighted average one share at the average. */
  take(k: bigint): Lot[];
  put(lots: readonly Lot[]): void;
}

/** What every pool keeps whatever its method: how many units it holds and their exact value. */
abstract class Tally {
  protected units = 0n;
  protected total = 0n;

  quantity(): bigint {
    return this.units;
  }

  value(): bigint {
    return this.total;
  }
}

/** FIFO: layers oldest first, each with an exact unit cost. A head index, not shift(), keeps long ledgers linear. */
class FifoPool extends Tally implements Pool {
  private layers: { quantity: bigint; unit: bigint }[] = [];
  private head = 0;

  /** The layers a checkpoint restores, oldest first (each quantity > 0). */
  static of(layers: readonly { quantity: bigint; unit: bigint }[]): FifoPool {
    const pool = new FifoPool();
    for (const { quantity, unit } of layers) pool.layers.push({ quantity, unit });
    pool.units = pool.layers.reduce((sum, l) => sum + l.quantity, 0n);
    pool.total = pool.layers.reduce((sum, l) => sum + l.quantity * l.unit, 0n);
    return pool;
  }

  /** The layers still held, oldest first. */
  held(): { quantity: bigint; unit: bigint }[] {
    return this.layers.slice(this.head).map(({ quantity, unit }) => ({ quantity, unit }));
  }

  take(k: bigint): Lot[] {
    const taken: Lot[] = [];
    let left = k;
    while (left > 0n) {
      const layer = this.layers[this.head];
      if (!layer) break; // unreachable while k <= quantity(); a guard instead of a throw
      const used = layer.quantity < left ? layer.quantity : left;
      taken.push({ quantity: used, value: used * layer.unit });
      layer.quantity -= used;
      left -= used;
      if (layer.quantity === 0n) this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.layers.length) {
      this.layers = this.layers.slice(this.head);
      this.head = 0;
    }
    const q = lotsQuantity(taken);
    this.units -= q;
    this.total -= lotsValue(taken);
    return taken;
  }

  put(lots: readonly Lot[]): void {
    for (const lot of lots) {
      if (lot.quantity <= 0n) continue;
      // Lots made here are exact (quantity x unit); rounding only guards lots of foreign origin.
      const unit = divHalfEven(lot.value, lot.quantity);
      const last = this.layers[this.layers.length - 1];
      // Consecutive units at one cost are one layer: FIFO cannot tell them apart, and the list stays short.
      if (last && this.layers.length > this.head && last.unit === unit) last.quantity += lot.quantity;
      else this.layers.push({ quantity: lot.quantity, unit });
      this.units += lot.quantity;
      this.total += lot.quantity * unit;
    }
  }
}

/** Weighted average: one pool of units and their exact total value; the average is value / quantity. */
class AveragePool extends Tally implements Pool {
  static of(lot: Lot): AveragePool {
    const pool = new AveragePool();
    pool.units = lot.quantity;
    pool.total = lot.value;
    return pool;
  }

  take(k: bigint): Lot[] {
    if (k <= 0n || this.units === 0n) return [];
    // Taking everything takes the whole value, so an emptied pool keeps no rounding residue.
    const lot = headOf({ quantity: this.units, value: this.total }, k);
    this.units -= lot.quantity;
    this.total -= lot.value;
    return [lot];
  }

  put(lots: readonly Lot[]): void {
    this.units += lotsQuantity(lots);
    this.total += lotsValue(lots);
  }
}

/** One SKU x warehouse: its pool, the units it owes (deficit), its currency and the last average it had. */
class Level {
  readonly pool: FifoPool | AveragePool;
  deficit = 0n;
  currency: string | undefined;
  private lastAverage: bigint | undefined;

  constructor(
    readonly sku_id: string,
    readonly warehouse_id: string,
    method: ValuationMethod,
    pool?: FifoPool | AveragePool,
  ) {
    this.pool = pool ?? (method === 'fifo' ? new FifoPool() : new AveragePool());
  }

  /** The level a checkpoint holds (decoded, so its shape is its method's). */
  static of(state: LevelState, method: ValuationMethod): Level {
    const pool =
      'layers' in state
        ? FifoPool.of(parseLayers(state.layers))
        : AveragePool.of({ quantity: BigInt(state.pool.quantity), value: BigInt(state.pool.value_micros) });
    const level = new Level(state.sku_id, state.warehouse_id, method, pool);
    level.deficit = BigInt(state.deficit);
    level.currency = state.currency ?? undefined;
    level.lastAverage = state.last_average_micros === null ? undefined : BigInt(state.last_average_micros);
    return level;
  }

  state(): LevelState {
    const base = {
      sku_id: this.sku_id,
      warehouse_id: this.warehouse_id,
      currency: this.currency ?? null,
      deficit: this.deficit.toString(),
      last_average_micros: this.lastAverage === undefined ? null : this.lastAverage.toString(),
    };
    return this.pool instanceof FifoPool
      ? { ...base, layers: this.pool.held().map((l) => `${l.quantity}@${l.unit}`).join(' ') }
      : { ...base, pool: { quantity: this.pool.quantity().toString(), value_micros: this.pool.value().toString() } };
  }

  quantity(): bigint {
    return this.pool.quantity() - this.deficit;
  }

  /** Per unit, micro-units: value / quantity now, or the last one the level had while it is empty; undefined if it never had stock. */
  average(): bigint | undefined {
    const q = this.pool.quantity();
    return q > 0n ? divHalfEven(this.pool.value(), q) : this.lastAverage;
  }

  /** Whether units at a cost in `currency` can join this level (and makes it the level's if so). */
  accepts(currency: string | undefined, value: bigint): boolean {
    if (value === 0n || currency === this.currency) return true;
    if (currency === undefined) return false;
    if (this.currency !== undefined && this.pool.value() !== 0n) return false;
    this.currency = currency;
    return true;
  }

  /** Takes k units; the units missing are counted as a deficit and returned at the average they are valued at. */
  take(k: bigint): { lots: Lot[]; short: bigint; shortUnit: bigint | undefined } {
    const average = this.average();
    const available = this.pool.quantity();
    const used = available < k ? available : k;
    const lots = this.pool.take(used);
    const short = k - used;
    this.deficit += short;
    if (short > 0n) lots.push({ quantity: short, value: short * (average ?? 0n) });
    this.remember();
    return { lots, short, shortUnit: average };
  }

  /** Adds lots in order; the first units fill the deficit, and their cost leaves with the units already gone. */
  put(lots: readonly Lot[]): void {
    const fill = this.deficit < lotsQuantity(lots) ? this.deficit : lotsQuantity(lots);
    const { rest } = splitLots(lots, fill);
    this.deficit -= fill;
    this.pool.put(rest);
    this.remember();
  }

  private remember(): void {
    const q = this.pool.quantity();
    if (q > 0n) this.lastAverage = divHalfEven(this.pool.value(), q);
  }
}

/* ---------- the engine ---------- */

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const levelKey = (sku_id: string, warehouse_id: string): string => JSON.stringify([sku_id, warehouse_id]);
const transferKey = (row: ValuationRow): string | undefined =>
  row.correlation_id === undefined ? undefined : JSON.stringify([row.correlation_id, row.sku_id]);

/** The value of stock per SKU x warehouse at `as_of`, from ledger rows in any order. */
export const valuate = (rows: readonly ValuationRow[], options: ValuationOptions): ValuationResult => {
  const asOf = Date.parse(options.as_of);
  // A bad option is the caller's mistake (the API validates it first); bad rows are the ledger's and only warn.
  if (Number.isNaN(asOf)) throw new RangeError(`as_of is not an ISO 8601 instant: ${options.as_of}`);
  if (options.method !== 'fifo' && options.method !== 'weighted_average') throw new RangeError(`unknown valuation method: ${String(options.method)}`);
  const start = options.start === undefined ? undefined : parseValuationState(options.start);
  if (start && start.method !== options.method) throw new RangeError(`the start state is of method ${start.method}, not ${options.method}`);
  const startAt = start ? Date.parse(start.as_of) : -Infinity;
  if (startAt > asOf) throw new RangeError(`the start state is as of ${start?.as_of ?? ''}, after as_of ${options.as_of}`);

  const warnings: ValuationWarning[] = [];
  /** A warning is about a row, or about a transfer_out still waiting (which may be in a start state, so not a whole row). */
  type Subject = Pick<ValuationRow, 'movement_id' | 'sku_id' | 'warehouse_id' | 'type'>;
  const warn = (row: Subject, kind: ValuationWarningKind, quantity: bigint, message: string, extra: Partial<ValuationWarning> = {}): void => {
    warnings.push({ kind, movement_id: row.movement_id, sku_id: row.sku_id, warehouse_id: row.warehouse_id, type: row.type, quantity: Number(quantity), message, ...extra });
  };

  const ledger: ValuationRow[] = [];
  for (const row of rows) {
    const at = Date.parse(row.created_at);
    if (Number.isNaN(at) || !Number.isSafeInteger(row.on_hand)) {
      // A row of a start state's span was seen (and said) when the state was made.
      if (!(at <= startAt)) warn(row, 'invalid_row', 0n, 'on_hand is not an integer or created_at is not a date: row skipped');
      continue;
    }
    if (at > startAt && at <= asOf && row.on_hand !== 0) ledger.push(row);
  }
  // ULIDs sort by time; plain code-unit order, not localeCompare, is their order.
  ledger.sort((a, b) => compare(a.movement_id, b.movement_id));

  const levels = new Map<string, Level>();
  for (const state of start?.levels ?? []) levels.set(levelKey(state.sku_id, state.warehouse_id), Level.of(state, options.method));
  const levelOf = (row: ValuationRow): Level => {
    const key = levelKey(row.sku_id, row.warehouse_id);
    const found = levels.get(key);
    if (found) return found;
    const level = new Level(row.sku_id, row.warehouse_id, options.method);
    levels.set(key, level);
    return level;
  };

  /** Units in at the level's average (or at zero, said, when it never had a cost). */
  const atAverage = (level: Level, row: ValuationRow, k: bigint): void => {
    const average = level.average();
    if (average === undefined) warn(row, 'no_cost', k, 'the level has no cost yet: these units are valued at zero');
    level.put([{ quantity: k, value: k * (average ?? 0n) }]);
  };

  const consume = (level: Level, row: ValuationRow, k: bigint): Lot[] => {
    const { lots, short, shortUnit } = level.take(k);
    if (short > 0n) {
      const currency = level.currency;
      warn(row, 'shortfall', short, `${short} more units went out than the level held: recorded at the current average, value kept at zero`, {
        value: formatMicros(short * (shortUnit ?? 0n), currency),
        unit_cost: formatMicros(shortUnit ?? 0n, currency),
        ...(currency === undefined ? {} : { currency }),
      });
    }
    return lots;
  };

  // A transfer's cargo waits here, by correlation_id and SKU, for its transfer_in; several transfers may share a key.
  type Shipment = { lots: Lot[]; currency: string | undefined; correlation_id: string; row: Subject };
  const cargo = new Map<string, Shipment[]>();
  for (const t of start?.in_transit ?? []) {
    const key = JSON.stringify([t.correlation_id, t.sku_id]);
    const shipment: Shipment = {
      lots: t.lots.map((l) => ({ quantity: BigInt(l.quantity), value: BigInt(l.value_micros) })),
      currency: t.currency ?? undefined,
      correlation_id: t.correlation_id,
      row: { movement_id: t.out.movement_id, sku_id: t.sku_id, warehouse_id: t.out.warehouse_id, type: 'transfer_out' },
    };
    cargo.set(key, [...(cargo.get(key) ?? []), shipment]);
  }
  // transfer_out rows not yet processed, by key, so that an in sorted before its out can fetch the out first.
  const pendingOuts = new Map<string, number[]>();
  ledger.forEach((row, index) => {
    const key = transferKey(row);
    if (row.type === 'transfer_out' && row.on_hand < 0 && key !== undefined) pendingOuts.set(key, [...(pendingOuts.get(key) ?? []), index]);
  });
  const done = new Set<number>();

  const transferOut = (row: ValuationRow, index: number, key: string): void => {
    done.add(index);
    const level = levelOf(row);
    const lots = consume(level, row, BigInt(-row.on_hand));
    const queue = pendingOuts.get(key);
    if (queue && queue[0] === index) queue.shift();
    else if (queue) pendingOuts.set(key, queue.filter((i) => i !== index));
    cargo.set(key, [...(cargo.get(key) ?? []), { lots, currency: level.currency, correlation_id: row.correlation_id ?? '', row }]);
  };

  const transferIn = (row: ValuationRow, key: string): void => {
    let waiting = cargo.get(key);
    if (!waiting?.length) {
      const outIndex = pendingOuts.get(key)?.[0];
      const out = outIndex === undefined ? undefined : ledger[outIndex];
      if (out && outIndex !== undefined) transferOut(out, outIndex, key);
      waiting = cargo.get(key);
    }
    const level = levelOf(row);
    const k = BigInt(row.on_hand);
    const shipment = waiting?.shift();
    if (!shipment) {
      warn(row, 'unmatched_transfer', k, 'no transfer_out with this correlation_id: units valued at the level average');
      atAverage(level, row, k);
      return;
    }
    const { head, rest } = splitLots(shipment.lots, k);
    const carried = lotsQuantity(head);
    if (!level.accepts(shipment.currency, lotsValue(head))) {
      warn(row, 'currency_mismatch', carried, `the units were costed in ${shipment.currency ?? 'no currency'}, the level in ${level.currency ?? 'no currency'}: valued at the level average`);
      atAverage(level, row, carried);
    } else level.put(head);
    if (carried < k) {
      warn(row, 'unmatched_transfer', k - carried, 'more units came in than the transfer_out sent: the rest valued at the level average');
      atAverage(level, row, k - carried);
    }
    if (lotsQuantity(rest) > 0n) warn(shipment.row, 'unmatched_transfer', lotsQuantity(rest), 'fewer units came in than went out: the rest is in no level');
  };

  ledger.forEach((row, index) => {
    if (done.has(index)) return;
    const key = transferKey(row);
    if (row.type === 'transfer_out' && row.on_hand < 0 && key !== undefined) return transferOut(row, index, key);
    if (row.type === 'transfer_in' && row.on_hand > 0 && key !== undefined) return transferIn(row, key);

    const level = levelOf(row);
    const k = BigInt(Math.abs(row.on_hand));
    if ((row.type === 'transfer_out' || row.type === 'transfer_in') && key === undefined) {
      warn(row, 'unmatched_transfer', k, 'a transfer row without a correlation_id: valued as a plain movement');
    }
    if (row.on_hand < 0) {
      consume(level, row, k);
      return;
    }
    if (row.unit_cost === undefined || row.type === 'transfer_in') return atAverage(level, row, k);
    const unit = parseMicros(row.unit_cost);
    if (unit === undefined || row.currency === undefined) {
      warn(row, 'invalid_cost', k, `unit_cost ${JSON.stringify(row.unit_cost)} is not a non-negative decimal with a currency: valued at the level average`);
      return atAverage(level, row, k);
    }
    if (!level.accepts(row.currency, k * unit)) {
      warn(row, 'currency_mismatch', k, `cost in ${row.currency}, the level in ${level.currency ?? 'no currency'}: valued at the level average`);
      return atAverage(level, row, k);
    }
    level.put([{ quantity: k, value: k * unit }]);
  });

  for (const shipments of cargo.values()) {
    for (const { row, lots } of shipments) warn(row, 'unmatched_transfer', lotsQuantity(lots), 'no transfer_in with this correlation_id by as_of: the units are in no level');
  }

  const inTransit: ValuationState['in_transit'] = [];
  for (const shipments of cargo.values()) {
    for (const { row, lots, currency, correlation_id } of shipments) {
      inTransit.push({
        correlation_id,
        sku_id: row.sku_id,
        currency: currency ?? null,
        lots: lots.map((l) => ({ quantity: l.quantity.toString(), value_micros: l.value.toString() })),
        out: { movement_id: row.movement_id, warehouse_id: row.warehouse_id },
      });
    }
  }
  // The state is built when asked for (the close asks; a report does not): every FIFO layer as text is a
  // second copy of the books, ~0.1 s at 200k layers. The levels are not touched after this run, so it is the same whenever asked.
  let built: ValuationState | undefined;
  const resultState = (): ValuationState => {
    if (built) return built;
    const levelStates = [...levels.values()].sort((a, b) => compare(a.sku_id, b.sku_id) || compare(a.warehouse_id, b.warehouse_id)).map((l) => l.state());
    const stateAsOf = new Date(asOf).toISOString();
    // Every level is of options.method, so each filter keeps them all; it only tells the compiler which shape they have.
    const state: ValuationState =
      options.method === 'fifo'
        ? { version: VALUATION_STATE_VERSION, method: 'fifo', as_of: stateAsOf, levels: levelStates.filter((l) => 'layers' in l), in_transit: inTransit }
        : { version: VALUATION_STATE_VERSION, method: 'weighted_average', as_of: stateAsOf, levels: levelStates.filter((l) => 'pool' in l), in_transit: inTransit };
    // The engine's own state is well formed: resuming from it (the daily close chains runs) need not decode it again.
    decoded.set(state, state);
    built = state;
    return state;
  };

  const wanted = (sku_id: string, warehouse_id: string): boolean =>
    (options.sku_id === undefined || options.sku_id === sku_id) && (options.warehouse_id === undefined || options.warehouse_id === warehouse_id);

  const totals = new Map<string, { quantity: bigint; value: bigint }>();
  const lines: ValuationLine[] = [];
  for (const level of levels.values()) {
    if (!wanted(level.sku_id, level.warehouse_id)) continue;
    const quantity = level.quantity();
    const value = level.pool.value();
    const { currency } = level;
    lines.push({
      sku_id: level.sku_id,
      warehouse_id: level.warehouse_id,
      quantity: Number(quantity),
      unit_cost: quantity > 0n ? unitCostOut(value, quantity, currency) : null,
      value: formatMicros(value, currency),
      currency: currency ?? null,
    });
    // A level without a currency has never had a cost, so it holds no value to total.
    if (currency !== undefined) {
      const total = totals.get(currency) ?? { quantity: 0n, value: 0n };
      totals.set(currency, { quantity: total.quantity + quantity, value: total.value + value });
    }
  }
  lines.sort((a, b) => compare(a.sku_id, b.sku_id) || compare(a.warehouse_id, b.warehouse_id));

  return {
    as_of: options.as_of,
    method: options.method,
    lines,
    totals: [...totals.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([currency, total]) => ({ currency, quantity: Number(total.quantity), value: formatMicros(total.value, currency) })),
    warnings: warnings.filter((w) => wanted(w.sku_id, w.warehouse_id)),
    get state() {
      return resultState();
    },
  };
};
