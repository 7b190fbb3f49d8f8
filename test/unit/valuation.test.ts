import fc from 'fast-check';
import {
  divHalfEven,
  formatMicros,
  parseMicros,
  parseValuationState,
  valuate,
  type LedgerMovementType,
  type ValuationMethod,
  type ValuationResult,
  type ValuationRow,
  type ValuationState,
} from '../../functions/reports/valuation';

/**
 * A ledger written by hand: each row gets the next ULID-like id (ids sort as
 * the rows are written) and a day of January 2026, so that as_of can cut it.
 */
const ledger = () => {
  const rows: ValuationRow[] = [];
  let day = 1;
  const add = (type: LedgerMovementType, sku_id: string, warehouse_id: string, on_hand: number, extra: Partial<ValuationRow> = {}): ValuationRow => {
    const row: ValuationRow = {
      movement_id: `01J${String(rows.length).padStart(10, '0')}`,
      sku_id,
      warehouse_id,
      type,
      on_hand,
      created_at: `2026-01-${String(day).padStart(2, '0')}T12:00:00.000Z`,
      ...extra,
    };
    rows.push(row);
    return row;
  };
  return {
    rows,
    nextDay: () => (day += 1),
    receipt: (sku: string, wh: string, quantity: number, unit_cost: string, currency = 'USD') => add('receipt', sku, wh, quantity, { unit_cost, currency }),
    sale: (sku: string, wh: string, quantity: number) => add('sale', sku, wh, -quantity),
    count: (sku: string, wh: string, delta: number) => add('count', sku, wh, delta),
    adjust: (sku: string, wh: string, delta: number) => add('adjustment', sku, wh, delta),
    restock: (sku: string, wh: string, quantity: number, extra: Partial<ValuationRow> = {}) => add('restock', sku, wh, quantity, extra),
    transfer: (sku: string, from: string, to: string, quantity: number, correlation_id: string) => [
      add('transfer_out', sku, from, -quantity, { correlation_id }),
      add('transfer_in', sku, to, quantity, { correlation_id }),
    ],
    add,
  };
};

const AS_OF = '2026-12-31T23:59:59.999Z';
const run = (rows: ValuationRow[], method: ValuationMethod, as_of = AS_OF): ValuationResult => valuate(rows, { as_of, method });
const line = (result: ValuationResult, sku_id: string, warehouse_id: string) => {
  const found = result.lines.find((l) => l.sku_id === sku_id && l.warehouse_id === warehouse_id);
  if (!found) throw new Error(`no line for ${sku_id} x ${warehouse_id}`);
  return { quantity: found.quantity, unit_cost: found.unit_cost, value: found.value, currency: found.currency };
};

describe('exact decimal helpers', () => {
  test('half-even division rounds ties to the even neighbour and everything else to the nearest', () => {
    expect([divHalfEven(5n, 2n), divHalfEven(7n, 2n), divHalfEven(1n, 3n), divHalfEven(2n, 3n), divHalfEven(-5n, 2n)]).toEqual([2n, 4n, 0n, 1n, -2n]);
  });

  test('costs parse into micro-units exactly, and what is not a non-negative decimal is refused', () => {
    expect(parseMicros('19.99')).toBe(19_990_000n);
    expect(parseMicros('0.0001')).toBe(100n);
    expect(parseMicros('7')).toBe(7_000_000n);
    expect(parseMicros('1.00000050')).toBe(1_000_000n); // past 6 decimals: half-even
    expect(parseMicros('-1')).toBeUndefined();
    expect(parseMicros('1e3')).toBeUndefined();
  });

  test('amounts come out with at most 4 decimals (half-even) and at least the currency minor digits', () => {
    expect(formatMicros(4_200_000n, 'USD')).toBe('4.20');
    expect(formatMicros(400_000_000n, 'JPY')).toBe('400');
    expect(formatMicros(1_500_000n, 'BHD')).toBe('1.500');
    expect(formatMicros(5_333_350n, 'USD')).toBe('5.3334'); // a tie: 5.33335 goes to the even 5.3334
    expect(formatMicros(5_333_250n, 'USD')).toBe('5.3332');
    expect(formatMicros(0n, undefined)).toBe('0');
  });
});

describe('valuate against hand-computed ledgers', () => {
  test('receipts at different costs and a sale spanning layers: FIFO keeps the newest layer, weighted average the running average', () => {
    const l = ledger();
    l.receipt('sku', 'A', 10, '2.00');
    l.receipt('sku', 'A', 5, '3.00');
    expect(line(run(l.rows, 'fifo'), 'sku', 'A')).toEqual({ quantity: 15, unit_cost: '2.3333', value: '35.00', currency: 'USD' });
    expect(line(run(l.rows, 'weighted_average'), 'sku', 'A')).toEqual({ quantity: 15, unit_cost: '2.3333', value: '35.00', currency: 'USD' });
    l.sale('sku', 'A', 12); // FIFO: 10 x 2.00 + 2 x 3.00 out, 3 x 3.00 left; weighted: 35 x 12/15 = 28 out
    expect(line(run(l.rows, 'fifo'), 'sku', 'A')).toEqual({ quantity: 3, unit_cost: '3.00', value: '9.00', currency: 'USD' });
    expect(line(run(l.rows, 'weighted_average'), 'sku', 'A')).toEqual({ quantity: 3, unit_cost: '2.3333', value: '7.00', currency: 'USD' });
  });

  test('partial receipts of one order are layers at its cost; a later cost starts a new layer', () => {
    const l = ledger();
    l.receipt('sku', 'A', 4, '1.25');
    l.receipt('sku', 'A', 6, '1.25');
    l.receipt('sku', 'A', 5, '1.50');
    l.sale('sku', 'A', 11); // FIFO: the 10 at 1.25 and 1 at 1.50; weighted: 20 x 11/15 = 14.666667 (micro, half-even)
    expect(line(run(l.rows, 'fifo'), 'sku', 'A')).toEqual({ quantity: 4, unit_cost: '1.50', value: '6.00', currency: 'USD' });
    // 20 - 14.666667 = 5.333333, shown 5.3333; unit 5.333333 / 4 = 1.33333325, shown 1.3333.
    expect(line(run(l.rows, 'weighted_average'), 'sku', 'A')).toEqual({ quantity: 4, unit_cost: '1.3333', value: '5.3333', currency: 'USD' });
  });

  test('a transfer carries the source oldest layers, in order, to the destination, where they are consumed oldest first', () => {
    const l = ledger();
    l.receipt('sku', 'A', 5, '1.00');
    l.receipt('sku', 'A', 5, '2.00');
    l.receipt('sku', 'B', 1, '4.00');
    l.transfer('sku', 'A', 'B', 7, 'tr-1'); // FIFO: 5 x 1.00 + 2 x 2.00 go; weighted: 7 x 1.50 = 10.50 goes
    const fifo = run(l.rows, 'fifo');
    expect(line(fifo, 'sku', 'A')).toEqual({ quantity: 3, unit_cost: '2.00', value: '6.00', currency: 'USD' });
    expect(line(fifo, 'sku', 'B')).toEqual({ quantity: 8, unit_cost: '1.625', value: '13.00', currency: 'USD' });
    const weighted = run(l.rows, 'weighted_average');
    expect(line(weighted, 'sku', 'A')).toEqual({ quantity: 3, unit_cost: '1.50', value: '4.50', currency: 'USD' });
    expect(line(weighted, 'sku', 'B')).toEqual({ quantity: 8, unit_cost: '1.8125', value: '14.50', currency: 'USD' });

    l.sale('sku', 'B', 3); // FIFO at B: 1 x 4.00 + 2 x 1.00 out, left 3 x 1.00 + 2 x 2.00; weighted: 14.5 x 3/8 = 5.4375 out
    const after = run(l.rows, 'fifo');
    expect(line(after, 'sku', 'B')).toEqual({ quantity: 5, unit_cost: '1.40', value: '7.00', currency: 'USD' });
    expect(after.totals).toEqual([{ currency: 'USD', quantity: 8, value: '13.00' }]);
    const afterWeighted = run(l.rows, 'weighted_average');
    expect(line(afterWeighted, 'sku', 'B')).toEqual({ quantity: 5, unit_cost: '1.8125', value: '9.0625', currency: 'USD' });
    expect(afterWeighted.totals).toEqual([{ currency: 'USD', quantity: 8, value: '13.5625' }]);
    expect(after.warnings).toEqual([]);
  });

  test('a transfer_in whose id sorts before its transfer_out is valued the same (the out is taken first)', () => {
    const l = ledger();
    l.receipt('sku', 'A', 5, '1.00');
    l.receipt('sku', 'A', 5, '2.00');
    const [out, into] = l.transfer('sku', 'A', 'B', 7, 'tr-1');
    const swapped = l.rows.map((r) => (r === out && into ? { ...r, movement_id: into.movement_id } : r === into && out ? { ...r, movement_id: out.movement_id } : r));
    expect(run(swapped, 'fifo')).toEqual(run(l.rows, 'fifo'));
    expect(line(run(swapped, 'fifo'), 'sku', 'B')).toEqual({ quantity: 7, unit_cost: '1.2857', value: '9.00', currency: 'USD' });
  });

  test('a count down takes the oldest units; a count up comes in at the current average', () => {
    const l = ledger();
    l.receipt('sku', 'A', 10, '2.00');
    l.receipt('sku', 'A', 10, '4.00');
    l.count('sku', 'A', -4); // FIFO: 4 x 2.00 out (52 for 16); weighted: 60 x 4/20 = 12 out (48 for 16)
    expect(line(run(l.rows, 'fifo'), 'sku', 'A')).toEqual({ quantity: 16, unit_cost: '3.25', value: '52.00', currency: 'USD' });
    expect(line(run(l.rows, 'weighted_average'), 'sku', 'A')).toEqual({ quantity: 16, unit_cost: '3.00', value: '48.00', currency: 'USD' });
    l.count('sku', 'A', 2); // FIFO: 2 at 52/16 = 3.25; weighted: 2 at 3.00
    expect(line(run(l.rows, 'fifo'), 'sku', 'A')).toEqual({ quantity: 18, unit_cost: '3.25', value: '58.50', currency: 'USD' });
    expect(line(run(l.rows, 'weighted_average'), 'sku', 'A')).toEqual({ quantity: 18, unit_cost: '3.00', value: '54.00', currency: 'USD' });
    l.sale('sku', 'A', 7); // FIFO: the 6 left at 2.00 and 1 at 4.00 go: 9 x 4.00 + 2 x 3.25 left
    expect(line(run(l.rows, 'fifo'), 'sku', 'A')).toEqual({ quantity: 11, unit_cost: '3.8636', value: '42.50', currency: 'USD' });
  });

  test.each<ValuationMethod>(['fifo', 'weighted_average'])('returns (%s): a restock without a cost comes back at the last average, one with a cost at its cost', (method) => {
    const l = ledger();
    l.receipt('sku', 'A', 10, '2.00');
    l.sale('sku', 'A', 10);
    expect(line(run(l.rows, method), 'sku', 'A')).toEqual({ quantity: 0, unit_cost: null, value: '0.00', currency: 'USD' });
    l.restock('sku', 'A', 2, { reason: 'returned' }); // the empty level remembers 2.00
    l.adjust('sku', 'A', 1);
    expect(line(run(l.rows, method), 'sku', 'A')).toEqual({ quantity: 3, unit_cost: '2.00', value: '6.00', currency: 'USD' });
    l.restock('sku', 'A', 1, { unit_cost: '2.50', currency: 'USD' });
    expect(line(run(l.rows, method), 'sku', 'A')).toEqual({ quantity: 4, unit_cost: '2.125', value: '8.50', currency: 'USD' });
    expect(run(l.rows, method).warnings).toEqual([]);
  });

  test('units before any cost come in at zero, with a warning, and the level is in no total until it has a currency', () => {
    const l = ledger();
    const first = l.adjust('sku', 'A', 5);
    const before = run(l.rows, 'fifo');
    expect(line(before, 'sku', 'A')).toEqual({ quantity: 5, unit_cost: '0', value: '0', currency: null });
    expect(before.totals).toEqual([]);
    expect(before.warnings).toMatchObject([{ kind: 'no_cost', movement_id: first.movement_id, quantity: 5 }]);
    l.receipt('sku', 'A', 5, '1.00');
    l.sale('sku', 'A', 6); // FIFO: the 5 at zero and 1 at 1.00 go; weighted: 5 x 6/10 = 3 goes
    expect(line(run(l.rows, 'fifo'), 'sku', 'A')).toEqual({ quantity: 4, unit_cost: '1.00', value: '4.00', currency: 'USD' });
    expect(line(run(l.rows, 'weighted_average'), 'sku', 'A')).toEqual({ quantity: 4, unit_cost: '0.50', value: '2.00', currency: 'USD' });
  });

  test.each<ValuationMethod>(['fifo', 'weighted_average'])('a sale when stock is short (%s): a shortfall warning at the average, value never negative, the next receipt fills the hole first', (method) => {
    const l = ledger();
    l.receipt('sku', 'A', 3, '2.00');
    const sale = l.sale('sku', 'A', 5);
    const short = run(l.rows, method);
    expect(line(short, 'sku', 'A')).toEqual({ quantity: -2, unit_cost: null, value: '0.00', currency: 'USD' });
    expect(short.warnings).toEqual([
      expect.objectContaining({ kind: 'shortfall', movement_id: sale.movement_id, sku_id: 'sku', warehouse_id: 'A', type: 'sale', quantity: 2, unit_cost: '2.00', value: '4.00', currency: 'USD' }),
    ]);
    expect(short.totals).toEqual([{ currency: 'USD', quantity: -2, value: '0.00' }]);
    l.receipt('sku', 'A', 4, '3.00');
    expect(line(run(l.rows, method), 'sku', 'A')).toEqual({ quantity: 2, unit_cost: '3.00', value: '6.00', currency: 'USD' });
  });

  test('a short transfer carries the missing units at the source average, and says so', () => {
    const l = ledger();
    l.receipt('sku', 'A', 2, '5.00');
    l.transfer('sku', 'A', 'B', 3, 'tr-1');
    const result = run(l.rows, 'fifo');
    expect(line(result, 'sku', 'A')).toEqual({ quantity: -1, unit_cost: null, value: '0.00', currency: 'USD' });
    expect(line(result, 'sku', 'B')).toEqual({ quantity: 3, unit_cost: '5.00', value: '15.00', currency: 'USD' });
    expect(result.warnings).toMatchObject([{ kind: 'shortfall', warehouse_id: 'A', type: 'transfer_out', quantity: 1, value: '5.00' }]);
  });

  test('only on_hand moves value: allocation and release rows change nothing, a shipment consumes', () => {
    const l = ledger();
    l.receipt('sku', 'A', 4, '1.00');
    l.receipt('sku', 'A', 4, '2.00');
    l.add('allocation', 'sku', 'A', 0);
    l.add('release', 'sku', 'A', 0);
    l.add('allocation', 'sku', 'A', 0);
    l.add('shipment', 'sku', 'A', -5);
    expect(line(run(l.rows, 'fifo'), 'sku', 'A')).toEqual({ quantity: 3, unit_cost: '2.00', value: '6.00', currency: 'USD' });
  });

  test('two currencies are totalled separately, each in its minor-unit digits', () => {
    const l = ledger();
    l.receipt('s1', 'A', 10, '1.5');
    l.receipt('s4', 'B', 1, '0.3333');
    l.receipt('s2', 'A', 3, '2', 'EUR');
    l.receipt('s3', 'B', 7, '100', 'JPY');
    const result = run(l.rows, 'fifo');
    expect(result.totals).toEqual([
      { currency: 'EUR', quantity: 3, value: '6.00' },
      { currency: 'JPY', quantity: 7, value: '700' },
      { currency: 'USD', quantity: 11, value: '15.3333' },
    ]);
    expect(result.lines.map((x) => [x.sku_id, x.warehouse_id, x.value, x.currency])).toEqual([
      ['s1', 'A', '15.00', 'USD'],
      ['s2', 'A', '6.00', 'EUR'],
      ['s3', 'B', '700', 'JPY'],
      ['s4', 'B', '0.3333', 'USD'],
    ]);
  });

  test('a cost in another currency than the level holds is not mixed in: the units come at the level average', () => {
    const l = ledger();
    l.receipt('sku', 'A', 2, '1.00');
    const eur = l.receipt('sku', 'A', 2, '9.00', 'EUR');
    const result = run(l.rows, 'fifo');
    expect(line(result, 'sku', 'A')).toEqual({ quantity: 4, unit_cost: '1.00', value: '4.00', currency: 'USD' });
    expect(result.warnings).toMatchObject([{ kind: 'currency_mismatch', movement_id: eur.movement_id }]);
  });

  test('as_of cuts the ledger mid-way (a row at as_of counts), whatever order the rows come in', () => {
    const l = ledger();
    l.receipt('sku', 'A', 10, '1.00');
    l.nextDay();
    l.receipt('sku', 'A', 10, '2.00');
    l.nextDay();
    l.sale('sku', 'A', 15);
    l.nextDay();
    l.receipt('sku', 'A', 10, '3.00');
    const reversed = [...l.rows].reverse();
    expect(line(run(reversed, 'fifo', '2026-01-02T12:00:00.000Z'), 'sku', 'A')).toEqual({ quantity: 20, unit_cost: '1.50', value: '30.00', currency: 'USD' });
    expect(line(run(reversed, 'fifo', '2026-01-03T23:59:59.999Z'), 'sku', 'A')).toEqual({ quantity: 5, unit_cost: '2.00', value: '10.00', currency: 'USD' });
    expect(line(run(reversed, 'fifo'), 'sku', 'A')).toEqual({ quantity: 15, unit_cost: '2.6667', value: '40.00', currency: 'USD' });
    expect(run(reversed, 'fifo', '2025-12-31T23:59:59.999Z').lines).toEqual([]);
  });

  test('filters narrow the answer but a filtered warehouse is still valued at the cost its transfers carried', () => {
    const l = ledger();
    l.receipt('sku', 'A', 4, '2.50');
    l.receipt('other', 'B', 1, '1.00');
    l.transfer('sku', 'A', 'B', 4, 'tr-1');
    const result = valuate(l.rows, { as_of: AS_OF, method: 'fifo', warehouse_id: 'B', sku_id: 'sku' });
    expect(result.lines).toEqual([{ sku_id: 'sku', warehouse_id: 'B', quantity: 4, unit_cost: '2.50', value: '10.00', currency: 'USD' }]);
    expect(result.totals).toEqual([{ currency: 'USD', quantity: 4, value: '10.00' }]);
  });

  test('bad rows warn and are skipped; a bad as_of is the caller mistake and throws', () => {
    const l = ledger();
    l.receipt('sku', 'A', 2, '1.00');
    l.add('adjustment', 'sku', 'A', 1.5);
    l.restock('sku', 'A', 1, { unit_cost: 'abc', currency: 'USD' });
    const result = run(l.rows, 'fifo');
    expect(line(result, 'sku', 'A')).toEqual({ quantity: 3, unit_cost: '1.00', value: '3.00', currency: 'USD' });
    expect(result.warnings.map((w) => w.kind)).toEqual(['invalid_row', 'invalid_cost']);
    expect(() => valuate(l.rows, { as_of: 'yesterday', method: 'fifo' })).toThrow(RangeError);
  });
});

/* ---------- properties ---------- */

/** Money in the tests: integer ten-thousandths (the ledger's 4 decimals), parsed back from the engine's strings. */
const toTenThousandths = (text: string): bigint => {
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * 10_000n + BigInt(fraction.padEnd(4, '0'));
};
const costText = (tenThousandths: number): string => `${Math.floor(tenThousandths / 10_000)}.${String(tenThousandths % 10_000).padStart(4, '0')}`;

type Op =
  | { kind: 'receipt'; wh: number; quantity: number; cost: number }
  | { kind: 'sale'; wh: number; quantity: number }
  | { kind: 'adjustment'; wh: number; delta: number }
  | { kind: 'count'; wh: number; target: number }
  | { kind: 'transfer'; wh: number; to: number; quantity: number };

const WAREHOUSES = ['w0', 'w1', 'w2'];
const wh = fc.integer({ min: 0, max: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('receipt' as const), wh, quantity: fc.integer({ min: 1, max: 20 }), cost: fc.integer({ min: 0, max: 99_999 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('sale' as const), wh, quantity: fc.integer({ min: 1, max: 25 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('adjustment' as const), wh, delta: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('count' as const), wh, target: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('transfer' as const), wh, to: wh, quantity: fc.integer({ min: 1, max: 15 }) }) },
);

/** Ledger rows for the ops, one op per hour (a transfer's two rows share it), clamped so that no level's on_hand goes below zero. */
const rowsFor = (ops: readonly Op[], sku = 'sku'): ValuationRow[] => {
  const onHand = [0, 0, 0];
  const rows: ValuationRow[] = [];
  const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString();
  let hour = 0;
  const push = (type: LedgerMovementType, w: number, on_hand: number, extra: Partial<ValuationRow> = {}) => {
    rows.push({ movement_id: `01J${String(rows.length).padStart(10, '0')}`, sku_id: sku, warehouse_id: WAREHOUSES[w] ?? 'w0', type, on_hand, created_at: at(hour), ...extra });
    onHand[w] = (onHand[w] ?? 0) + on_hand;
  };
  ops.forEach((op, i) => {
    hour = i;
    const held = onHand[op.wh] ?? 0;
    switch (op.kind) {
      case 'receipt':
        return push('receipt', op.wh, op.quantity, { unit_cost: costText(op.cost), currency: 'USD' });
      case 'sale':
        return Math.min(op.quantity, held) > 0 ? push('sale', op.wh, -Math.min(op.quantity, held)) : undefined;
      case 'adjustment': {
        const delta = Math.max(op.delta, -held);
        return delta === 0 ? undefined : push('adjustment', op.wh, delta);
      }
      case 'count':
        return op.target === held ? undefined : push('count', op.wh, op.target - held);
      case 'transfer': {
        const quantity = Math.min(op.quantity, held);
        if (quantity === 0 || op.to === op.wh) return undefined;
        push('transfer_out', op.wh, -quantity, { correlation_id: `t${i}` });
        return push('transfer_in', op.to, quantity, { correlation_id: `t${i}` });
      }
    }
  });
  return rows;
};

const ledgerArb = fc.record({ ops: fc.array(opArb, { minLength: 0, maxLength: 60 }), cut: fc.double({ min: 0, max: 1, noNaN: true }) }).map(({ ops, cut }) => {
  const rows = rowsFor(ops);
  const cutAt = Math.floor(cut * rows.length);
  // as_of at a row's instant (that row counts) or before everything.
  const as_of = rows[cutAt - 1]?.created_at ?? '2025-12-31T00:00:00.000Z';
  return { rows, as_of, included: rows.filter((r) => r.created_at <= as_of) };
});

describe('valuate properties', () => {
  test.each<ValuationMethod>(['fifo', 'weighted_average'])('(%s) quantity per level is the sum of its on_hand deltas up to as_of, whatever the row order', (method) => {
    fc.assert(
      fc.property(ledgerArb, fc.boolean(), ({ rows, as_of, included }, reverse) => {
        const result = valuate(reverse ? [...rows].reverse() : rows, { as_of, method });
        const expected = new Map<string, number>();
        for (const r of included) expected.set(r.warehouse_id, (expected.get(r.warehouse_id) ?? 0) + r.on_hand);
        expect(new Map(result.lines.map((l) => [l.warehouse_id, l.quantity]))).toEqual(expected);
        // A ledger that never goes below zero is never short; units counted in before any receipt come at zero cost, said.
        expect(result.warnings.filter((w) => w.kind !== 'no_cost')).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  test('FIFO value, with only receipts and consumptions in one warehouse, is the cost of the newest receipt units that cover the quantity', () => {
    const oneWarehouse = fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('receipt' as const), wh: fc.constant(0), quantity: fc.integer({ min: 1, max: 20 }), cost: fc.integer({ min: 0, max: 99_999 }) }),
        fc.record({ kind: fc.constant('sale' as const), wh: fc.constant(0), quantity: fc.integer({ min: 1, max: 25 }) }),
        fc.record({ kind: fc.constant('adjustment' as const), wh: fc.constant(0), delta: fc.integer({ min: -8, max: -1 }) }),
      ),
      { maxLength: 80 },
    );
    fc.assert(
      fc.property(oneWarehouse, fc.nat(), (ops, cutSeed) => {
        const rows = rowsFor(ops);
        const cutAt = rows.length === 0 ? 0 : cutSeed % (rows.length + 1);
        const as_of = rows[cutAt - 1]?.created_at ?? '2025-12-31T00:00:00.000Z';
        const included = rows.filter((r) => r.created_at <= as_of);
        const quantity = included.reduce((sum, r) => sum + r.on_hand, 0);
        // Independently: walk the receipts newest first until they cover what is left.
        let left = quantity;
        let expected = 0n;
        for (const r of [...included].reverse()) {
          if (left === 0) break;
          if (r.type !== 'receipt' || r.unit_cost === undefined) continue;
          const used = Math.min(left, r.on_hand);
          expected += BigInt(used) * toTenThousandths(r.unit_cost);
          left -= used;
        }
        const result = valuate(rows, { as_of, method: 'fifo' });
        const value = result.lines[0]?.value ?? '0';
        expect(toTenThousandths(value)).toBe(expected);
        expect(result.lines[0]?.quantity ?? 0).toBe(quantity);
      }),
      { numRuns: 400 },
    );
  });

  test('value is never negative, and weighted-average value is quantity x average within rounding', () => {
    fc.assert(
      fc.property(ledgerArb, ({ rows, as_of }) => {
        for (const method of ['fifo', 'weighted_average'] as const) {
          const result = valuate(rows, { as_of, method });
          for (const t of result.totals) expect(toTenThousandths(t.value)).toBeGreaterThanOrEqual(0n);
          for (const l of result.lines) {
            const value = toTenThousandths(l.value);
            expect(value).toBeGreaterThanOrEqual(0n);
            if (method !== 'weighted_average' || l.quantity <= 0 || l.unit_cost === null) continue;
            // The average is rounded to 1e-4 (at most half a unit of it per unit) and so is the value (half a unit).
            const diff = value - BigInt(l.quantity) * toTenThousandths(l.unit_cost);
            expect(2n * (diff < 0n ? -diff : diff)).toBeLessThanOrEqual(BigInt(l.quantity) + 1n);
          }
          // Totals are the levels' values summed exactly, then rounded: within half a unit per line of the rounded lines' sum.
          const sum = result.lines.reduce((s, l) => s + toTenThousandths(l.value), 0n);
          const total = result.totals[0] ? toTenThousandths(result.totals[0].value) : 0n;
          const gap = total - sum;
          expect(2n * (gap < 0n ? -gap : gap)).toBeLessThanOrEqual(BigInt(result.lines.length) + 1n);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/* ---------- checkpoints ---------- */

/** Values rows up to `split`, then the rest from the returned state (optionally through JSON, as a stored checkpoint is). */
const resumed = (rows: readonly ValuationRow[], split: string, method: ValuationMethod, viaJson: boolean, as_of = AS_OF) => {
  const first = valuate(
    rows.filter((r) => r.created_at <= split),
    { as_of: split, method },
  );
  const start = viaJson ? parseValuationState(JSON.parse(JSON.stringify(first.state))) : first.state;
  return { first, second: valuate(rows.filter((r) => r.created_at > split), { as_of, method, start }) };
};

/** The warning the end of a run gives for a transfer_out still waiting: the state carries it on, so every later run gives it again. */
const inFlight = (w: { kind: string; type: string; message: string }): boolean => w.kind === 'unmatched_transfer' && w.type === 'transfer_out' && w.message.startsWith('no transfer_in');

describe('valuation checkpoints', () => {
  /** A generated ledger, some receipts and transfer_ins dropped (so levels go short and transfers stay in flight), and a split instant: at a row, between two, before or after all. */
  const splitArb = fc
    .record({ ops: fc.array(opArb, { maxLength: 60 }), drops: fc.array(fc.nat(9), { maxLength: 130 }), splitHour: fc.integer({ min: -1, max: 61 }), between: fc.boolean(), reverse: fc.boolean() })
    .map(({ ops, drops, splitHour, between, reverse }) => {
      const rows = rowsFor(ops).filter((r, i) => !((r.type === 'receipt' || r.type === 'transfer_in') && drops[i] === 0));
      const split = new Date(Date.UTC(2026, 0, 1) + splitHour * 3_600_000 + (between ? 1_800_000 : 0)).toISOString();
      return { rows: reverse ? [...rows].reverse() : rows, split };
    });

  test.each<ValuationMethod>(['fifo', 'weighted_average'])('(%s) valuing all rows at once equals valuing up to any split, then the rest from the returned state, also through JSON', (method) => {
    fc.assert(
      fc.property(splitArb, fc.boolean(), ({ rows, split }, viaJson) => {
        const full = valuate(rows, { as_of: AS_OF, method });
        const { first, second } = resumed(rows, split, method, viaJson);
        expect(second.lines).toEqual(full.lines);
        expect(second.totals).toEqual(full.totals);
        const after = new Set(rows.filter((r) => r.created_at > split).map((r) => r.movement_id));
        expect(second.warnings).toEqual(full.warnings.filter((w) => after.has(w.movement_id) || inFlight(w)));
        expect(second.state).toEqual(full.state);
        // Rows the state already holds are ignored: passing the whole ledger changes nothing.
        expect(valuate(rows, { as_of: AS_OF, method, start: first.state })).toEqual(second);
      }),
      { numRuns: 300 },
    );
  });

  test('a FIFO checkpoint in the middle of a layer keeps the rest of that layer, oldest first, at its cost', () => {
    const l = ledger();
    l.receipt('sku', 'A', 10, '2.00');
    l.sale('sku', 'A', 4);
    l.nextDay();
    l.receipt('sku', 'A', 5, '3.00');
    l.sale('sku', 'A', 8); // 6 x 2.00 (the rest of the first layer) + 2 x 3.00 out: 3 x 3.00 left
    const { first, second } = resumed(l.rows, '2026-01-01T23:59:59.999Z', 'fifo', true);
    expect(first.state).toEqual({
      version: 2,
      method: 'fifo',
      as_of: '2026-01-01T23:59:59.999Z',
      levels: [{ sku_id: 'sku', warehouse_id: 'A', currency: 'USD', deficit: '0', last_average_micros: '2000000', layers: '6@2000000' }],
      in_transit: [],
    });
    expect(line(second, 'sku', 'A')).toEqual({ quantity: 3, unit_cost: '3.00', value: '9.00', currency: 'USD' });
    expect(second).toEqual(run(l.rows, 'fifo'));
  });

  test.each<ValuationMethod>(['fifo', 'weighted_average'])('(%s) a checkpoint while a level is short carries the deficit: the next receipt fills it first, its cost leaving with the units gone', (method) => {
    const l = ledger();
    l.receipt('sku', 'A', 3, '2.00');
    l.sale('sku', 'A', 5);
    l.nextDay();
    l.receipt('sku', 'A', 4, '3.00');
    const { first, second } = resumed(l.rows, '2026-01-01T23:59:59.999Z', method, true);
    expect(first.state.levels).toEqual([
      expect.objectContaining({ currency: 'USD', deficit: '2', last_average_micros: '2000000', ...(method === 'fifo' ? { layers: '' } : { pool: { quantity: '0', value_micros: '0' } }) }),
    ]);
    expect(line(first, 'sku', 'A')).toEqual({ quantity: -2, unit_cost: null, value: '0.00', currency: 'USD' });
    expect(line(second, 'sku', 'A')).toEqual({ quantity: 2, unit_cost: '3.00', value: '6.00', currency: 'USD' });
    expect(second.warnings).toEqual([]); // the shortfall was said by the run that made the checkpoint
    expect(second.lines).toEqual(run(l.rows, method).lines);
  });

  test('a transfer_out before the checkpoint and its transfer_in after: the state carries the units in flight at their cost', () => {
    // Inventory writes both rows in one transaction with one instant, so this only happens in a ledger written otherwise; the engine still handles it.
    const l = ledger();
    l.receipt('sku', 'A', 5, '1.00');
    l.receipt('sku', 'A', 5, '2.00');
    const out = l.add('transfer_out', 'sku', 'A', -7, { correlation_id: 'tr-1' });
    l.nextDay();
    l.add('transfer_in', 'sku', 'B', 7, { correlation_id: 'tr-1' });
    const { first, second } = resumed(l.rows, '2026-01-01T23:59:59.999Z', 'fifo', true);
    expect(first.state.in_transit).toEqual([
      {
        correlation_id: 'tr-1',
        sku_id: 'sku',
        currency: 'USD',
        lots: [
          { quantity: '5', value_micros: '5000000' },
          { quantity: '2', value_micros: '4000000' },
        ],
        out: { movement_id: out.movement_id, warehouse_id: 'A' },
      },
    ]);
    expect(first.warnings).toMatchObject([{ kind: 'unmatched_transfer', movement_id: out.movement_id, quantity: 7 }]);
    expect(line(second, 'sku', 'B')).toEqual({ quantity: 7, unit_cost: '1.2857', value: '9.00', currency: 'USD' });
    expect(second.warnings).toEqual([]);
    expect(second).toEqual(run(l.rows, 'fifo'));
  });

  test('rows at or before the state instant are ignored (the state holds them), rows after it count', () => {
    const l = ledger();
    l.receipt('sku', 'A', 10, '2.00');
    l.nextDay();
    l.sale('sku', 'A', 3);
    const start = valuate(l.rows, { as_of: '2026-01-01T12:00:00.000Z', method: 'fifo' }).state;
    const again = valuate(l.rows, { as_of: AS_OF, method: 'fifo', start });
    expect(line(again, 'sku', 'A')).toEqual({ quantity: 7, unit_cost: '2.00', value: '14.00', currency: 'USD' });
    expect(again).toEqual(run(l.rows, 'fifo'));
  });

  test('a state of the other method, one after as_of, or a malformed one is refused with a RangeError', () => {
    const l = ledger();
    l.receipt('sku', 'A', 10, '2.00');
    const { state } = run(l.rows, 'fifo', '2026-01-01T12:00:00.000Z');
    expect(() => valuate([], { as_of: AS_OF, method: 'weighted_average', start: state })).toThrow(/method fifo/);
    expect(() => valuate([], { as_of: '2025-12-31T00:00:00.000Z', method: 'fifo', start: state })).toThrow(RangeError);
    /** The state with one thing wrong, still typed as a state (as a stored one cast by a careless caller would be). */
    const broken = (change: (s: ValuationState, level: object) => void): ValuationState => {
      const copy = structuredClone(state);
      change(copy, copy.levels[0] ?? {});
      return copy;
    };
    const layers = (text: unknown) => (s: ValuationState, level: object) => Object.assign(level, { layers: text });
    const bad: ValuationState[] = [
      broken((s) => Object.assign(s, { version: 1 })), // the format before layers were one text
      broken((s) => Object.assign(s, { version: 3 })),
      broken((s) => Object.assign(s, { as_of: 'yesterday' })),
      broken((s) => Object.assign(s, { levels: undefined })),
      broken(layers('-1@1')),
      broken(layers(1)),
      broken(layers('01@1')),
      broken(layers('1@1.5')),
      broken(layers('0@1')), // an empty layer
      broken(layers('1@1 ')),
      broken(layers('1@1  2@2')),
      broken(layers([{ quantity: '1', unit_cost_micros: '1' }])), // version 1's layers
      broken((s, level) => Object.assign(level, { deficit: '3' })), // short while holding layers
      broken((s, level) => Object.assign(level, { pool: { quantity: '1', value_micros: '1' } })), // a weighted pool in a FIFO state
      broken((s, level) => Object.assign(level, { extra: true })),
      broken((s) => Object.assign(s, { levels: [...s.levels, ...s.levels] })), // one level twice
      broken((s) => Object.assign(s, { in_transit: [{ correlation_id: 't', sku_id: 'sku', currency: 'USD', lots: [], out: {} }] })),
    ];
    for (const input of bad) {
      expect(() => parseValuationState(input)).toThrow(RangeError);
      expect(() => valuate([], { as_of: AS_OF, method: 'fifo', start: input })).toThrow(RangeError);
    }
    for (const input of [null, 'state', 42, {}]) expect(() => parseValuationState(input)).toThrow(RangeError);
    const stored = parseValuationState(JSON.parse(JSON.stringify(state)));
    expect(stored).toEqual(state);
    // Decoded once: what parseValuationState made, and the engine's own output (a chained run, as the daily close makes), are taken as they are; a copy is decoded like any input.
    expect(parseValuationState(stored)).toBe(stored);
    expect(parseValuationState(state)).toBe(state);
    expect(parseValuationState(structuredClone(state))).not.toBe(state);
  });
});
