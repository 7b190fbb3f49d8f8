/** Supplier contact details are personal data: returned only to roles with 'suppliers:contact'. */
export interface SupplierContact {
  name?: string;
  email?: string;
  phone?: string;
}

export interface Supplier {
  supplier_id: string;
  name: string;
  contact?: SupplierContact;
  lead_time_days: number;
  currency: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export const PURCHASE_ORDER_STATUSES = ['draft', 'submitted', 'partially_received', 'received', 'cancelled'] as const;
export type PurchaseOrderStatus = (typeof PURCHASE_ORDER_STATUSES)[number];

/** One SKU on a purchase order: what was ordered and what became of it. */
export interface PurchaseOrderLine {
  sku_id: string;
  /** Units ordered. */
  quantity: number;
  /** Per unit, exact decimal string in the order's currency. */
  unit_cost: string;
  /** Units received so far (above `quantity` only through an allowed over-receipt). */
  received: number;
  /** Units that will no longer come because the order was cancelled. */
  cancelled: number;
  /** Still expected: quantity - received - cancelled, never below zero. Counted in the level's `incoming` once submitted. */
  open: number;
}

export interface PurchaseOrder {
  purchase_order_id: string;
  supplier_id: string;
  /** The destination: every line is received into this warehouse. */
  warehouse_id: string;
  currency: string;
  status: PurchaseOrderStatus;
  lines: PurchaseOrderLine[];
  /** How many deliveries were received against this order. */
  receipts: number;
  created_at: string;
  updated_at: string;
  submitted_at?: string;
  received_at?: string;
  cancelled_at?: string;
  /** Grows by one with each change of the order record. */
  version: number;
}

export const openOf = (line: Pick<PurchaseOrderLine, 'quantity' | 'received' | 'cancelled'>): number =>
  Math.max(0, line.quantity - line.received - line.cancelled);

/** A line with its derived `open` quantity recomputed. */
export const withOpen = (line: Omit<PurchaseOrderLine, 'open'>): PurchaseOrderLine => ({ ...line, open: openOf(line) });

/** Statuses whose open quantities are counted in `incoming`. */
export const isIncoming = (status: PurchaseOrderStatus): boolean => status === 'submitted' || status === 'partially_received';
