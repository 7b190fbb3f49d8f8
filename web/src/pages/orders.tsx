import { useEffect, useState } from 'preact/hooks';
import { api, must, once } from '../api/client';
import { unitsToShip, type OrderStatus } from '../api/orders';
import type { paths } from '../api/schema';
import { Field, LoadState, Page, Pager, ProblemBanner, Table, asProblem, useLoad, usePager } from '../components/ui';
import { fieldMessages, formMessages, parseQuantity, type ApiProblem } from '../forms';
import { formatInstant, formatQuantity, humanize } from '../format';
import { currentPath, navigate } from '../router';
import { can } from '../session';

type Order = paths['/api/orders/status/{order_id}']['get']['responses'][200]['content']['application/json'];
type Plan = paths['/api/orders/plan']['post']['responses'][200]['content']['application/json'];

const INPUTS = ['order_id', 'lines', 'ship_to'];

/** The list's choices: the statuses (oldest first within one) and every order (by id). */
const LISTS: { value: OrderStatus | ''; label: string }[] = [
  { value: 'allocated', label: 'Allocated, waiting to ship' },
  { value: 'partially_shipped', label: 'Partly shipped' },
  { value: 'held', label: 'Checkout holds' },
  { value: 'shipped', label: 'Shipped' },
  { value: 'cancelled', label: 'Cancelled' },
  { value: 'expired', label: 'Expired holds' },
  { value: '', label: 'Every order, by id' },
];

/** The orders of one status, a page at a time; the status is in the URL (`?status=`), so the overview links to it. */
const OrderList = ({ onOpen, changes }: { onOpen: (orderId: string) => void; changes: number }) => {
  const params = new URLSearchParams(currentPath.value.split('?')[1] ?? '');
  const status = (params.get('status') ?? 'allocated') as OrderStatus | '';
  return (
    <>
      <div class="filters">
        <Field label="Show">
          {(p) => (
            <select {...p} value={status} onChange={(e) => navigate(`/orders?status=${encodeURIComponent(e.currentTarget.value)}`)}>
              {LISTS.map((l) => <option key={l.value} value={l.value}>{l.label}</option>)}
            </select>
          )}
        </Field>
      </div>
      {/* Keyed by status: another status starts at its first page (a cursor belongs to its list). */}
      <OrdersOf key={status} status={status} onOpen={onOpen} changes={changes} />
    </>
  );
};

/** `changes` counts the orders this page changed: the list is read again after each. */
const OrdersOf = ({ status, onOpen, changes }: { status: OrderStatus | ''; onOpen: (orderId: string) => void; changes: number }) => {
  const pager = usePager();
  const list = useLoad(
    () => must(api.GET('/api/orders', { params: { query: { ...(status ? { status } : {}), limit: 25, ...(pager.cursor ? { cursor: pager.cursor } : {}) } } })),
    [pager.cursor, changes],
  );
  return (
    <LoadState loaded={list} what="the orders">
      {(data) => (
        <>
          <Table caption="Orders" rows={data.orders} rowKey={(o) => o.order_id} empty="No orders here."
            columns={[
              { label: 'Order', cell: (o) => <button type="button" class="link" onClick={() => onOpen(o.order_id)} aria-label={`Open order ${o.order_id}`}>{o.order_id}</button> },
              { label: 'Status', cell: (o) => humanize(o.status) },
              { label: 'Lines', numeric: true, cell: (o) => formatQuantity(o.lines.length) },
              { label: 'Units to ship', numeric: true, cell: (o) => formatQuantity(unitsToShip(o)) },
              { label: 'Created', cell: (o) => formatInstant(o.created_at) },
            ]} />
          <Pager pager={pager} nextCursor={data.next_cursor} />
        </>
      )}
    </LoadState>
  );
};

/** An order from its plan to its shipment: preview the plan, allocate it, follow its status, ship or cancel it. */
export const OrdersPage = () => {
  const [orderId, setOrderId] = useState('');
  const [sku, setSku] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [latitude, setLatitude] = useState('40.7');
  const [longitude, setLongitude] = useState('-74.0');
  const [plan, setPlan] = useState<Plan | undefined>();
  const [order, setOrder] = useState<Order | undefined>();
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [local, setLocal] = useState<Record<string, string>>({});
  const [changes, setChanges] = useState(0);
  /** An order this page changed: shown, and the list read again. */
  const changed = (next: Order) => {
    setOrder(next);
    setChanges((count) => count + 1);
  };
  const request = () => {
    const q = parseQuantity(quantity);
    const errors: Record<string, string> = {};
    if ('error' in q) errors.lines = q.error;
    if (!sku.trim()) errors.lines = 'enter a SKU';
    const lat = Number(latitude);
    const lon = Number(longitude);
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || latitude.trim() === '' || longitude.trim() === '') errors.ship_to = 'enter the latitude and longitude to ship to';
    setLocal(errors);
    if (Object.keys(errors).length > 0 || 'error' in q) return undefined;
    return { lines: [{ sku_id: sku.trim(), quantity: q.value }], ship_to: { latitude: lat, longitude: lon } };
  };
  const run = async (what: () => Promise<void>) => {
    try {
      setProblem(undefined);
      await what();
    } catch (error) {
      setProblem(asProblem(error));
    }
  };
  const preview = () => run(async () => {
    const body = request();
    if (body) setPlan(await must(api.POST('/api/orders/plan', { body })));
  });
  const allocate = () => run(async () => {
    const body = request();
    if (!orderId.trim()) setLocal((l) => ({ ...l, order_id: 'name the order' }));
    if (body && orderId.trim()) changed(await must(api.POST('/api/orders/allocate', { params: { header: once() }, body: { ...body, order_id: orderId.trim() } })));
  });
  const open = (id: string) => run(async () => {
    setOrderId(id);
    setOrder(await must(api.GET('/api/orders/status/{order_id}', { params: { path: { order_id: id } } })));
  });
  const lookUp = () => (orderId.trim() ? open(orderId.trim()) : Promise.resolve());
  // A link to one order (the overview's `?order_id=`) opens it.
  const linked = new URLSearchParams(currentPath.value.split('?')[1] ?? '').get('order_id');
  useEffect(() => {
    if (linked) void open(linked);
  }, [linked]);
  const ship = () => run(async () => {
    if (order) changed(await must(api.POST('/api/orders/{order_id}/ship', { params: { path: { order_id: order.order_id }, header: once() }, body: { lines: order.allocations.filter((a) => a.quantity - a.shipped - a.released > 0).map((a) => ({ sku_id: a.sku_id, warehouse_id: a.warehouse_id, quantity: a.quantity - a.shipped - a.released })) } })));
  });
  const cancel = () => run(async () => {
    if (order) changed(await must(api.POST('/api/orders/{order_id}/cancel', { params: { path: { order_id: order.order_id }, header: once() } })));
  });
  const fields = { ...fieldMessages(problem, INPUTS), ...local };
  return (
    <Page title="Orders">
      <OrderList onOpen={(id) => void open(id)} changes={changes} />
      <h2>Plan, allocate or look up an order</h2>
      <form class="stack" onSubmit={(e) => { e.preventDefault(); void preview(); }} noValidate>
        <ProblemBanner problem={problem} extra={formMessages(problem, INPUTS)} />
        <div class="row">
          <Field label="Order id" error={fields.order_id}>{(p) => <input {...p} value={orderId} onInput={(e) => setOrderId(e.currentTarget.value)} />}</Field>
          <Field label="SKU" error={fields.lines}>{(p) => <input {...p} value={sku} onInput={(e) => setSku(e.currentTarget.value)} />}</Field>
          <Field label="Quantity">{(p) => <input {...p} inputMode="numeric" value={quantity} onInput={(e) => setQuantity(e.currentTarget.value)} />}</Field>
          <Field label="Ship to latitude" error={fields.ship_to}>{(p) => <input {...p} inputMode="decimal" value={latitude} onInput={(e) => setLatitude(e.currentTarget.value)} />}</Field>
          <Field label="Ship to longitude">{(p) => <input {...p} inputMode="decimal" value={longitude} onInput={(e) => setLongitude(e.currentTarget.value)} />}</Field>
        </div>
        <div class="row-actions">
          <button type="submit">Preview plan</button>
          {can('orders:write') && <button type="button" class="primary" onClick={() => void allocate()}>Allocate</button>}
          <button type="button" onClick={() => void lookUp()}>Look up status</button>
        </div>
      </form>
      {plan && (
        <>
          <h2>Plan</h2>
          <p>{plan.feasible ? `Feasible in ${plan.shipments} shipment${plan.shipments === 1 ? '' : 's'}.` : 'Not feasible with the stock there is.'} {plan.explanation}</p>
          <Table caption="Planned allocations" rows={plan.lines.flatMap((l) => l.allocations.map((a) => ({ ...a, sku_id: l.sku_id })))} rowKey={(a) => `${a.sku_id}|${a.warehouse_id}`} empty="Nothing can be allocated."
            columns={[{ label: 'SKU', cell: (a) => a.sku_id }, { label: 'Warehouse', cell: (a) => a.warehouse_id }, { label: 'Quantity', numeric: true, cell: (a) => formatQuantity(a.quantity) }, { label: 'Distance', numeric: true, cell: (a) => `${a.distance_km.toFixed(0)} km` }]} />
        </>
      )}
      {order && (
        <>
          <h2>Order {order.order_id}: {humanize(order.status)}</h2>
          <p class="muted">Created {formatInstant(order.created_at)}{order.hold_expires_at ? ` · hold expires ${formatInstant(order.hold_expires_at)}` : ''}{order.shipped_at ? ` · shipped ${formatInstant(order.shipped_at)}` : ''}</p>
          <Table caption="Allocations" rows={order.allocations} rowKey={(a) => `${a.sku_id}|${a.warehouse_id}`} empty="No allocations."
            columns={[{ label: 'SKU', cell: (a) => a.sku_id }, { label: 'Warehouse', cell: (a) => a.warehouse_id }, { label: 'Allocated', numeric: true, cell: (a) => formatQuantity(a.quantity) }, { label: 'Shipped', numeric: true, cell: (a) => formatQuantity(a.shipped) }, { label: 'Released', numeric: true, cell: (a) => formatQuantity(a.released) }]} />
          {can('orders:write') && (order.status === 'allocated' || order.status === 'held' || order.status === 'partially_shipped') && (
            <div class="row-actions">
              <button type="button" class="primary" onClick={() => void ship()}>Ship the rest</button>
              <button type="button" onClick={() => void cancel()}>Cancel order</button>
            </div>
          )}
        </>
      )}
    </Page>
  );
};
