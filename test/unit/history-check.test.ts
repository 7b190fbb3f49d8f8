import type { Movement, Quantities, StockLevel } from '../../functions/inventory/model';
import type { Order } from '../../functions/orders/model';
import { checkHistory } from '../support/history-check';
import type { Attempt, FinalState, History, Intent } from '../support/history-model';

/**
 * The history checker must be able to fail: a clean hand-made history passes, and each doctored one
 * (a lost acknowledgement, a write applied twice, a negative level, a ledger that does not add up, an
 * oversell with books that balance, a refused request that wrote, an unexplained row, orders that do
 * not match the reservations) is caught under the right name.
 */

const q = (d: Partial<Quantities>): Quantities => ({ on_hand: 0, reserved: 0, available: 0, incoming: 0, ...d });

const level = (on_hand: number, reserved: number, version: number, sku = 'sku-1', wh = 'wh-1'): StockLevel => ({
  sku_id: sku, warehouse_id: wh, on_hand, reserved, available: on_hand - reserved, incoming: 0,
  reorder_point: 0, safety_stock: 0, version, updated_at: '2026-01-01T00:00:00.000Z', last_movement_id: null,
});

let seq = 0;
const row = (type: Movement['type'], deltas: Partial<Quantities>, reference: string, extra: Partial<Movement> = {}): Movement => ({
  movement_id: `m-${++seq}`, sku_id: 'sku-1', warehouse_id: 'wh-1', type, deltas: q(deltas), reference, actor: 'test', created_at: '2026-01-01T00:00:00.000Z', ...extra,
});

const attempt = (op: number, sent: number, answered: number, status: Attempt['status'], answer: unknown, key = `k-${op}`): Attempt => ({
  op, sent, answered, method: 'POST', path: '/api/x', body: {}, idempotencyKey: key, status, answer,
});

const update = (type: 'sale' | 'restock' | 'adjustment' | 'count', quantity: number, reference: string): Intent => ({ kind: 'update', sku_id: 'sku-1', warehouse_id: 'wh-1', type, quantity, reference });

const order = (over: Partial<Order> = {}): Order => ({
  order_id: 'o-2', status: 'allocated', lines: [{ sku_id: 'sku-1', quantity: 4 }],
  allocations: [{ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 4, shipped: 0, released: 0, distance_km: 0 }],
  shipments: 1, strategy: 'fewest_shipments', ship_to: { latitude: 40, longitude: -74 }, created_at: 'x', updated_at: 'x', version: 1, ...over,
});

/** Restock 10, sell 3 (retried once answered), allocate 4 to order o-2, a refused sale of 0. */
const clean = (): { history: History; final: FinalState } => ({
  history: {
    ops: [
      { id: 0, intent: update('restock', 10, 'u-0') },
      { id: 1, intent: update('sale', 3, 'u-1') },
      { id: 2, intent: { kind: 'allocate', order_id: 'o-2', lines: [{ sku_id: 'sku-1', quantity: 4 }] } },
      { id: 3, intent: { kind: 'refusal', why: 'a sale of zero', reference: 'r-3' } },
    ],
    attempts: [
      attempt(0, 0, 10, 200, level(10, 0, 1)),
      attempt(1, 20, 30, 200, level(7, 0, 2)),
      attempt(1, 40, 50, 200, level(7, 4, 3)),
      attempt(2, 35, 60, 201, order()),
      attempt(3, 61, 62, 400, { error: { code: 'VALIDATION_FAILED' } }),
    ],
  },
  final: {
    levels: [level(7, 4, 3)],
    movements: [row('restock', { on_hand: 10, available: 10 }, 'u-0'), row('sale', { on_hand: -3, available: -3 }, 'u-1'), row('allocation', { reserved: 4, available: -4 }, 'o-2')],
    orders: [order()],
  },
});

const checks = (h: { history: History; final: FinalState }) => [...new Set(checkHistory(h.history, h.final).map((v) => v.check))].sort();

test('a clean history is explained', () => {
  expect(checkHistory(clean().history, clean().final)).toEqual([]);
});

test('an acknowledged sale with no ledger row is a lost write', () => {
  const h = clean();
  h.final.movements = h.final.movements.filter((m) => m.reference !== 'u-1');
  h.final.levels = [level(10, 4, 2)];
  expect(checks(h)).toEqual(['lost']);
});

test('a retried sale applied twice is caught, as is a retry answered otherwise', () => {
  const twice = clean();
  twice.final.movements.push(row('sale', { on_hand: -3, available: -3 }, 'u-1'));
  twice.final.levels = [level(4, 4, 4)];
  expect(checks(twice)).toEqual(['duplicate']);

  const answered = clean();
  answered.history.attempts[2] = attempt(1, 40, 50, 409, { error: { code: 'INSUFFICIENT_STOCK' } });
  expect(checks(answered)).toEqual(['duplicate']);
});

test('two sends of one key in flight together, one applied and one refused, are named apart from a duplicate', () => {
  const h = clean();
  h.history.attempts[2] = attempt(1, 22, 35, 409, { error: { code: 'CONFLICT' } });
  expect(checks(h)).toEqual(['answer']);
});

test('an order allocated twice (two allocation rows for one leg) is a duplicate', () => {
  const h = clean();
  h.final.movements.push(row('allocation', { reserved: 4, available: -4 }, 'o-2'));
  h.final.levels = [level(7, 8, 4)];
  expect(checks(h)).toContain('duplicate');
});

test('a level below zero, in an answer or at the end, is caught', () => {
  const h = clean();
  h.history.ops[1] = { id: 1, intent: update('sale', 12, 'u-1') };
  h.history.attempts[1] = attempt(1, 20, 30, 200, level(-2, 0, 2));
  h.history.attempts[2] = attempt(1, 40, 50, 200, level(-2, 0, 2));
  h.history.attempts[3] = attempt(2, 35, 60, 409, { error: { code: 'INSUFFICIENT_STOCK' } });
  h.final = { levels: [level(-2, 0, 2)], movements: [h.final.movements[0]!, row('sale', { on_hand: -12, available: -12 }, 'u-1')], orders: [] };
  expect(checks(h)).toEqual(['negative', 'oversell']);
});

test('a ledger that does not add up to the level is caught', () => {
  const h = clean();
  h.final.levels = [level(8, 4, 3)];
  expect(checks(h)).toEqual(['ledger']);
  const versions = clean();
  versions.final.levels = [level(7, 4, 5)];
  expect(checks(versions)).toEqual(['ledger']);
  const deltas = clean();
  deltas.final.movements[1] = row('sale', { on_hand: -2, available: -3 }, 'u-1');
  expect(checks(deltas)).toContain('ledger');
});

test('an oversell is caught even when the books balance: a sale of 5 answered before more than 3 could have arrived', () => {
  const h: { history: History; final: FinalState } = {
    history: {
      ops: [{ id: 0, intent: update('restock', 3, 'u-0') }, { id: 1, intent: update('sale', 5, 'u-1') }, { id: 2, intent: update('restock', 10, 'u-2') }],
      attempts: [attempt(0, 0, 10, 200, level(3, 0, 1)), attempt(1, 20, 30, 200, level(0, 0, 2)), attempt(2, 40, 50, 200, level(8, 0, 3))],
    },
    final: {
      levels: [level(8, 0, 3)],
      movements: [row('restock', { on_hand: 3, available: 3 }, 'u-0'), row('sale', { on_hand: -5, available: -5 }, 'u-1'), row('restock', { on_hand: 10, available: 10 }, 'u-2')],
      orders: [],
    },
  };
  expect(checks(h)).toEqual(['oversell']);
  // The same rows are fine when the second restock may have landed first (sent before the sale was answered).
  h.history.attempts[2] = attempt(2, 25, 50, 200, level(8, 0, 3));
  expect(checks(h)).toEqual([]);
});

test('a refused request that wrote, a bad body accepted, and a row nobody asked for are caught', () => {
  const wrote = clean();
  wrote.final.movements.push(row('restock', { on_hand: 1, available: 1 }, 'r-3'));
  wrote.final.levels = [level(8, 4, 4)];
  expect(checks(wrote)).toEqual(['refused']);

  const accepted = clean();
  accepted.history.attempts[4] = attempt(3, 61, 62, 200, level(7, 4, 3));
  expect(checks(accepted)).toEqual(['refused']);

  const ghost = clean();
  ghost.final.movements.push(row('restock', { on_hand: 1, available: 1 }, 'nobody'));
  ghost.final.levels = [level(8, 4, 4)];
  expect(checks(ghost)).toEqual(['unlinked']);
});

test('a request never answered may have landed once or not at all, but not twice', () => {
  const none = clean();
  none.history.attempts.splice(1, 2, attempt(1, 20, 30, 'error', 'socket hang up'));
  none.final.movements = none.final.movements.filter((m) => m.reference !== 'u-1');
  none.final.levels = [level(10, 4, 2)];
  expect(checks(none)).toEqual([]);
  const once = clean();
  once.history.attempts.splice(1, 2, attempt(1, 20, 30, 503, { error: { code: 'UNAVAILABLE' } }));
  expect(checks(once)).toEqual([]);
  once.final.movements.push(row('sale', { on_hand: -3, available: -3 }, 'u-1'));
  once.final.levels = [level(4, 4, 4)];
  expect(checks(once)).toEqual(['duplicate']);
});

test('orders: reserved units the orders do not hold, and a cancel acknowledged without its releases, are caught', () => {
  const reserved = clean();
  reserved.final.orders = [order({ allocations: [{ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 4, shipped: 0, released: 4, distance_km: 0 }], status: 'cancelled' })];
  expect(checks(reserved)).toContain('orders');

  const cancel = clean();
  cancel.history.ops.push({ id: 4, intent: { kind: 'cancel', order_id: 'o-2' } });
  cancel.history.attempts.push(attempt(4, 70, 80, 200, order({ status: 'cancelled' })));
  expect(checks(cancel)).toContain('lost');

  const shipped = clean();
  shipped.history.ops.push({ id: 4, intent: { kind: 'ship', order_id: 'o-2', sku_id: 'sku-1', quantity: 2 } });
  shipped.history.attempts.push(attempt(4, 70, 80, 200, order()));
  expect(checks(shipped)).toContain('lost');
});

test('a 500 is reported', () => {
  const h = clean();
  h.history.attempts[4] = attempt(3, 61, 62, 500, { error: { code: 'INTERNAL' } });
  expect(checks(h)).toEqual(['server']);
});
