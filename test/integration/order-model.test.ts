import fc from 'fast-check';
import { createProduct, createSku, createWarehouse } from '../../functions/inventory/catalog';
import { getSkuInventory, updateStock } from '../../functions/inventory/stock';
import type { Order } from '../../functions/orders/model';
import { allocateOrder, cancelOrder, confirmOrder, expireHold, readOrder, shipOrder } from '../../functions/orders/orders';
import type { RequestContext } from '../../functions/platform/context';
import { codeOf, contextFor, testDb } from '../support/domain';

/**
 * Model-based test: random interleavings of allocate, confirm, expire, cancel,
 * ship and restock run against the real system (domain functions on DynamoDB
 * Local) and against a small in-memory model; after every step the stock
 * levels and order statuses must agree.
 */
const db = testDb();
const WAREHOUSES = ['wh-1', 'wh-2', 'wh-3'];
const ORDER_IDS = ['o-1', 'o-2', 'o-3'];

interface Leg { warehouse_id: string; quantity: number; shipped: number; released: number }
interface Model {
  levels: Record<string, { on_hand: number; reserved: number }>;
  orders: Record<string, { status: Order['status']; legs: Leg[] }>;
}
interface Real {
  ctx: RequestContext;
  /** Far enough ahead that every hold has expired. */
  later: RequestContext;
}

const open = (leg: Leg) => leg.quantity - leg.shipped - leg.released;
const available = (m: Model, wh: string) => m.levels[wh]!.on_hand - m.levels[wh]!.reserved;

const check = async (m: Model, r: Real): Promise<void> => {
  const inventory = await getSkuInventory({ db, ctx: r.ctx }, 'sku-1');
  const actual = Object.fromEntries(inventory.levels.map((l) => [l.warehouse_id, { on_hand: l.on_hand, reserved: l.reserved, available: l.available }]));
  const expected = Object.fromEntries(
    Object.entries(m.levels)
      .filter(([wh]) => actual[wh] !== undefined || m.levels[wh]!.on_hand !== 0)
      .map(([wh, l]) => [wh, { ...l, available: l.on_hand - l.reserved }]),
  );
  expect(actual).toEqual(expected);
  for (const [id, order] of Object.entries(m.orders)) expect({ id, status: (await readOrder({ db, ctx: r.ctx }, id)).status }).toEqual({ id, status: order.status });
};

class Restock implements fc.AsyncCommand<Model, Real> {
  constructor(readonly wh: string, readonly quantity: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await updateStock({ db, ctx: r.ctx }, { sku_id: 'sku-1', warehouse_id: this.wh, transaction_type: 'restock', quantity: this.quantity });
    m.levels[this.wh]!.on_hand += this.quantity;
    await check(m, r);
  }
  toString = () => `restock(${this.wh}, ${this.quantity})`;
}

class Allocate implements fc.AsyncCommand<Model, Real> {
  constructor(readonly id: string, readonly quantity: number, readonly hold: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const input = { order_id: this.id, lines: [{ sku_id: 'sku-1', quantity: this.quantity }], ship_to: { latitude: 40, longitude: -74 }, strategy: 'fewest_shipments' as const, allow_split: true, ...(this.hold ? { hold_seconds: 600 } : {}) };
    const existed = m.orders[this.id] !== undefined;
    const total = WAREHOUSES.reduce((s, wh) => s + available(m, wh), 0);
    try {
      const order = await allocateOrder({ db, ctx: r.ctx }, input);
      if (!existed) {
        expect(total).toBeGreaterThanOrEqual(this.quantity);
        for (const leg of order.allocations) {
          expect(leg.quantity).toBeLessThanOrEqual(available(m, leg.warehouse_id));
          m.levels[leg.warehouse_id]!.reserved += leg.quantity;
        }
        m.orders[this.id] = { status: order.status, legs: order.allocations.map((l) => ({ warehouse_id: l.warehouse_id, quantity: l.quantity, shipped: 0, released: 0 })) };
        expect(order.status).toBe(this.hold ? 'held' : 'allocated');
      }
      // The same order_id for the same order answers with the order as it stands.
      else expect(order.lines).toEqual(input.lines);
    } catch (error) {
      if (existed) {
        // The same order_id for another order is refused and shows the order that exists.
        expect(error).toMatchObject({ code: 'ALREADY_EXISTS', details: { order_id: this.id, order: { order_id: this.id } } });
        const legs = m.orders[this.id]?.legs ?? [];
        expect(legs.reduce((s, l) => s + l.quantity, 0)).not.toBe(this.quantity);
      } else {
        expect(error).toMatchObject({ code: 'INSUFFICIENT_STOCK' });
        expect(total).toBeLessThan(this.quantity);
      }
    }
    await check(m, r);
  }
  toString = () => `allocate(${this.id}, ${this.quantity}${this.hold ? ', hold' : ''})`;
}

class Confirm implements fc.AsyncCommand<Model, Real> {
  constructor(readonly id: string) {}
  check = (m: Readonly<Model>) => m.orders[this.id] !== undefined;
  async run(m: Model, r: Real) {
    const order = m.orders[this.id]!;
    const code = await codeOf(confirmOrder({ db, ctx: r.ctx }, this.id));
    if (order.status === 'cancelled' || order.status === 'expired') expect(code).toBe('CONFLICT');
    else expect(code).toBeUndefined();
    if (order.status === 'held') order.status = 'allocated';
    await check(m, r);
  }
  toString = () => `confirm(${this.id})`;
}

const releaseAll = (m: Model, order: Model['orders'][string]) => {
  for (const leg of order.legs) {
    m.levels[leg.warehouse_id]!.reserved -= open(leg);
    leg.released += open(leg);
  }
};

class Expire implements fc.AsyncCommand<Model, Real> {
  constructor(readonly id: string) {}
  check = (m: Readonly<Model>) => m.orders[this.id] !== undefined;
  async run(m: Model, r: Real) {
    await expireHold({ db, ctx: r.later }, this.id);
    const order = m.orders[this.id]!;
    if (order.status === 'held') {
      releaseAll(m, order);
      order.status = 'expired';
    }
    await check(m, r);
  }
  toString = () => `expire(${this.id})`;
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  constructor(readonly id: string) {}
  check = (m: Readonly<Model>) => m.orders[this.id] !== undefined;
  async run(m: Model, r: Real) {
    const order = m.orders[this.id]!;
    const code = await codeOf(cancelOrder({ db, ctx: r.ctx }, this.id));
    if (order.status === 'shipped') expect(code).toBe('CONFLICT');
    else {
      expect(code).toBeUndefined();
      if (order.status !== 'cancelled' && order.status !== 'expired') {
        releaseAll(m, order);
        order.status = 'cancelled';
      }
    }
    await check(m, r);
  }
  toString = () => `cancel(${this.id})`;
}

class Ship implements fc.AsyncCommand<Model, Real> {
  constructor(readonly id: string, readonly quantity: number) {}
  check = (m: Readonly<Model>) => m.orders[this.id] !== undefined;
  async run(m: Model, r: Real) {
    const order = m.orders[this.id]!;
    const outstanding = order.legs.reduce((s, l) => s + open(l), 0);
    const code = await codeOf(shipOrder({ db, ctx: r.ctx }, this.id, { lines: [{ sku_id: 'sku-1', quantity: this.quantity }] }));
    const shippable = order.status === 'allocated' || order.status === 'partially_shipped';
    if (!shippable || this.quantity > outstanding) expect(code).toBe('CONFLICT');
    else {
      expect(code).toBeUndefined();
      let left = this.quantity;
      for (const leg of order.legs) {
        const n = Math.min(left, open(leg));
        leg.shipped += n;
        left -= n;
        m.levels[leg.warehouse_id]!.on_hand -= n;
        m.levels[leg.warehouse_id]!.reserved -= n;
      }
      order.status = order.legs.every((l) => open(l) === 0) ? 'shipped' : 'partially_shipped';
    }
    await check(m, r);
  }
  toString = () => `ship(${this.id}, ${this.quantity})`;
}

const orderId = fc.constantFrom(...ORDER_IDS);
const restock = fc.tuple(fc.constantFrom(...WAREHOUSES), fc.integer({ min: 1, max: 10 })).map(([wh, q]) => new Restock(wh, q));
const allocate = fc.tuple(orderId, fc.integer({ min: 1, max: 8 }), fc.boolean()).map(([id, q, hold]) => new Allocate(id, q, hold));
// Restocks and allocations are listed twice: orders must exist before the other commands mean anything.
const commands = [
  restock,
  restock,
  allocate,
  allocate,
  orderId.map((id) => new Confirm(id)),
  orderId.map((id) => new Expire(id)),
  orderId.map((id) => new Cancel(id)),
  fc.tuple(orderId, fc.integer({ min: 1, max: 4 })).map(([id, q]) => new Ship(id, q)),
];

test('model-based: any interleaving of allocate, confirm, expire, cancel, ship and restock agrees with the model after every step', async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'max' }), async (cmds) => {
      const ctx = contextFor();
      const later = contextFor(ctx.caller.tenantId, () => new Date(Date.now() + 3600_000));
      const deps = { db, ctx };
      await createProduct(deps, { product_id: 'p', name: 'P' });
      await createSku(deps, { sku_id: 'sku-1', product_id: 'p', name: 'S' });
      for (const [i, wh] of WAREHOUSES.entries()) {
        await createWarehouse(deps, { warehouse_id: wh, name: wh, latitude: 40, longitude: -74 - i * 3, priority: 100, active: true });
      }
      // Opening stock, so that most runs get past allocation to confirm, ship and release.
      for (const wh of WAREHOUSES) await updateStock(deps, { sku_id: 'sku-1', warehouse_id: wh, transaction_type: 'restock', quantity: 8 });
      const model: Model = { levels: Object.fromEntries(WAREHOUSES.map((wh) => [wh, { on_hand: 8, reserved: 0 }])), orders: {} };
      await fc.asyncModelRun(() => ({ model, real: { ctx, later } }), cmds);
    }),
    { numRuns: 30 },
  );
}, 240_000);
