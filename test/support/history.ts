import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import type { Movement, StockLevel } from '../../functions/inventory/model';
import type { Order } from '../../functions/orders/model';
import type { Client, Response, TestApi } from './api';
import { ContractViolation } from './contract';
import { checkHistory } from './history-check';
import type { Attempt, FinalState, History, Intent, LogicalOp, UpdateType, Violation } from './history-model';
import { allMovements } from './ledger';
import { levelsOf } from './levels';

/**
 * The Jepsen-style harness (issue 15, item 4): a random plan of stock updates, transfers and orders
 * (fast-check, from a seed), run by `concurrency` clients at once against the real HTTP API, every
 * request and answer recorded (test/support/history-model.ts), the final state read back, and the
 * whole judged by checkHistory. Some requests are sent twice: a retry with the same Idempotency-Key
 * once answered, a duplicate in flight beside the original, an order re-sent under a new key; some
 * reuse a key for another body, some must be refused outright.
 *
 * `runHistory` is what a test or a bench scenario calls; the plan is a pure function of the seed.
 */

export interface HistoryOptions {
  /** Logical requests in the random part (the setup restocks come on top). */
  ops: number;
  /** Requests in flight at once. */
  concurrency: number;
  seed: number;
  skus?: number;
  warehouses?: number;
}

type Sending = 'once' | 'retry' | 'concurrent' | 'new-key' | 'reuse-key';

/** One step of the plan as fast-check draws it, before ids are given out. */
type Step =
  | { kind: 'update'; sku: number; wh: number; type: UpdateType; quantity: number; sending: Sending }
  | { kind: 'transfer'; sku: number; from: number; to: number; quantity: number; sending: Sending }
  | { kind: 'allocate'; lines: { sku: number; quantity: number }[]; sending: Sending }
  | { kind: 'cancel'; order: number; sending: Sending }
  | { kind: 'ship'; order: number; line: number; quantity: number; sending: Sending }
  | { kind: 'refusal'; variant: number };

const REFUSALS = 10;

const sendingArb = (allowed: Sending[]): fc.Arbitrary<Sending> =>
  fc.oneof({ arbitrary: fc.constant<Sending>('once'), weight: 6 }, ...allowed.map((s) => ({ arbitrary: fc.constant(s), weight: 1 })));

const stepArb = (skus: number, warehouses: number): fc.Arbitrary<Step> => {
  const sku = fc.nat(skus - 1);
  const wh = fc.nat(warehouses - 1);
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        kind: fc.constant('update' as const),
        sku,
        wh,
        type: fc.constantFrom<UpdateType>('sale', 'sale', 'sale', 'restock', 'adjustment', 'count'),
        quantity: fc.integer({ min: 1, max: 6 }),
        sending: sendingArb(['retry', 'concurrent', 'reuse-key']),
      }),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({ kind: fc.constant('transfer' as const), sku, from: wh, to: wh, quantity: fc.integer({ min: 1, max: 6 }), sending: sendingArb(['retry', 'concurrent']) })
        .map((s) => (s.from === s.to ? { ...s, to: (s.to + 1) % warehouses } : s)),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('allocate' as const),
        lines: fc.uniqueArray(fc.record({ sku, quantity: fc.integer({ min: 1, max: 8 }) }), { minLength: 1, maxLength: 2, selector: (l) => l.sku }),
        sending: sendingArb(['retry', 'concurrent', 'new-key']),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), order: fc.nat(1000), sending: sendingArb(['retry', 'concurrent']) }) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('ship' as const), order: fc.nat(1000), line: fc.nat(1), quantity: fc.integer({ min: 1, max: 6 }), sending: sendingArb(['retry', 'concurrent']) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('refusal' as const), variant: fc.nat(REFUSALS - 1) }) },
  );
};

export interface Plan {
  skus: string[];
  warehouses: string[];
  /** Opening restocks, one per level, sent one after another before the workload. */
  opening: { sku: string; wh: string; quantity: number }[];
  steps: Step[];
}

/** The plan for a seed: always the same for the same seed and options. */
export const planFor = (options: HistoryOptions): Plan => {
  const nSkus = options.skus ?? 3;
  const nWh = options.warehouses ?? 2;
  const skus = Array.from({ length: nSkus }, (_, i) => `sku-${i + 1}`);
  const warehouses = Array.from({ length: nWh }, (_, i) => `wh-${i + 1}`);
  const arb = fc.record({
    opening: fc.array(fc.integer({ min: 5, max: 25 }), { minLength: nSkus * nWh, maxLength: nSkus * nWh }),
    steps: fc.array(stepArb(nSkus, nWh), { minLength: options.ops, maxLength: options.ops }),
  });
  const [drawn] = fc.sample(arb, { seed: options.seed, numRuns: 1 });
  if (!drawn) throw new Error('fast-check drew no plan');
  const opening = skus.flatMap((sku, s) => warehouses.map((wh, w) => ({ sku, wh, quantity: drawn.opening[s * nWh + w] ?? 10 })));
  return { skus, warehouses, opening, steps: drawn.steps };
};

/** One HTTP request of an attempt: JSON body, or raw text (a body that is not JSON). */
interface Request {
  method: 'POST';
  path: string;
  body?: unknown;
  raw?: string;
  key?: string;
}

interface Recorder {
  history: History;
  send: (op: number, request: Request) => Promise<Attempt>;
  newOp: (intent: Intent) => LogicalOp;
}

const recorder = (c: Client): Recorder => {
  const t0 = performance.now();
  const history: History = { ops: [], attempts: [] };
  const send = async (op: number, r: Request): Promise<Attempt> => {
    const headers: Record<string, string> = r.key === undefined ? {} : { 'idempotency-key': r.key };
    const sent = performance.now() - t0;
    let response: Pick<Response, 'status' | 'body'> | undefined;
    let contractProblems: string[] | undefined;
    let error: string | undefined;
    try {
      response =
        r.raw !== undefined
          ? await c.raw(r.path, { method: r.method, headers: { 'content-type': 'application/json', ...headers }, body: r.raw })
          : await c.post(r.path, r.body, headers);
    } catch (e) {
      if (e instanceof ContractViolation) {
        response = e.response;
        contractProblems = [...e.problems];
      } else {
        error = e instanceof Error ? e.message : String(e);
      }
    }
    const attempt: Attempt = {
      op,
      sent,
      answered: performance.now() - t0,
      method: r.method,
      path: r.path,
      body: r.raw ?? r.body,
      ...(r.key === undefined ? {} : { idempotencyKey: r.key }),
      status: response ? response.status : 'error',
      answer: response ? response.body : error,
      ...(contractProblems ? { contractProblems } : {}),
    };
    history.attempts.push(attempt);
    return attempt;
  };
  const newOp = (intent: Intent): LogicalOp => {
    const op = { id: history.ops.length, intent };
    history.ops.push(op);
    return op;
  };
  return { history, send, newOp };
};

const updateBody = (i: Extract<Intent, { kind: 'update' }>) => ({
  sku_id: i.sku_id,
  warehouse_id: i.warehouse_id,
  transaction_type: i.type,
  // An adjustment is signed: drawn as 1..6, half of them count units lost.
  quantity: i.quantity,
  reference: i.reference,
  ...(i.type === 'adjustment' ? { reason: i.quantity < 0 ? 'damaged' : 'found' } : {}),
});

const is2xx = (a: Attempt): boolean => typeof a.status === 'number' && a.status >= 200 && a.status < 300;

/** Sends one logical request as its plan says: once, retried once answered, twice at once, or re-sent under a new key. */
const sendAs = async (rec: Recorder, op: LogicalOp, request: Request, sending: Sending): Promise<Attempt> => {
  switch (sending) {
    case 'concurrent': {
      const [first] = await Promise.all([rec.send(op.id, request), rec.send(op.id, request)]);
      return first;
    }
    case 'retry': {
      const first = await rec.send(op.id, request);
      await rec.send(op.id, request);
      return first;
    }
    case 'new-key': {
      const first = await rec.send(op.id, request);
      await rec.send(op.id, { ...request, key: `${request.key ?? 'k'}-again` });
      return first;
    }
    default:
      return rec.send(op.id, request);
  }
};

interface Materialized {
  run: (rec: Recorder) => Promise<void>;
}

/** Gives each step its ids (references, order ids, keys) and the requests it sends. */
const materialize = (plan: Plan): Materialized[] => {
  const allocations = plan.steps.flatMap((s, i) => (s.kind === 'allocate' ? [{ index: i, step: s }] : []));
  const orderId = (index: number) => `o-${index}`;
  return plan.steps.map((step, index): Materialized => {
    const key = `k-${index}`;
    switch (step.kind) {
      case 'update': {
        const sku = plan.skus[step.sku]!;
        const wh = plan.warehouses[step.wh]!;
        // Adjustments are signed: even indexes lose units, odd ones find them.
        const quantity = step.type === 'adjustment' && index % 2 === 0 ? -step.quantity : step.type === 'count' ? step.quantity * 4 : step.quantity;
        const intent: Extract<Intent, { kind: 'update' }> = { kind: 'update', sku_id: sku, warehouse_id: wh, type: step.type, quantity, reference: `u-${index}` };
        return {
          run: async (rec) => {
            const op = rec.newOp(intent);
            const first = await sendAs(rec, op, { method: 'POST', path: '/api/inventory/update', body: updateBody(intent), key }, step.sending === 'reuse-key' ? 'once' : step.sending);
            if (step.sending !== 'reuse-key') return;
            // The same key for another request: refused with 422 once the first was answered 2xx
            // (its record exists), else an ordinary request of its own.
            const other: Extract<Intent, { kind: 'update' }> = { ...intent, type: 'restock', quantity: 1, reference: `u-${index}-reused` };
            const probe = rec.newOp(is2xx(first) ? { kind: 'refusal', why: `reuses the key of op ${op.id}, answered ${first.status}`, reference: other.reference } : other);
            await rec.send(probe.id, { method: 'POST', path: '/api/inventory/update', body: updateBody(other), key });
          },
        };
      }
      case 'transfer': {
        const intent: Intent = { kind: 'transfer', sku_id: plan.skus[step.sku]!, from: plan.warehouses[step.from]!, to: plan.warehouses[step.to]!, quantity: step.quantity, reference: `x-${index}` };
        const body = { sku_id: intent.sku_id, from_warehouse_id: intent.from, to_warehouse_id: intent.to, quantity: intent.quantity, reference: intent.reference };
        return { run: async (rec) => void (await sendAs(rec, rec.newOp(intent), { method: 'POST', path: '/api/inventory/transfer', body, key }, step.sending)) };
      }
      case 'allocate': {
        const lines = step.lines.map((l) => ({ sku_id: plan.skus[l.sku]!, quantity: l.quantity }));
        const intent: Intent = { kind: 'allocate', order_id: orderId(index), lines };
        const body = { order_id: orderId(index), lines, ship_to: { latitude: 40, longitude: -74 }, strategy: 'fewest_shipments', allow_split: true };
        return { run: async (rec) => void (await sendAs(rec, rec.newOp(intent), { method: 'POST', path: '/api/orders/allocate', body, key }, step.sending)) };
      }
      case 'cancel':
      case 'ship': {
        // An order planned before this step (it may still be in flight: then a 404 or a 409).
        // Mostly one far enough back to have been answered (a dozen steps run at once).
        const settled = allocations.filter((a) => a.index < index - 12);
        const earlier = step.order % 5 === 0 || settled.length === 0 ? allocations.filter((a) => a.index < index) : settled;
        const target = earlier[earlier.length - 1 - (step.order % Math.max(1, Math.min(earlier.length, 4)))];
        const id = target ? orderId(target.index) : 'o-none';
        if (step.kind === 'cancel') {
          return { run: async (rec) => void (await sendAs(rec, rec.newOp({ kind: 'cancel', order_id: id }), { method: 'POST', path: `/api/orders/${id}/cancel`, key }, step.sending)) };
        }
        const lines = target?.step.lines ?? [{ sku: 0, quantity: 1 }];
        const line = lines[step.line % lines.length]!;
        const intent: Intent = { kind: 'ship', order_id: id, sku_id: plan.skus[line.sku]!, quantity: Math.min(step.quantity, line.quantity) };
        const body = { lines: [{ sku_id: intent.sku_id, quantity: intent.quantity }] };
        return { run: async (rec) => void (await sendAs(rec, rec.newOp(intent), { method: 'POST', path: `/api/orders/${id}/ship`, body, key }, step.sending)) };
      }
      case 'refusal':
        return { run: async (rec) => void (await refusal(rec, plan, step.variant, index, key, allocations[0] ? orderId(allocations[0].index) : 'o-none')) };
    }
  });
};

/** Requests that must be refused (4xx) whatever the state, each with its own reference so its rows would show. */
const refusal = async (rec: Recorder, plan: Plan, variant: number, index: number, key: string, someOrder: string): Promise<Attempt> => {
  const sku = plan.skus[0]!;
  const wh1 = plan.warehouses[0]!;
  const reference = `r-${index}`;
  const update = (body: Record<string, unknown>, why: string) => {
    const op = rec.newOp({ kind: 'refusal', why, reference });
    return rec.send(op.id, { method: 'POST', path: '/api/inventory/update', body: { sku_id: sku, warehouse_id: wh1, reference, ...body }, key });
  };
  switch (variant) {
    case 0:
      return update({ transaction_type: 'sale', quantity: 0 }, 'a sale of zero units');
    case 1:
      return update({ transaction_type: 'adjustment', quantity: -2 }, 'an adjustment without a reason');
    case 2:
      return update({ transaction_type: 'restock', quantity: 3, surprise: true }, 'a field the schema does not know');
    case 3:
      return update({ warehouse_id: 'wh-nowhere', transaction_type: 'restock', quantity: 3 }, 'an unknown warehouse');
    case 4:
      return update({ transaction_type: 'sale', quantity: 900_000_000 }, 'a sale far beyond any stock');
    case 5: {
      const op = rec.newOp({ kind: 'refusal', why: 'a body that is not JSON', reference });
      return rec.send(op.id, { method: 'POST', path: '/api/inventory/update', raw: `{"sku_id":"${sku}","warehouse_id":"${wh1}","transaction_type":"restock","quantity":3,"reference":"${reference}"`, key });
    }
    case 6: {
      const op = rec.newOp({ kind: 'refusal', why: 'a transfer to the warehouse it leaves', reference });
      return rec.send(op.id, { method: 'POST', path: '/api/inventory/transfer', body: { sku_id: sku, from_warehouse_id: wh1, to_warehouse_id: wh1, quantity: 1, reference }, key });
    }
    case 7: {
      const orderId = `o-refused-${index}`;
      const op = rec.newOp({ kind: 'refusal', why: 'an order naming one SKU twice', order_id: orderId });
      const lines = [{ sku_id: sku, quantity: 1 }, { sku_id: sku, quantity: 2 }];
      return rec.send(op.id, { method: 'POST', path: '/api/orders/allocate', body: { order_id: orderId, lines, ship_to: { latitude: 40, longitude: -74 } }, key });
    }
    case 8: {
      const orderId = `o-refused-${index}`;
      const op = rec.newOp({ kind: 'refusal', why: 'an order of a SKU that does not exist', order_id: orderId });
      return rec.send(op.id, { method: 'POST', path: '/api/orders/allocate', body: { order_id: orderId, lines: [{ sku_id: 'sku-nowhere', quantity: 1 }], ship_to: { latitude: 40, longitude: -74 } }, key });
    }
    default: {
      const op = rec.newOp({ kind: 'refusal', why: 'a shipment of zero units' });
      return rec.send(op.id, { method: 'POST', path: `/api/orders/${someOrder}/ship`, body: { lines: [{ sku_id: sku, quantity: 0 }] }, key });
    }
  }
};

/** The catalogue of a plan, in a fresh tenant. */
const setUp = async (c: Client, plan: Plan): Promise<void> => {
  const expect = (r: Response, what: string) => {
    if (r.status !== 201) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  expect(await c.post('/api/products', { product_id: 'prod-h', name: 'History' }), 'product');
  for (const sku of plan.skus) expect(await c.post('/api/skus', { sku_id: sku, product_id: 'prod-h', name: sku }), `sku ${sku}`);
  for (const [i, wh] of plan.warehouses.entries()) {
    expect(await c.post('/api/warehouses', { warehouse_id: wh, name: wh, latitude: 40, longitude: -74 - i, priority: 100 }), `warehouse ${wh}`);
  }
};

/** Everything the workload touched, read back once it is over. */
export const readFinalState = async (c: Client, plan: Plan, history: History): Promise<FinalState> => {
  const levels: StockLevel[] = [];
  const movements: Movement[] = [];
  for (const sku of plan.skus) {
    levels.push(...(await levelsOf(c, sku)));
    movements.push(...(await allMovements(c, sku)));
  }
  const orderIds = new Set(history.ops.flatMap(({ intent: i }) => (i.kind === 'allocate' ? [i.order_id] : i.kind === 'refusal' && i.order_id ? [i.order_id] : [])));
  const orders: Order[] = [];
  for (const id of orderIds) {
    const r = await c.get<Order>(`/api/orders/status/${id}`);
    if (r.status === 200) orders.push(r.body);
    else if (r.status !== 404) throw new Error(`GET order ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return { levels, movements, orders };
};

export interface HistoryRun {
  options: HistoryOptions;
  plan: Plan;
  history: History;
  final: FinalState;
  violations: Violation[];
  /** Wall time of the concurrent part, and of the whole run (setup and final reads included). */
  workloadMs: number;
  totalMs: number;
  /** Attempts by status, e.g. { 200: 80, 201: 12, 409: 20 }. */
  statuses: Record<string, number>;
}

/** Runs the plan of `options.seed` against the API (a fresh tenant) and judges it. */
export const runHistory = async (t: TestApi, options: HistoryOptions): Promise<HistoryRun> => {
  const began = performance.now();
  const plan = planFor(options);
  const c = await t.client();
  await setUp(c, plan);
  const rec = recorder(c);
  for (const o of plan.opening) {
    const intent: Extract<Intent, { kind: 'update' }> = { kind: 'update', sku_id: o.sku, warehouse_id: o.wh, type: 'restock', quantity: o.quantity, reference: `open-${o.sku}-${o.wh}` };
    await rec.send(rec.newOp(intent).id, { method: 'POST', path: '/api/inventory/update', body: updateBody(intent), key: intent.reference });
  }
  const steps = materialize(plan);
  const workloadBegan = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < steps.length) {
      const step = steps[next++]!;
      await step.run(rec);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const workloadMs = performance.now() - workloadBegan;
  const final = await readFinalState(c, plan, rec.history);
  const violations = checkHistory(rec.history, final);
  const statuses: Record<string, number> = {};
  for (const a of rec.history.attempts) statuses[String(a.status)] = (statuses[String(a.status)] ?? 0) + 1;
  return { options, plan, history: rec.history, final, violations, workloadMs, totalMs: performance.now() - began, statuses };
};
