import type { Movement, StockLevel } from '../../functions/inventory/model';
import type { Order } from '../../functions/orders/model';

/**
 * The record of a concurrent workload (test/support/history.ts runs one, test/support/history-check.ts
 * judges one): what each logical request meant, and every HTTP attempt made for it, as sent and as
 * answered. A logical request may be sent more than once (a retry with the same Idempotency-Key, a
 * concurrent duplicate, an order re-sent under a new key); each sending is one attempt.
 *
 * The history starts from a fresh tenant: every level is zero and the ledger empty before the first
 * attempt, so the opening stock is itself part of the history (the setup restocks).
 */

export type UpdateType = 'sale' | 'restock' | 'adjustment' | 'count';

/** What a logical request asks for; `reference` is unique per logical request and links its ledger rows. */
export type Intent =
  | { kind: 'update'; sku_id: string; warehouse_id: string; type: UpdateType; quantity: number; reference: string }
  | { kind: 'transfer'; sku_id: string; from: string; to: string; quantity: number; reference: string }
  /** The order's rows carry its order_id as their reference. */
  | { kind: 'allocate'; order_id: string; lines: { sku_id: string; quantity: number }[] }
  | { kind: 'cancel'; order_id: string }
  | { kind: 'ship'; order_id: string; sku_id: string; quantity: number }
  /** A request that must be refused (4xx) whatever the state: a bad body, an unknown warehouse, a reused key. */
  | { kind: 'refusal'; why: string; reference?: string; order_id?: string };

export interface LogicalOp {
  id: number;
  intent: Intent;
}

export interface Attempt {
  /** The LogicalOp this attempt sends. */
  op: number;
  /** Milliseconds since the run started, when the request left and when its answer was read. */
  sent: number;
  answered: number;
  method: string;
  path: string;
  /** The JSON body sent, or the raw text when it was not JSON. */
  body: unknown;
  idempotencyKey?: string;
  /** The HTTP status; 'error' when no answer came (network error, client timeout). */
  status: number | 'error';
  answer: unknown;
  /** Where the answer broke the served OpenAPI document. */
  contractProblems?: string[];
}

export interface History {
  ops: LogicalOp[];
  attempts: Attempt[];
}

/** What the system holds once the workload is over, read through the API. */
export interface FinalState {
  levels: StockLevel[];
  /** Every ledger row of every SKU the workload touched. */
  movements: Movement[];
  /** Every order the history allocated or tried to (those that do not exist are absent). */
  orders: Order[];
}

export type CheckName =
  | 'lost' // (a) an acknowledged write without its ledger rows
  | 'duplicate' // (b) a write applied twice, or a retry sent after an ack answered differently
  | 'answer' // (b) sends of one key in flight together answered differently (one 2xx, one refused): applied once, told otherwise
  | 'negative' // (c) a level below zero, in an answer or at the end
  | 'oversell' // (c) a decrement acknowledged beyond what the history can have made available
  | 'ledger' // (d) the ledger does not add up to the levels, or a row's deltas are not its request's
  | 'refused' // (e) a refused request that changed something, or a bad request accepted
  | 'orders' // (f) orders and reservations disagree
  | 'unlinked' // a ledger row no request of the history explains
  | 'server'; // a 5xx other than 503, or an answer breaking the API's contract

export interface Violation {
  check: CheckName;
  message: string;
}
