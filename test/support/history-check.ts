import type { Movement, Quantities, StockLevel } from '../../functions/inventory/model';
import type { Order } from '../../functions/orders/model';
import type { Attempt, FinalState, History, Intent, LogicalOp, Violation } from './history-model';

/**
 * A Jepsen-style judge of a recorded workload (test/support/history-model.ts): a pure function of the
 * history and the final state read afterwards, returning every violation found (none: the history is
 * explained). It knows the API's promises, not its code:
 *
 * - every ledger row belongs to a request of the history (its `reference`: the request's own, or the
 *   order_id for an order's allocation, release and shipment rows) and has exactly the deltas that
 *   request asks for;
 * - a request answered 2xx has its rows (once); one refused (4xx) has none; one never answered (an error,
 *   a 5xx) has its rows once or not at all;
 * - the rows of a level add up to the level, one row per level version;
 * - no quantity is ever negative, and no decrement was acknowledged beyond what the requests that may
 *   have preceded it (by real time) could have made available;
 * - what orders hold (allocated, not shipped, not released) is what the levels hold reserved.
 */

type Outcome = 'acked' | 'refused' | 'unknown';

const is2xx = (a: Attempt): boolean => typeof a.status === 'number' && a.status >= 200 && a.status < 300;
const is4xx = (a: Attempt): boolean => typeof a.status === 'number' && a.status >= 400 && a.status < 500;

const levelKey = (sku: string, wh: string): string => `${sku}/${wh}`;

interface OpView {
  op: LogicalOp;
  attempts: Attempt[];
  outcome: Outcome;
  /** The earliest instant the op can have taken effect. */
  start: number;
  /** The latest: its first 2xx answer; never (Infinity) for an op without any answer that settles it. */
  end: number;
  firstAck?: Attempt;
}

const viewOf = (op: LogicalOp, attempts: Attempt[]): OpView => {
  const acks = attempts.filter(is2xx).sort((x, y) => x.answered - y.answered);
  const outcome: Outcome = acks.length > 0 ? 'acked' : attempts.length > 0 && attempts.every(is4xx) ? 'refused' : 'unknown';
  const start = Math.min(...attempts.map((a) => a.sent));
  const end = acks[0] ? acks[0].answered : outcome === 'refused' ? Math.max(...attempts.map((a) => a.answered)) : Infinity;
  return { op, attempts, outcome, start, end, ...(acks[0] ? { firstAck: acks[0] } : {}) };
};

const describe = (v: OpView): string => `op ${v.op.id} (${JSON.stringify(v.op.intent)})`;

const zero: Quantities = { on_hand: 0, reserved: 0, available: 0, incoming: 0 };
const sameDeltas = (d: Quantities, expected: Partial<Quantities>): boolean =>
  (Object.keys(zero) as (keyof Quantities)[]).every((f) => d[f] === (expected[f] ?? 0));

const answerLevels = (intent: Intent, answer: unknown): StockLevel[] => {
  if (typeof answer !== 'object' || answer === null) return [];
  if (intent.kind === 'update') return [answer as StockLevel];
  if (intent.kind === 'transfer') {
    const t = answer as { from?: StockLevel; to?: StockLevel };
    return [t.from, t.to].filter((l): l is StockLevel => l !== undefined);
  }
  return [];
};

const negativeIn = (level: Pick<StockLevel, 'on_hand' | 'reserved' | 'available'>): string | undefined => {
  if (level.on_hand < 0 || level.reserved < 0 || level.available < 0) return 'a negative quantity';
  if (level.available !== level.on_hand - level.reserved) return 'available != on_hand - reserved';
  return undefined;
};

/** What identifies an answer, so a replay can be compared with the first answer. */
const answerIdentity = (intent: Intent, answer: unknown): string => {
  const a = answer as Record<string, unknown> | null;
  if (a === null || typeof a !== 'object') return JSON.stringify(a);
  switch (intent.kind) {
    case 'update':
      return levelKey(String(a.sku_id), String(a.warehouse_id));
    case 'transfer':
      return String(a.transfer_id);
    case 'allocate': {
      const order = a as unknown as Order;
      return JSON.stringify([order.order_id, legsOf(order)]);
    }
    default:
      return JSON.stringify(a);
  }
};

const legsOf = (order: Order): string[] =>
  (order.allocations ?? []).map((l) => `${l.sku_id}/${l.warehouse_id}:${l.quantity}`).sort();

/** The deltas an update or transfer row must carry; undefined for a count (state-dependent, checked apart). */
const expectedUpdateDeltas = (intent: Extract<Intent, { kind: 'update' }>): Partial<Quantities> | undefined => {
  const n = intent.quantity;
  switch (intent.type) {
    case 'sale':
      return { on_hand: -n, available: -n };
    case 'restock':
    case 'adjustment':
      return { on_hand: n, available: n };
    case 'count':
      return undefined;
  }
};

export const checkHistory = (history: History, final: FinalState): Violation[] => {
  const violations: Violation[] = [];
  const fail = (check: Violation['check'], message: string): void => {
    violations.push({ check, message });
  };

  const byOp = new Map<number, Attempt[]>();
  for (const a of history.attempts) byOp.set(a.op, [...(byOp.get(a.op) ?? []), a]);
  const views = history.ops.map((op) => viewOf(op, byOp.get(op.id) ?? []));

  // ---- the server itself: no 500s, every answer within the contract ----
  for (const a of history.attempts) {
    if (typeof a.status === 'number' && a.status >= 500 && a.status !== 503) fail('server', `${a.method} ${a.path} answered ${a.status}: ${JSON.stringify(a.answer)}`);
    if (a.contractProblems?.length) fail('server', `${a.method} ${a.path} broke the contract: ${a.contractProblems.join('; ')}`);
  }

  // ---- who owns each ledger row ----
  const byReference = new Map<string, OpView>();
  const orderOps = new Map<string, { allocate?: OpView; cancels: OpView[]; ships: OpView[]; refusals: OpView[] }>();
  const orderEntry = (orderId: string) => {
    let entry = orderOps.get(orderId);
    if (!entry) orderOps.set(orderId, (entry = { cancels: [], ships: [], refusals: [] }));
    return entry;
  };
  for (const v of views) {
    const i = v.op.intent;
    if (i.kind === 'update' || i.kind === 'transfer') byReference.set(i.reference, v);
    else if (i.kind === 'allocate') orderEntry(i.order_id).allocate = v;
    else if (i.kind === 'cancel') orderEntry(i.order_id).cancels.push(v);
    else if (i.kind === 'ship') orderEntry(i.order_id).ships.push(v);
    else {
      if (i.reference !== undefined) byReference.set(i.reference, v);
      if (i.order_id !== undefined) orderEntry(i.order_id).refusals.push(v);
    }
  }
  const rowsOfOp = new Map<OpView, Movement[]>();
  const rowsOfOrder = new Map<string, { allocation: Movement[]; release: Movement[]; shipment: Movement[] }>();
  for (const m of final.movements) {
    const ref = m.reference ?? '';
    const owner = byReference.get(ref);
    if (owner) {
      rowsOfOp.set(owner, [...(rowsOfOp.get(owner) ?? []), m]);
      continue;
    }
    const order = orderOps.get(ref);
    if (order && (m.type === 'allocation' || m.type === 'release' || m.type === 'shipment')) {
      const rows = rowsOfOrder.get(ref) ?? { allocation: [], release: [], shipment: [] };
      rows[m.type].push(m);
      rowsOfOrder.set(ref, rows);
      continue;
    }
    fail('unlinked', `ledger row ${m.movement_id} (${m.type} of ${levelKey(m.sku_id, m.warehouse_id)}, reference ${JSON.stringify(m.reference)}) matches no request of the history`);
  }

  // ---- retries: once acknowledged, every later sending is answered the same ----
  for (const v of views) {
    if (!v.firstAck) continue;
    const first = v.firstAck;
    for (const a of v.attempts) {
      if (a === first || a.sent < first.answered) continue;
      const replay = a.idempotencyKey !== undefined && a.idempotencyKey === first.idempotencyKey;
      // An order re-sent under a new key is answered with the order (same order_id, same lines).
      if (!replay && v.op.intent.kind !== 'allocate') continue;
      if (!is2xx(a)) {
        fail('duplicate', `${describe(v)}: a retry sent after its ${first.status} answer got ${a.status}: ${JSON.stringify(a.answer)}`);
      } else if (answerIdentity(v.op.intent, a.answer) !== answerIdentity(v.op.intent, first.answer)) {
        fail('duplicate', `${describe(v)}: a retry was answered ${answerIdentity(v.op.intent, a.answer)}, the first answer was ${answerIdentity(v.op.intent, first.answer)}`);
      }
    }
  }

  // ---- sends of one key in flight together: the effect is checked below; the answers should agree too ----
  for (const v of views) {
    const acks = v.attempts.filter(is2xx);
    for (const a of v.attempts) {
      if (is2xx(a) || typeof a.status !== 'number' || a.status >= 500) continue;
      const overlapping = acks.find((k) => k.idempotencyKey !== undefined && k.idempotencyKey === a.idempotencyKey && k.sent < a.answered && a.sent < k.answered);
      if (overlapping) fail('answer', `${describe(v)}: two sends of key ${a.idempotencyKey} in flight together were answered ${overlapping.status} and ${a.status}: ${JSON.stringify(a.answer)}`);
    }
  }

  // ---- (c) every level an answer shows is whole ----
  for (const v of views) {
    for (const a of v.attempts.filter(is2xx)) {
      for (const level of answerLevels(v.op.intent, a.answer)) {
        const problem = negativeIn(level);
        if (problem) fail('negative', `${describe(v)} was answered with ${problem}: ${JSON.stringify(level)}`);
      }
    }
  }

  // ---- (a), (b), (e): each request's rows ----
  const expectRows = (v: OpView, rows: Movement[], what: string, matches: () => string | undefined): void => {
    if (v.outcome === 'refused' && rows.length > 0) {
      fail('refused', `${describe(v)} was refused (${v.attempts.map((a) => a.status).join(', ')}) but has ${rows.length} ledger row(s)`);
      return;
    }
    if (v.outcome === 'acked' && rows.length === 0) {
      fail('lost', `${describe(v)} was acknowledged (${v.firstAck?.status}) but has no ${what} in the ledger`);
      return;
    }
    if (rows.length === 0) return;
    const problem = matches();
    if (problem) fail(problem.startsWith('applied') ? 'duplicate' : 'ledger', `${describe(v)}: ${problem}`);
  };

  for (const v of views) {
    const i = v.op.intent;
    const rows = rowsOfOp.get(v) ?? [];
    if (i.kind === 'update') {
      expectRows(v, rows, 'row', () => {
        if (rows.length > 1) return `applied ${rows.length} times: rows ${rows.map((r) => r.movement_id).join(', ')}`;
        const [row] = rows as [Movement];
        if (row.type !== i.type || row.sku_id !== i.sku_id || row.warehouse_id !== i.warehouse_id) {
          return `its row is a ${row.type} of ${levelKey(row.sku_id, row.warehouse_id)}`;
        }
        const expected = expectedUpdateDeltas(i);
        if (expected && !sameDeltas(row.deltas, expected)) return `its row's deltas ${JSON.stringify(row.deltas)} are not ${JSON.stringify(expected)}`;
        if (!expected) {
          const d = row.deltas;
          if (row.resulting?.on_hand !== i.quantity || d.reserved !== 0 || d.incoming !== 0 || d.available !== d.on_hand) {
            return `its count row ${JSON.stringify({ deltas: d, resulting: row.resulting })} does not set on_hand to ${i.quantity}`;
          }
        }
        return undefined;
      });
    } else if (i.kind === 'transfer') {
      expectRows(v, rows, 'rows', () => {
        const outs = rows.filter((r) => r.type === 'transfer_out');
        const ins = rows.filter((r) => r.type === 'transfer_in');
        if (outs.length > 1 || ins.length > 1) return `applied ${Math.max(outs.length, ins.length)} times`;
        const [out] = outs;
        const [inn] = ins;
        if (!out || !inn || rows.length !== 2) return `a transfer needs one transfer_out and one transfer_in row, has ${rows.map((r) => r.type).join(', ')}`;
        if (out.sku_id !== i.sku_id || out.warehouse_id !== i.from || !sameDeltas(out.deltas, { on_hand: -i.quantity, available: -i.quantity })) {
          return `its transfer_out row ${JSON.stringify(out)} is not ${i.quantity} out of ${i.from}`;
        }
        if (inn.sku_id !== i.sku_id || inn.warehouse_id !== i.to || !sameDeltas(inn.deltas, { on_hand: i.quantity, available: i.quantity })) {
          return `its transfer_in row ${JSON.stringify(inn)} is not ${i.quantity} into ${i.to}`;
        }
        const answered = (v.firstAck?.answer as { transfer_id?: string } | undefined)?.transfer_id;
        if (out.correlation_id !== inn.correlation_id || (answered !== undefined && out.correlation_id !== answered)) {
          return `its rows are correlated ${out.correlation_id}/${inn.correlation_id}, the answer named transfer ${answered}`;
        }
        return undefined;
      });
    } else if (i.kind === 'refusal') {
      for (const a of v.attempts.filter(is2xx)) fail('refused', `${describe(v)} must be refused but was answered ${a.status}: ${JSON.stringify(a.answer)}`);
      if (rows.length > 0) fail('refused', `${describe(v)} must be refused but has ${rows.length} ledger row(s)`);
    }
  }

  // ---- orders: allocation, release and shipment rows against the requests and the orders ----
  const finalOrders = new Map(final.orders.map((o) => [o.order_id, o]));
  for (const [orderId, ops] of orderOps) {
    const rows = rowsOfOrder.get(orderId) ?? { allocation: [], release: [], shipment: [] };
    const order = finalOrders.get(orderId);
    const alloc = ops.allocate;
    for (const r of ops.refusals) {
      for (const a of r.attempts.filter(is2xx)) fail('refused', `${describe(r)} must be refused but was answered ${a.status}`);
    }
    if (!alloc) {
      if (order) fail('refused', `order ${orderId} exists though only refused requests named it`);
      const any = rows.allocation.length + rows.release.length + rows.shipment.length;
      if (any > 0) fail('refused', `order ${orderId}, which no allocation made, has ${any} ledger row(s)`);
      continue;
    }
    const intent = alloc.op.intent as Extract<Intent, { kind: 'allocate' }>;
    if (alloc.outcome === 'acked' && !order) fail('lost', `${describe(alloc)} was acknowledged but order ${orderId} does not exist`);
    if (alloc.outcome === 'refused' && order) fail('refused', `${describe(alloc)} was refused but order ${orderId} exists`);
    expectRows(alloc, rows.allocation, 'allocation rows', () => {
      if (!order) return `order ${orderId} does not exist, yet has ${rows.allocation.length} allocation row(s)`;
      const legs = legsOf(order);
      const booked = rows.allocation.map((r) => `${r.sku_id}/${r.warehouse_id}:${r.deltas.reserved}`).sort();
      if (rows.allocation.length > legs.length) return `applied more than once: ${rows.allocation.length} allocation rows for ${legs.length} legs`;
      if (JSON.stringify(booked) !== JSON.stringify(legs)) return `allocation rows ${booked.join(', ')} are not the order's legs ${legs.join(', ')}`;
      for (const r of rows.allocation) {
        if (!sameDeltas(r.deltas, { reserved: r.deltas.reserved, available: -r.deltas.reserved }) || r.deltas.reserved <= 0) return `allocation row ${r.movement_id} has deltas ${JSON.stringify(r.deltas)}`;
      }
      return undefined;
    });
    if (order) {
      const first = alloc.firstAck?.answer as Order | undefined;
      if (first && JSON.stringify(legsOf(first)) !== JSON.stringify(legsOf(order))) {
        fail('orders', `order ${orderId} was acknowledged with legs ${legsOf(first).join(', ')} but holds ${legsOf(order).join(', ')}`);
      }
      for (const line of intent.lines) {
        const got = order.allocations.filter((l) => l.sku_id === line.sku_id).reduce((s, l) => s + l.quantity, 0);
        if (got !== line.quantity) fail('orders', `order ${orderId} allocated ${got} of ${line.sku_id}, its line asks ${line.quantity}`);
      }
    }

    // Releases: only a cancel releases (the workload takes no holds), all that was outstanding, once.
    const cancelAcked = ops.cancels.some((c) => c.outcome === 'acked');
    const cancelPossible = ops.cancels.some((c) => c.outcome !== 'refused');
    if (cancelAcked && order && order.status !== 'cancelled') fail('lost', `order ${orderId}: a cancel was acknowledged but the order is ${order.status}`);
    if (!cancelPossible && order?.status === 'cancelled') fail('refused', `order ${orderId} is cancelled though every cancel was refused`);
    if (!cancelPossible && rows.release.length > 0) fail('refused', `order ${orderId} has release rows though every cancel of it was refused`);
    if (order) {
      for (const leg of order.allocations) {
        const released = rows.release.filter((r) => r.sku_id === leg.sku_id && r.warehouse_id === leg.warehouse_id);
        if (released.length > 1) fail('duplicate', `order ${orderId}: ${released.length} release rows for leg ${leg.sku_id}/${leg.warehouse_id}`);
        const units = released.reduce((s, r) => s - r.deltas.reserved, 0);
        if (units !== leg.released) fail('ledger', `order ${orderId}: leg ${leg.sku_id}/${leg.warehouse_id} released ${leg.released}, its release rows ${units}`);
        for (const r of released) {
          if (!sameDeltas(r.deltas, { reserved: r.deltas.reserved, available: -r.deltas.reserved })) fail('ledger', `release row ${r.movement_id} has deltas ${JSON.stringify(r.deltas)}`);
        }
      }
      for (const c of ops.cancels.filter((x) => x.firstAck)) {
        const answer = c.firstAck?.answer as Order;
        const said = answer.allocations?.map((l) => `${l.sku_id}/${l.warehouse_id}:${l.released}`).sort();
        const holds = order.allocations.map((l) => `${l.sku_id}/${l.warehouse_id}:${l.released}`).sort();
        if (order.status === 'cancelled' && JSON.stringify(said) !== JSON.stringify(holds)) {
          fail('orders', `${describe(c)} answered releases ${said?.join(', ')} but the order holds ${holds.join(', ')}`);
        }
      }
    }

    // Shipments: the acknowledged ship requests, each once; never-answered ones at most once.
    const shipped = (sku: string, rs: Movement[]) => rs.filter((r) => r.sku_id === sku).reduce((s, r) => s - r.deltas.on_hand, 0);
    for (const sku of new Set(ops.ships.map((s) => (s.op.intent as Extract<Intent, { kind: 'ship' }>).sku_id))) {
      const asked = (outcome: Outcome) =>
        ops.ships
          .filter((s) => s.outcome === outcome && (s.op.intent as Extract<Intent, { kind: 'ship' }>).sku_id === sku)
          .reduce((sum, s) => sum + (s.op.intent as Extract<Intent, { kind: 'ship' }>).quantity, 0);
      const inLedger = shipped(sku, rows.shipment);
      const acked = asked('acked');
      if (inLedger < acked) fail('lost', `order ${orderId}: ${acked} of ${sku} acknowledged shipped, the ledger ships ${inLedger}`);
      if (inLedger > acked + asked('unknown')) fail('duplicate', `order ${orderId}: ${inLedger} of ${sku} shipped in the ledger, only ${acked} (+${asked('unknown')} unanswered) were asked`);
    }
    for (const r of rows.shipment) {
      if (!sameDeltas(r.deltas, { on_hand: r.deltas.on_hand, reserved: r.deltas.on_hand }) || r.deltas.on_hand >= 0) fail('ledger', `shipment row ${r.movement_id} has deltas ${JSON.stringify(r.deltas)}`);
    }
    const skusShipped = new Set(rows.shipment.map((r) => r.sku_id));
    for (const sku of skusShipped) {
      if (!ops.ships.some((s) => s.outcome !== 'refused' && (s.op.intent as Extract<Intent, { kind: 'ship' }>).sku_id === sku)) {
        fail('refused', `order ${orderId} has shipment rows of ${sku} though no ship of it was accepted`);
      }
    }
    if (order) {
      for (const leg of order.allocations) {
        const units = rows.shipment.filter((r) => r.sku_id === leg.sku_id && r.warehouse_id === leg.warehouse_id).reduce((s, r) => s - r.deltas.on_hand, 0);
        if (units !== leg.shipped) fail('ledger', `order ${orderId}: leg ${leg.sku_id}/${leg.warehouse_id} shipped ${leg.shipped}, its shipment rows ${units}`);
        if (leg.shipped + leg.released > leg.quantity) fail('orders', `order ${orderId}: leg ${leg.sku_id}/${leg.warehouse_id} shipped ${leg.shipped} and released ${leg.released} of ${leg.quantity}`);
      }
    }
  }
  for (const order of final.orders) {
    if (!orderOps.has(order.order_id)) fail('orders', `order ${order.order_id} exists but the history never named it`);
  }

  // ---- (d) the ledger adds up to every level; (c) no level below zero; (f) reserved = what orders hold ----
  const levels = new Map(final.levels.map((l) => [levelKey(l.sku_id, l.warehouse_id), l]));
  const rowsAt = new Map<string, Movement[]>();
  for (const m of final.movements) rowsAt.set(levelKey(m.sku_id, m.warehouse_id), [...(rowsAt.get(levelKey(m.sku_id, m.warehouse_id)) ?? []), m]);
  for (const [key, rows] of rowsAt) if (!levels.has(key)) fail('ledger', `${rows.length} ledger row(s) of ${key}, which has no level`);
  for (const [key, level] of levels) {
    const problem = negativeIn(level);
    if (problem) fail('negative', `level ${key} ends with ${problem}: ${JSON.stringify(level)}`);
    const rows = rowsAt.get(key) ?? [];
    for (const f of Object.keys(zero) as (keyof Quantities)[]) {
      const sum = rows.reduce((s, r) => s + r.deltas[f], 0);
      if (sum !== level[f]) fail('ledger', `level ${key}: ${f} is ${level[f]}, its ledger rows add up to ${sum}`);
    }
    if (rows.length !== level.version) fail('ledger', `level ${key}: version ${level.version} but ${rows.length} ledger rows`);
    const reserved = final.orders.flatMap((o) => o.allocations).filter((l) => levelKey(l.sku_id, l.warehouse_id) === key).reduce((s, l) => s + l.quantity - l.shipped - l.released, 0);
    if (reserved !== level.reserved) fail('orders', `level ${key}: reserved ${level.reserved}, orders hold ${reserved} outstanding`);
  }

  // ---- (c) no decrement acknowledged beyond what may have been available (real-time order) ----
  // An op's effect on a level's `available`, from its own ledger rows. An order's releases are the
  // effect of its cancels together (the earliest of them bounds when they can have happened).
  interface Effect { start: number; end: number; available: number; count?: number; who: string }
  const effects = new Map<string, Effect[]>();
  const addEffect = (key: string, e: Effect) => effects.set(key, [...(effects.get(key) ?? []), e]);
  for (const v of views) {
    const rows = rowsOfOp.get(v) ?? [];
    const per = new Map<string, number>();
    for (const r of rows) per.set(levelKey(r.sku_id, r.warehouse_id), (per.get(levelKey(r.sku_id, r.warehouse_id)) ?? 0) + r.deltas.available);
    for (const [key, available] of per) {
      const i = v.op.intent;
      addEffect(key, { start: v.start, end: v.end, available, who: describe(v), ...(i.kind === 'update' && i.type === 'count' ? { count: i.quantity } : {}) });
    }
  }
  for (const [orderId, ops] of orderOps) {
    const rows = rowsOfOrder.get(orderId);
    if (!rows) continue;
    if (ops.allocate) {
      for (const r of rows.allocation) addEffect(levelKey(r.sku_id, r.warehouse_id), { start: ops.allocate.start, end: ops.allocate.end, available: r.deltas.available, who: describe(ops.allocate) });
    }
    const cancels = ops.cancels.filter((c) => c.outcome !== 'refused');
    if (cancels.length > 0) {
      const start = Math.min(...cancels.map((c) => c.start));
      for (const r of rows.release) addEffect(levelKey(r.sku_id, r.warehouse_id), { start, end: Infinity, available: r.deltas.available, who: `the cancel of ${orderId}` });
    }
  }
  for (const [key, list] of effects) {
    for (const d of list) {
      if (d.available >= 0 || d.count !== undefined) continue;
      const before = list.filter((p) => p !== d && p.start < d.end);
      const counts = before.filter((p) => p.count !== undefined).map((p) => p.count as number);
      const gained = before.filter((p) => p.count === undefined && p.available > 0).reduce((s, p) => s + p.available, 0);
      const spentEarlier = list.filter((x) => x !== d && x.count === undefined && x.available < 0 && x.end < d.start).reduce((s, x) => s - x.available, 0);
      // Before any count, available is at most what arrived minus what surely left first; after the
      // last count, at most the counted units plus whatever arrived (reserved units only lower it).
      const bound = counts.length === 0 ? gained - spentEarlier : Math.max(0, ...counts) + gained;
      if (-d.available > bound) {
        fail('oversell', `${d.who} took ${-d.available} available from ${key}, but at most ${bound} can have been available then (${gained} arrived before its answer, ${spentEarlier} surely left before it was sent${counts.length ? `, counts ${counts.join(', ')}` : ''})`);
      }
    }
  }

  return violations;
};

/** The violations as a readable list, for a failing test's message. */
export const formatViolations = (violations: readonly Violation[]): string => violations.map((v) => `[${v.check}] ${v.message}`).join('\n');
