import { AppError } from '../platform/errors';
import type { MovementType, Quantities, StockLevel } from './model';

/**
 * The arithmetic of stock, as pure functions: given a level and a change,
 * the level after it and the deltas for the ledger, or the reason it is
 * refused. Storage code applies these; tests check them exhaustively.
 */

/** Far above any real stock, far below 2^53: sums stay exact in JSON numbers and DynamoDB. */
export const MAX_ON_HAND = 1_000_000_000_000;

/** A stock-out: nothing available to promise (the stock overview's stock-outs, the level list's `status=stock_out`). */
export const isStockOut = (level: Pick<Quantities, 'available'>): boolean => level.available <= 0;

export interface Thresholds {
  reorder_point: number;
  safety_stock: number;
  reorder_quantity?: number;
}

export interface LevelChange {
  type: MovementType;
  quantity: number;
  /** With type 'thresholds': the level's new thresholds and where they come from. */
  thresholds?: Thresholds & { from: 'level' | 'sku_default' };
}

export interface Applied {
  level: StockLevel;
  deltas: Quantities;
}

const quantitiesOf = (level: Quantities): Quantities => ({
  on_hand: level.on_hand,
  reserved: level.reserved,
  available: level.available,
  incoming: level.incoming,
});

export const subtract = (after: Quantities, before: Quantities): Quantities => ({
  on_hand: after.on_hand - before.on_hand,
  reserved: after.reserved - before.reserved,
  available: after.available - before.available,
  incoming: after.incoming - before.incoming,
});

const insufficient = (level: StockLevel, requested: number): AppError =>
  new AppError(
    'INSUFFICIENT_STOCK',
    `only ${level.available} available of SKU '${level.sku_id}' in warehouse '${level.warehouse_id}', ${requested} requested`,
    { sku_id: level.sku_id, warehouse_id: level.warehouse_id, available: level.available, requested },
  );

/**
 * Releasing or shipping more than is reserved, or receiving or cancelling more than is incoming,
 * would mean the books were already wrong: refuse loudly.
 */
const tooLow = (level: StockLevel, attribute: 'reserved' | 'incoming', requested: number): AppError =>
  new AppError('CONFLICT', `only ${level[attribute]} ${attribute} of SKU '${level.sku_id}' in warehouse '${level.warehouse_id}', ${requested} requested`, {
    sku_id: level.sku_id,
    warehouse_id: level.warehouse_id,
    [attribute]: level[attribute],
    requested,
  });

/** The order-driven changes: units move between available and reserved, or leave the building. */
export type ReservationType = 'allocation' | 'release' | 'shipment';

/** Changes whose effect is fixed deltas (every type but a count, which sets an absolute value, and thresholds). */
export type IncrementType = Exclude<MovementType, 'count' | 'thresholds'>;

/** A business rule as a condition on the stored level, so a write can state it without reading: `attribute >= atLeast` or `attribute <= atMost`. */
export type Guard =
  | { attribute: 'available' | 'reserved' | 'incoming'; atLeast: number; atMost?: never }
  | { attribute: 'on_hand' | 'incoming'; atMost: number; atLeast?: never };

export interface IncrementEffect {
  deltas: Quantities;
  /** Every guard must hold on the level as it stands for the change to apply. */
  guards: Guard[];
}

const deltasOf = (d: Partial<Quantities>): Quantities => ({ on_hand: 0, reserved: 0, available: 0, incoming: 0, ...d });

/** Units arrive on hand (and so become available), without taking on_hand past the cap. */
const arriving = (n: number): IncrementEffect => ({
  deltas: deltasOf({ on_hand: n, available: n }),
  guards: [{ attribute: 'on_hand', atMost: MAX_ON_HAND - n }],
});

/** Units leave on hand, only from what is available: reserved units stay promised. */
const leaving = (n: number): IncrementEffect => ({
  deltas: deltasOf({ on_hand: -n, available: -n }),
  guards: [{ attribute: 'available', atLeast: n }],
});

/**
 * The one arithmetic of every change with fixed deltas. Storage writes it as
 * a conditional increment with no read (functions/inventory/store.ts
 * levelIncrement), which is what lets a busy SKU's sales and a flash sale's
 * orders commit side by side; applyChange applies the same deltas and guards
 * to a level in hand, so both paths refuse exactly the same changes.
 */
export const incrementEffect = (change: { type: IncrementType; quantity: number }): IncrementEffect => {
  const n = change.quantity;
  switch (change.type) {
    case 'sale':
    case 'transfer_out':
      return leaving(n);
    case 'restock':
    case 'transfer_in':
      return arriving(n);
    case 'adjustment':
      // Signed: a found unit arrives, a damaged one leaves.
      return n < 0 ? leaving(-n) : arriving(n);
    case 'allocation':
      // Reserve for an order: the units stay on hand but are no longer available to anyone else.
      return { deltas: deltasOf({ reserved: n, available: -n }), guards: [{ attribute: 'available', atLeast: n }] };
    case 'release':
      return { deltas: deltasOf({ reserved: -n, available: n }), guards: [{ attribute: 'reserved', atLeast: n }] };
    case 'shipment':
      // Reserved units leave the building: on_hand and reserved fall together, available is untouched.
      // on_hand >= reserved always holds, so enough reserved means enough on hand.
      return { deltas: deltasOf({ on_hand: -n, reserved: -n }), guards: [{ attribute: 'reserved', atLeast: n }] };
    case 'purchase_ordered':
      return { deltas: deltasOf({ incoming: n }), guards: [{ attribute: 'incoming', atMost: MAX_ON_HAND - n }] };
    case 'purchase_cancelled':
      return { deltas: deltasOf({ incoming: -n }), guards: [{ attribute: 'incoming', atLeast: n }] };
    case 'receipt': {
      // Goods arrive against a purchase order: they stop being incoming and go on hand, available at once.
      const arrived = arriving(n);
      return {
        deltas: { ...arrived.deltas, incoming: -n },
        guards: [{ attribute: 'incoming', atLeast: n }, ...arrived.guards],
      };
    }
  }
};

export const isIncrement = (type: MovementType): type is IncrementType => type !== 'count' && type !== 'thresholds';

/** Why a guard refuses a change on this level: the same error whichever path found it. */
const refusal = (level: StockLevel, guard: Guard, quantity: number): AppError => {
  if (guard.atLeast !== undefined) {
    return guard.attribute === 'available' ? insufficient(level, guard.atLeast) : tooLow(level, guard.attribute, quantity);
  }
  return new AppError('CONFLICT', `${guard.attribute} would exceed ${MAX_ON_HAND}`, {
    [guard.attribute]: level[guard.attribute],
    delta: MAX_ON_HAND - guard.atMost,
  });
};

const holds = (level: StockLevel, guard: Guard): boolean =>
  guard.atLeast !== undefined ? level[guard.attribute] >= guard.atLeast : level[guard.attribute] <= guard.atMost;

/** The refusal of an increment by the level as it stands, or undefined if the level can take it. */
export const refusalFor = (level: StockLevel, change: { type: IncrementType; quantity: number }): AppError | undefined => {
  const failed = incrementEffect(change).guards.find((guard) => !holds(level, guard));
  return failed && refusal(level, failed, Math.abs(change.quantity));
};

const add = (level: Quantities, deltas: Quantities): Quantities => ({
  on_hand: level.on_hand + deltas.on_hand,
  reserved: level.reserved + deltas.reserved,
  available: level.available + deltas.available,
  incoming: level.incoming + deltas.incoming,
});

const applyIncrement = (level: StockLevel, change: { type: IncrementType; quantity: number }): Quantities => {
  const refused = refusalFor(level, change);
  if (refused) throw refused;
  return add(level, incrementEffect(change).deltas);
};

/** Change on_hand by `delta` (reserved untouched), refusing to take available below zero. */
const moveOnHand = (level: StockLevel, delta: number): Quantities => {
  if (level.available + delta < 0) throw insufficient(level, -delta);
  if (level.on_hand + delta > MAX_ON_HAND) {
    throw new AppError('CONFLICT', `on_hand would exceed ${MAX_ON_HAND}`, { on_hand: level.on_hand, delta });
  }
  return { ...quantitiesOf(level), on_hand: level.on_hand + delta, available: level.available + delta };
};

const nextQuantities = (level: StockLevel, change: LevelChange): Quantities => {
  switch (change.type) {
    case 'thresholds':
      // Only the thresholds change; the row still bumps the version, like every change to a level.
      return quantitiesOf(level);
    case 'count':
      // A count is the physical truth, but units already promised to orders cannot be counted away
      // silently: release or ship those reservations first.
      if (change.quantity < level.reserved) {
        throw new AppError(
          'CONFLICT',
          `counted ${change.quantity} but ${level.reserved} units are reserved for orders; release them first`,
          { counted: change.quantity, reserved: level.reserved },
        );
      }
      return moveOnHand(level, change.quantity - level.on_hand);
    default:
      return applyIncrement(level, { type: change.type, quantity: change.quantity });
  }
};

/** The level's thresholds after a 'thresholds' change (a missing reorder_quantity clears it). */
const withThresholds = (level: StockLevel, change: LevelChange): StockLevel => {
  if (change.type !== 'thresholds') return level;
  const t = change.thresholds;
  if (!t) throw new AppError('VALIDATION_FAILED', 'a thresholds change needs the thresholds');
  const { reorder_quantity: _dropped, ...rest } = level;
  return {
    ...rest,
    reorder_point: t.reorder_point,
    safety_stock: t.safety_stock,
    ...(t.reorder_quantity === undefined ? {} : { reorder_quantity: t.reorder_quantity }),
    thresholds_from: t.from,
  };
};

export const applyChange = (level: StockLevel, change: LevelChange, now: string): Applied => {
  const next = nextQuantities(level, change);
  return {
    level: { ...withThresholds(level, change), ...next, version: level.version + 1, updated_at: now },
    deltas: subtract(next, level),
  };
};

/** Compare-and-set guard: 409 with the current values when the caller's view is stale. */
export const checkExpectations = (
  level: StockLevel,
  expected: { expected_available?: number; expected_version?: number },
): void => {
  const stale =
    (expected.expected_available !== undefined && expected.expected_available !== level.available) ||
    (expected.expected_version !== undefined && expected.expected_version !== level.version);
  if (stale) {
    throw new AppError('VERSION_CONFLICT', 'the stock level changed since you read it; nothing was written', {
      current: level,
      expected_available: expected.expected_available,
      expected_version: expected.expected_version,
    });
  }
};
