import { useState } from 'preact/hooks';
import { api, must, once } from '../api/client';
import type { paths } from '../api/schema';
import { Field, Page, ProblemBanner, Table, asProblem } from '../components/ui';
import { fieldMessages, formMessages, parseQuantity, type ApiProblem } from '../forms';
import { formatInstant, formatQuantity, humanize } from '../format';
import { can } from '../session';

type Order = paths['/api/orders/status/{order_id}']['get']['responses'][200]['content']['application/json'];
type Plan = paths['/api/orders/plan']['post']['responses'][200]['content']['application/json'];

const INPUTS = ['order_id', 'lines', 'ship_to'];

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
    if (body && orderId.trim()) setOrder(await must(api.POST('/api/orders/allocate', { params: { header: once() }, body: { ...body, order_id: orderId.trim() } })));
  });
  const lookUp = () => run(async () => {
    if (orderId.trim()) setOrder(await must(api.GET('/api/orders/status/{order_id}', { params: { path: { order_id: orderId.trim() } } })));
  });
  const ship = () => run(async () => {
    if (order) setOrder(await must(api.POST('/api/orders/{order_id}/ship', { params: { path: { order_id: order.order_id }, header: once() }, body: { lines: order.allocations.filter((a) => a.quantity - a.shipped - a.released > 0).map((a) => ({ sku_id: a.sku_id, warehouse_id: a.warehouse_id, quantity: a.quantity - a.shipped - a.released })) } })));
  });
  const cancel = () => run(async () => {
    if (order) setOrder(await must(api.POST('/api/orders/{order_id}/cancel', { params: { path: { order_id: order.order_id }, header: once() } })));
  });
  const fields = { ...fieldMessages(problem, INPUTS), ...local };
  return (
    <Page title="Orders">
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
