import fc from 'fast-check';
import {
  distanceKm,
  planAllocation,
  type PlanLine,
  type PlanRequest,
  type PlanResult,
  type PlanWarehouse,
  type Strategy,
} from '../../functions/orders/planner';

// Ship-to at the origin; on the equator one degree of longitude is ~111.2 km, so x = degrees east.
const HOME = { latitude: 0, longitude: 0 };
const wh = (warehouse_id: string, longitude: number, extra: Partial<PlanWarehouse> = {}): PlanWarehouse => ({
  warehouse_id,
  latitude: 0,
  longitude,
  priority: 1,
  active: true,
  ...extra,
});

/** stock: { warehouse_id: { sku_id: units } } */
type Stock = Record<string, Record<string, number>>;
const request = (warehouses: PlanWarehouse[], stock: Stock, lines: PlanLine[], options: Partial<PlanRequest> = {}): PlanRequest => ({
  lines,
  ship_to: HOME,
  strategy: 'fewest_shipments',
  allow_split: true,
  warehouses,
  available: (sku, warehouse) => stock[warehouse]?.[sku] ?? 0,
  ...options,
});

const ok = (result: PlanResult) => {
  if (!result.ok) throw new Error(`expected a plan, got: ${result.explanation}`);
  return result;
};
const failed = (result: PlanResult) => {
  if (result.ok) throw new Error(`expected a refusal, got: ${result.explanation}`);
  return result;
};
/** line -> [[warehouse, quantity], ...] for compact assertions. */
const fills = (lines: { sku_id: string; allocations: { warehouse_id: string; quantity: number }[] }[]) =>
  Object.fromEntries(lines.map((l) => [l.sku_id, l.allocations.map((a) => [a.warehouse_id, a.quantity])]));

describe('planAllocation: fewest_shipments', () => {
  test('prefers one warehouse that fills the whole order over a split from nearer warehouses', () => {
    const plan = ok(
      planAllocation(
        request([wh('near-a', 1), wh('near-b', 2), wh('far', 30)], { 'near-a': { a: 5 }, 'near-b': { b: 5 }, far: { a: 5, b: 5 } }, [
          { sku_id: 'a', quantity: 5 },
          { sku_id: 'b', quantity: 5 },
        ]),
      ),
    );
    expect(plan.shipments).toBe(1);
    expect(plan.warehouses).toEqual(['far']);
    expect(fills(plan.lines)).toEqual({ a: [['far', 5]], b: [['far', 5]] });
    expect(plan.explanation).toMatch(/far .*only eligible warehouse that can fill the whole order/);
  });

  test('chooses the nearest of several warehouses that can each fill the whole order, and says so', () => {
    const stock = { w1: { a: 9 }, w2: { a: 9 }, w3: { a: 9 } };
    const plan = ok(planAllocation(request([wh('w1', 5), wh('w2', 2), wh('w3', 9)], stock, [{ sku_id: 'a', quantity: 3 }])));
    expect(plan.warehouses).toEqual(['w2']);
    expect(plan.lines[0]!.allocations).toEqual([{ warehouse_id: 'w2', quantity: 3, distance_km: 222.4 }]);
    expect(plan.explanation).toBe('Warehouse w2 can fill the whole order and is the nearest (222.4 km) of the 3 that can.');
  });

  test('breaks a distance tie by priority, then by warehouse id', () => {
    const stock = { b: { a: 1 }, c: { a: 1 }, d: { a: 1 } };
    const byPriority = ok(planAllocation(request([wh('c', 3), wh('b', 3, { priority: 2 }), wh('d', 3, { priority: 0 })], stock, [{ sku_id: 'a', quantity: 1 }])));
    expect(byPriority.warehouses).toEqual(['d']);
    expect(byPriority.explanation).toMatch(/tied on distance with c, it has the better priority/);
    const byId = ok(planAllocation(request([wh('d', 3), wh('c', 3), wh('b', 3)], stock, [{ sku_id: 'a', quantity: 1 }])));
    expect(byId.warehouses).toEqual(['b']);
    expect(byId.explanation).toMatch(/chosen by warehouse id/);
  });

  test('splits across the fewest warehouses: 2 farther ones rather than the 3 nearest', () => {
    const warehouses = [wh('n1', 1), wh('n2', 2), wh('n3', 3), wh('far', 20)];
    const stock = { n1: { a: 4 }, n2: { b: 4 }, n3: { c: 4 }, far: { a: 4, b: 4 } };
    const lines = ['a', 'b', 'c'].map((sku_id) => ({ sku_id, quantity: 4 }));
    const plan = ok(planAllocation(request(warehouses, stock, lines)));
    expect(plan.shipments).toBe(2);
    // n1 and n2 are nearer than far, but using them would take 3 shipments: nothing ships from outside the set.
    expect(fills(plan.lines)).toEqual({ a: [['far', 4]], b: [['far', 4]], c: [['n3', 4]] });
    expect(plan.warehouses).toEqual(['n3', 'far']);
    expect(plan.explanation).toBe('No single warehouse holds the whole order; 2 shipments from n3, far is the fewest possible.');
  });

  test('among equally small splits, picks the set with the smallest total distance, filled nearest-first', () => {
    const warehouses = [wh('a1', 1), wh('a2', 10), wh('b1', 12), wh('b2', 2)];
    const stock = { a1: { a: 3 }, a2: { a: 3 }, b1: { b: 3 }, b2: { b: 2 } };
    const lines = [
      { sku_id: 'a', quantity: 3 },
      { sku_id: 'b', quantity: 2 },
    ];
    const plan = ok(planAllocation(request(warehouses, stock, lines)));
    expect(plan.warehouses).toEqual(['a1', 'b2']);
    expect(plan.explanation).toMatch(/^No single warehouse holds the whole order; 2 shipments from a1, b2 is the fewest possible\. Of the 4 sets of 2/);
  });

  test('a split fills a line from several warehouses of the set when none holds it all, never with a 0 allocation', () => {
    const plan = ok(
      planAllocation(request([wh('w1', 1), wh('w2', 2), wh('w3', 3)], { w1: { a: 2 }, w2: { a: 2 }, w3: { a: 2 } }, [{ sku_id: 'a', quantity: 5 }])),
    );
    expect(fills(plan.lines)).toEqual({ a: [['w1', 2], ['w2', 2], ['w3', 1]] });
    expect(plan.shipments).toBe(3);
  });

  test('falls back to a greedy set cover beyond the search budget, still covering the order, and says it may not be minimal', () => {
    // 40 warehouses holding one unit each: a 12-unit line needs 12 of them, C(40, 12) subsets is far past the budget.
    const warehouses = Array.from({ length: 40 }, (_, i) => wh(`w${String(i).padStart(2, '0')}`, 40 - i));
    const stock = Object.fromEntries(warehouses.map((w) => [w.warehouse_id, { a: 1 }]));
    const started = Date.now();
    const plan = ok(planAllocation(request(warehouses, stock, [{ sku_id: 'a', quantity: 12 }])));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(plan.shipments).toBe(12);
    expect(plan.warehouses).toEqual(Array.from({ length: 12 }, (_, i) => `w${39 - i}`)); // the 12 nearest
    expect(plan.explanation).toMatch(/greedy set cover .* may not be the fewest possible/);
  });
});

describe('planAllocation: eligibility', () => {
  test('never uses an inactive warehouse, even the nearest one holding everything', () => {
    const plan = ok(
      planAllocation(request([wh('closed', 1, { active: false }), wh('open', 50)], { closed: { a: 10 }, open: { a: 10 } }, [{ sku_id: 'a', quantity: 10 }])),
    );
    expect(plan.warehouses).toEqual(['open']);
  });

  test('an order only an inactive warehouse could fill is refused, not filled from it', () => {
    const result = failed(planAllocation(request([wh('closed', 1, { active: false })], { closed: { a: 10 } }, [{ sku_id: 'a', quantity: 1 }])));
    expect(result.shortfall).toEqual([{ sku_id: 'a', requested: 1, available: 0, short: 1 }]);
    expect(result.partial).toEqual([]);
    expect(result.explanation).toBe('No active warehouse is eligible, so nothing can be shipped.');
  });

  test('honours warehouse_ids: only the listed warehouses are considered, unknown ids are ignored', () => {
    const warehouses = [wh('w1', 1), wh('w2', 2), wh('w3', 3)];
    const stock = { w1: { a: 10 }, w2: { a: 3 }, w3: { a: 3 } };
    const plan = ok(planAllocation(request(warehouses, stock, [{ sku_id: 'a', quantity: 5 }], { warehouse_ids: ['w3', 'w2', 'nope'] })));
    expect(fills(plan.lines)).toEqual({ a: [['w2', 3], ['w3', 2]] });
    const none = failed(planAllocation(request(warehouses, stock, [{ sku_id: 'a', quantity: 5 }], { warehouse_ids: [] })));
    expect(none.explanation).toMatch(/among the requested warehouse_ids/);
  });
});

describe('planAllocation: orders that cannot be filled', () => {
  test('explains an impossible order with the shortfall per line and a partial proposal, nearest-first', () => {
    const warehouses = [wh('w1', 1), wh('w2', 2)];
    const stock = { w1: { a: 3, b: 9 }, w2: { a: 2 } };
    const lines = [
      { sku_id: 'a', quantity: 8 },
      { sku_id: 'b', quantity: 4 },
      { sku_id: 'c', quantity: 2 },
    ];
    const result = failed(planAllocation(request(warehouses, stock, lines)));
    expect(result.shortfall).toEqual([
      { sku_id: 'a', requested: 8, available: 5, short: 3 },
      { sku_id: 'c', requested: 2, available: 0, short: 2 },
    ]);
    // Lines of which nothing can ship are left out of the partial proposal.
    expect(result.partial).toEqual([
      {
        sku_id: 'a',
        quantity: 5,
        allocations: [
          { warehouse_id: 'w1', quantity: 3, distance_km: 111.2 },
          { warehouse_id: 'w2', quantity: 2, distance_km: 222.4 },
        ],
      },
      { sku_id: 'b', quantity: 4, allocations: [{ warehouse_id: 'w1', quantity: 4, distance_km: 111.2 }] },
    ]);
    expect(result.explanation).toBe(
      'Not enough stock across the 2 eligible warehouses: a has 5 of 8, c has 0 of 2. The partial proposal ships 9 of 14 units from w1, w2.',
    );
  });

  test('allow_split=false refuses a split and reports the shortfall relative to the best single warehouse', () => {
    const warehouses = [wh('w1', 1), wh('w2', 2)];
    const stock = { w1: { a: 2, b: 1 }, w2: { a: 5 } };
    const lines = [
      { sku_id: 'a', quantity: 5 },
      { sku_id: 'b', quantity: 1 },
    ];
    expect(ok(planAllocation(request(warehouses, stock, lines))).shipments).toBe(2); // a split would do
    const result = failed(planAllocation(request(warehouses, stock, lines, { allow_split: false })));
    // w2 can ship 5 of 6 units, w1 only 3: w2 is the best single warehouse.
    expect(result.shortfall).toEqual([{ sku_id: 'b', requested: 1, available: 0, short: 1 }]);
    expect(fills(result.partial)).toEqual({ a: [['w2', 5]] });
    expect(result.explanation).toMatch(/^Splitting is not allowed .*only across several warehouses\. .*best single warehouse, w2, which can ship 5 of 6 units\.$/);
  });

  test.each<Strategy>(['nearest', 'priority'])('allow_split=false with %s picks a single warehouse by that ordering', (strategy) => {
    const warehouses = [wh('near', 1, { priority: 5 }), wh('first', 9, { priority: 0 })];
    const stock = { near: { a: 5 }, first: { a: 5 } };
    const plan = ok(planAllocation(request(warehouses, stock, [{ sku_id: 'a', quantity: 5 }], { strategy, allow_split: false })));
    expect(plan.warehouses).toEqual([strategy === 'nearest' ? 'near' : 'first']);
    expect(plan.explanation).toMatch(/^Splitting is not allowed, so one warehouse ships everything/);
  });
});

describe('planAllocation: nearest and priority strategies', () => {
  const warehouses = [wh('near', 1, { priority: 3 }), wh('mid', 5, { priority: 1 }), wh('far', 9, { priority: 1 }), wh('big', 20, { priority: 2 })];
  const stock = { near: { a: 2 }, mid: { a: 2 }, far: { a: 2 }, big: { a: 10 } };
  const lines = [{ sku_id: 'a', quantity: 5 }];

  test('nearest fills each line from the nearest warehouses first, even when one warehouse could fill it all', () => {
    const plan = ok(planAllocation(request(warehouses, stock, lines, { strategy: 'nearest' })));
    expect(fills(plan.lines)).toEqual({ a: [['near', 2], ['mid', 2], ['far', 1]] });
    expect(plan.warehouses).toEqual(['near', 'mid', 'far']);
    expect(plan.explanation).toBe('Each line is filled from the nearest eligible warehouses first: 3 shipments from near, mid, far.');
  });

  test('priority fills each line by priority first, breaking priority ties by distance', () => {
    const plan = ok(planAllocation(request(warehouses, stock, lines, { strategy: 'priority' })));
    expect(fills(plan.lines)).toEqual({ a: [['mid', 2], ['far', 2], ['big', 1]] });
    expect(plan.warehouses).toEqual(['mid', 'far', 'big']);
  });

  test('fewest_shipments on the same stock ships from the one warehouse that holds it all', () => {
    expect(ok(planAllocation(request(warehouses, stock, lines))).warehouses).toEqual(['big']);
  });
});

describe('planAllocation: contract', () => {
  test('does not mutate its inputs and returns the same plan for the same input', () => {
    const warehouses = [wh('w1', 1), wh('w2', 2)].map((w) => Object.freeze(w));
    const lines = [Object.freeze({ sku_id: 'a', quantity: 3 })];
    const req = Object.freeze(request(Object.freeze(warehouses) as PlanWarehouse[], { w1: { a: 2 }, w2: { a: 2 } }, Object.freeze(lines) as PlanLine[]));
    const snapshot = JSON.stringify(req);
    expect(planAllocation(req)).toEqual(planAllocation(req));
    expect(JSON.stringify(req)).toBe(snapshot);
  });

  test('rejects non-positive or fractional quantities and duplicate sku lines (caller bugs)', () => {
    expect(() => planAllocation(request([], {}, [{ sku_id: 'a', quantity: 0 }]))).toThrow(RangeError);
    expect(() => planAllocation(request([], {}, [{ sku_id: 'a', quantity: 1.5 }]))).toThrow(RangeError);
    expect(() => planAllocation(request([], {}, [{ sku_id: 'a', quantity: 1 }, { sku_id: 'a', quantity: 2 }]))).toThrow(/merge duplicate/);
  });
});

describe('distanceKm', () => {
  test('New York to London is about 5570 km (within 1%)', () => {
    const d = distanceKm({ latitude: 40.7128, longitude: -74.006 }, { latitude: 51.5074, longitude: -0.1278 });
    expect(Math.abs(d - 5570) / 5570).toBeLessThan(0.01);
  });

  test('is 0 for the same point, symmetric, and half the circumference between antipodes', () => {
    const paris = { latitude: 48.8566, longitude: 2.3522 };
    const sydney = { latitude: -33.8688, longitude: 151.2093 };
    expect(distanceKm(paris, paris)).toBe(0);
    expect(distanceKm(paris, sydney)).toBeCloseTo(distanceKm(sydney, paris), 9);
    expect(distanceKm({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 })).toBeCloseTo(Math.PI * 6371.0088, 6);
  });
});

/* ------------------------------------------------------------------------------------------------
 * Properties over random small instances: up to 6 warehouses, 4 SKUs, coordinates on a coarse grid
 * so that distance ties happen, and sparse stock so that splits and shortfalls are common.
 * ---------------------------------------------------------------------------------------------- */

const SKUS = ['s0', 's1', 's2', 's3'];
const instance = fc
  .record({
    warehouses: fc.array(
      fc.record({
        latitude: fc.integer({ min: -3, max: 3 }),
        longitude: fc.integer({ min: -3, max: 3 }),
        priority: fc.integer({ min: 0, max: 2 }),
        active: fc.integer({ min: 0, max: 4 }).map((n) => n > 0), // 80% active
      }),
      { minLength: 1, maxLength: 6, size: 'max' },
    ),
    stock: fc.array(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 4, maxLength: 4 }), {
      minLength: 6,
      maxLength: 6,
    }),
    lines: fc.uniqueArray(fc.record({ sku: fc.integer({ min: 0, max: 3 }), quantity: fc.integer({ min: 1, max: 7 }) }), {
      minLength: 1,
      maxLength: 3,
      selector: (line) => line.sku,
    }),
    restrict: fc.option(fc.subarray(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'unknown']), { nil: undefined, freq: 3 }),
    strategy: fc.constantFrom<Strategy>('fewest_shipments', 'nearest', 'priority'),
    allow_split: fc.boolean(),
  })
  .map(({ warehouses, stock, lines, restrict, strategy, allow_split }) => {
    const req: PlanRequest = {
      warehouses: warehouses.map((w, i) => ({ warehouse_id: `w${i}`, ...w })),
      lines: lines.map((l) => ({ sku_id: SKUS[l.sku]!, quantity: l.quantity })),
      ship_to: HOME,
      strategy,
      allow_split,
      available: (sku, warehouse) => stock[Number(warehouse.slice(1))]?.[SKUS.indexOf(sku)] ?? 0,
    };
    if (restrict !== undefined) req.warehouse_ids = restrict;
    return req;
  });

const eligibleIds = (req: PlanRequest): string[] =>
  req.warehouses.filter((w) => w.active && (req.warehouse_ids === undefined || req.warehouse_ids.includes(w.warehouse_id))).map((w) => w.warehouse_id);
const canCover = (req: PlanRequest, ids: string[]): boolean =>
  req.lines.every((line) => ids.reduce((total, id) => total + req.available(line.sku_id, id), 0) >= line.quantity);
/** Brute force: the size of the smallest subset of eligible warehouses covering every line, or undefined. */
const minimalCover = (req: PlanRequest): number | undefined => {
  const ids = eligibleIds(req);
  let best: number | undefined;
  for (let mask = 1; mask < 1 << ids.length; mask++) {
    const subset = ids.filter((_, i) => mask & (1 << i));
    if (canCover(req, subset) && (best === undefined || subset.length < best)) best = subset.length;
  }
  return best;
};
const PROPERTY_RUNS = { numRuns: 500 };

describe('planAllocation properties', () => {
  test('a successful plan ships exactly the requested quantity per line, within each (sku, warehouse) stock, only from active allowed warehouses, with no 0 allocation', () => {
    fc.assert(
      fc.property(instance, (req) => {
        const result = planAllocation(req);
        if (!result.ok) return;
        const allowed = new Set(eligibleIds(req));
        expect(result.lines.map((l) => [l.sku_id, l.quantity])).toEqual(req.lines.map((l) => [l.sku_id, l.quantity]));
        const used = new Set<string>();
        for (const line of result.lines) {
          expect(line.allocations.reduce((total, a) => total + a.quantity, 0)).toBe(line.quantity);
          const seen = new Set<string>();
          for (const a of line.allocations) {
            expect(allowed.has(a.warehouse_id)).toBe(true);
            expect(seen.has(a.warehouse_id)).toBe(false);
            expect(a.quantity).toBeGreaterThan(0);
            expect(a.quantity).toBeLessThanOrEqual(req.available(line.sku_id, a.warehouse_id));
            seen.add(a.warehouse_id);
            used.add(a.warehouse_id);
          }
        }
        expect(new Set(result.warehouses)).toEqual(used);
        expect(result.shipments).toBe(used.size);
        expect(result.warehouses).toHaveLength(used.size);
        if (!req.allow_split) expect(result.shipments).toBe(1);
      }),
      PROPERTY_RUNS,
    );
  });

  test('fewest_shipments ships from one warehouse whenever a single eligible warehouse can fill the order', () => {
    fc.assert(
      fc.property(instance, (req0) => {
        const req = { ...req0, strategy: 'fewest_shipments' as const };
        const singleExists = eligibleIds(req).some((id) => canCover(req, [id]));
        const result = planAllocation(req);
        expect(result.ok).toBe(singleExists || (req.allow_split && minimalCover(req) !== undefined));
        if (singleExists && result.ok) expect(result.shipments).toBe(1);
      }),
      PROPERTY_RUNS,
    );
  });

  test('fewest_shipments with split uses the minimal number of warehouses (brute force over all subsets)', () => {
    fc.assert(
      fc.property(instance, (req0) => {
        const req = { ...req0, strategy: 'fewest_shipments' as const, allow_split: true };
        const minimal = minimalCover(req);
        const result = planAllocation(req);
        if (minimal === undefined) expect(result.ok).toBe(false);
        else expect(result.ok && result.shipments).toBe(minimal);
      }),
      PROPERTY_RUNS,
    );
  });

  test('a refusal reports exactly the short lines and a partial proposal within stock and the requested quantities', () => {
    fc.assert(
      fc.property(instance, (req) => {
        const result = planAllocation(req);
        if (result.ok) return;
        const eligible = eligibleIds(req);
        const partialWarehouses = new Set(result.partial.flatMap((l) => l.allocations.map((a) => a.warehouse_id)));
        if (req.allow_split) {
          // Available is the total across eligible warehouses; every short line and only those are listed.
          const expected = req.lines.flatMap((line) => {
            const available = eligible.reduce((total, id) => total + req.available(line.sku_id, id), 0);
            return available < line.quantity ? [{ sku_id: line.sku_id, requested: line.quantity, available, short: line.quantity - available }] : [];
          });
          expect(result.shortfall).toEqual(expected);
        } else {
          // Relative to one warehouse: the partial comes from at most one, and nothing ships from another.
          expect(partialWarehouses.size).toBeLessThanOrEqual(1);
          expect(result.shortfall.length).toBeGreaterThan(0);
          for (const s of result.shortfall) expect(s.short).toBe(s.requested - s.available);
        }
        for (const line of result.partial) {
          const requested = req.lines.find((l) => l.sku_id === line.sku_id)!.quantity;
          expect(line.quantity).toBeGreaterThan(0);
          expect(line.quantity).toBeLessThanOrEqual(requested);
          expect(line.allocations.reduce((total, a) => total + a.quantity, 0)).toBe(line.quantity);
          for (const a of line.allocations) {
            expect(eligible).toContain(a.warehouse_id);
            expect(a.quantity).toBeGreaterThan(0);
            expect(a.quantity).toBeLessThanOrEqual(req.available(line.sku_id, a.warehouse_id));
          }
          // Ships everything a line could get: requested, or everything available (in the one warehouse without split).
          const pool = req.allow_split ? eligible : [...partialWarehouses];
          const available = pool.reduce((total, id) => total + req.available(line.sku_id, id), 0);
          expect(line.quantity).toBe(Math.min(requested, available));
        }
      }),
      PROPERTY_RUNS,
    );
  });

  test('is deterministic: the same input gives the same plan', () => {
    fc.assert(
      fc.property(instance, (req) => {
        expect(planAllocation(req)).toEqual(planAllocation({ ...req, warehouses: req.warehouses.map((w) => ({ ...w })) }));
      }),
      { numRuns: 200 },
    );
  });
});
