/** What a stock level holds. `available` is stored (= on_hand - reserved) because a DynamoDB condition cannot do arithmetic. */
export interface Quantities {
  on_hand: number;
  reserved: number;
  available: number;
  incoming: number;
}

export interface StockLevel extends Quantities {
  sku_id: string;
  warehouse_id: string;
  reorder_point: number;
  safety_stock: number;
  /** How much to order when the level runs low (alerts' reorder suggestions); unset until a threshold says. */
  reorder_quantity?: number;
  /**
   * Where the thresholds come from: `level` once set for this SKU x warehouse
   * (PUT /api/thresholds with a warehouse_id), else `sku_default` when they were
   * inherited from the SKU-level default; absent while none was ever set.
   */
  thresholds_from?: 'level' | 'sku_default';
  /**
   * K when the level is split into K sub-levels (a flash-sale SKU, functions/inventory/sub-levels.ts);
   * absent while it is one item. Every read sums them: nothing outside inventory sees a sub-level.
   */
  sub_levels?: number;
  /**
   * Starts at 1 with the first movement and grows by one with each; 0 means "never stocked". On a
   * level split into sub-levels it is the sum of theirs, so it may grow by more than one per change.
   */
  version: number;
  updated_at: string | null;
  /** The ledger row of the change that last moved this level (null before the first). */
  last_movement_id: string | null;
}

export const MOVEMENT_TYPES = [
  'sale',
  'restock',
  'adjustment',
  'transfer_out',
  'transfer_in',
  'count',
  'allocation',
  'release',
  'shipment',
  'receipt',
  /** A submitted purchase order: incoming up. */
  'purchase_ordered',
  /** What a cancelled purchase order will no longer bring: incoming down. */
  'purchase_cancelled',
  /** New reorder point / safety stock (PUT /api/thresholds): zero deltas, the values in `note`. */
  'thresholds',
] as const;
export type MovementType = (typeof MOVEMENT_TYPES)[number];

/** Why a level changed, as its ledger row records it. */
export interface MovementCause {
  reason?: string;
  reference?: string;
  note?: string;
  /** Links the two rows of a transfer, the rows of an atomic batch, or an order's rows. */
  correlation_id?: string;
  /** On receipts: what each unit cost, as an exact decimal string, and its currency. */
  unit_cost?: string;
  currency?: string;
}

/** One immutable ledger row: a change to one stock level, with its cause and result. */
export interface Movement extends MovementCause {
  movement_id: string;
  sku_id: string;
  warehouse_id: string;
  type: MovementType;
  deltas: Quantities;
  /**
   * The level's quantities and version right after this movement. Reservation rows
   * (allocation, release, shipment) are written without reading the level, so that
   * concurrent orders never conflict; they carry no result (see reservationWrites).
   */
  resulting?: Quantities;
  version?: number;
  actor: string;
  created_at: string;
}

export interface Product {
  product_id: string;
  name: string;
  description?: string;
  brand?: string;
  category?: string;
  attributes?: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export interface Sku {
  sku_id: string;
  product_id: string;
  name: string;
  barcode?: string;
  unit_cost?: string;
  price?: string;
  currency?: string;
  attributes?: Record<string, string>;
  /** The supplier reorder suggestions order this SKU from (functions/replenishment); must exist. */
  supplier_id?: string;
  /** Target cycle service level of its reorder points, 0.5..0.999 (functions/replenishment/reorder-points.ts); unset: 0.95. */
  service_level?: number;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface Address {
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postal_code?: string;
  country: string;
}

export interface Warehouse {
  warehouse_id: string;
  name: string;
  address?: Address;
  latitude: number;
  longitude: number;
  priority: number;
  active: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

export const emptyLevel = (sku_id: string, warehouse_id: string): StockLevel => ({
  sku_id,
  warehouse_id,
  on_hand: 0,
  reserved: 0,
  available: 0,
  incoming: 0,
  reorder_point: 0,
  safety_stock: 0,
  version: 0,
  updated_at: null,
  last_movement_id: null,
});
