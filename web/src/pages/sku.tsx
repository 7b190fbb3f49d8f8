import { useMemo, useRef, useState } from 'preact/hooks';
import { api, must, once } from '../api/client';
import type { paths } from '../api/schema';
import { TimeChart } from '../components/chart';
import { Dialog, DialogActions, Field, LoadState, Page, ProblemBanner, Table, asProblem, useLoad } from '../components/ui';
import { ApiProblem, fieldMessages, formMessages, newIdempotencyKey, parseQuantity } from '../forms';
import { formatDelta, formatInstant, formatMoney, formatQuantity, humanize } from '../format';
import { can } from '../session';
import { useWarehouses } from './inventory';

type Level = paths['/api/inventory/sku/{sku_id}']['get']['responses'][200]['content']['application/json']['levels'][number];
type MovementRow = paths['/api/inventory/sku/{sku_id}/movements']['get']['responses'][200]['content']['application/json']['movements'][number];
type Action = 'receive' | 'adjust' | 'count' | 'transfer';

export const ADJUSTMENT_REASONS = ['damaged', 'lost', 'found', 'theft', 'expired', 'returned', 'correction', 'other'] as const;

/** On hand after each ledger row, oldest first, from the rows that carry their resulting level. */
export const onHandSeries = (movements: readonly MovementRow[], warehouseId: string): { x: number[]; y: number[] } => {
  const rows = movements.filter((m) => m.warehouse_id === warehouseId && m.resulting).sort((a, b) => a.created_at.localeCompare(b.created_at));
  return { x: rows.map((m) => Date.parse(m.created_at) / 1000), y: rows.map((m) => m.resulting?.on_hand ?? 0) };
};

export const SkuPage = ({ skuId }: { skuId: string }) => {
  const sku = useLoad(() => must(api.GET('/api/skus/{sku_id}', { params: { path: { sku_id: skuId } } })), [skuId]);
  const stock = useLoad(() => must(api.GET('/api/inventory/sku/{sku_id}', { params: { path: { sku_id: skuId } } })), [skuId]);
  const ledger = useLoad(() => must(api.GET('/api/inventory/sku/{sku_id}/movements', { params: { path: { sku_id: skuId }, query: { limit: 100 } } })), [skuId]);
  const [action, setAction] = useState<{ kind: Action; level: Level } | undefined>();
  const [chartWarehouse, setChartWarehouse] = useState<string | undefined>();
  const writer = can('inventory:write');
  const refresh = () => {
    stock.reload();
    ledger.reload();
  };
  return (
    <Page title={sku.data ? `${sku.data.name} (${skuId})` : skuId}>
      {sku.data && (
        <p class="muted">
          Product {sku.data.product_id}
          {sku.data.price !== undefined && ` · price ${formatMoney(sku.data.price, sku.data.currency)}`}
          {sku.data.unit_cost !== undefined && ` · unit cost ${formatMoney(sku.data.unit_cost, sku.data.currency)}`}
        </p>
      )}
      <ProblemBanner problem={sku.problem} />
      <h2>Levels</h2>
      <LoadState loaded={stock} what="levels">
        {(data) => (
          <Table
            caption={`Stock of ${skuId} per warehouse`}
            rows={data.levels}
            rowKey={(l) => l.warehouse_id}
            empty="This SKU has no stock anywhere yet."
            columns={[
              { label: 'Warehouse', cell: (l) => l.warehouse_id },
              { label: 'On hand', numeric: true, cell: (l) => <span data-testid={`on-hand-${l.warehouse_id}`}>{formatQuantity(l.on_hand)}</span> },
              { label: 'Reserved', numeric: true, cell: (l) => formatQuantity(l.reserved) },
              { label: 'Available', numeric: true, cell: (l) => formatQuantity(l.available) },
              { label: 'Incoming', numeric: true, cell: (l) => formatQuantity(l.incoming) },
              { label: 'Reorder point', numeric: true, cell: (l) => formatQuantity(l.reorder_point) },
              { label: 'Version', numeric: true, cell: (l) => l.version },
              ...(writer
                ? [
                    {
                      label: 'Actions',
                      cell: (l: Level) => (
                        <div class="row-actions">
                          {(['receive', 'adjust', 'count', 'transfer'] as const).map((kind) => (
                            <button type="button" key={kind} onClick={() => setAction({ kind, level: l })} aria-label={`${humanize(kind)} ${skuId} in ${l.warehouse_id}`}>
                              {humanize(kind)}
                            </button>
                          ))}
                        </div>
                      ),
                    },
                  ]
                : []),
            ]}
          />
        )}
      </LoadState>
      {writer && stock.data && stock.data.levels.length === 0 && <FirstReceipt skuId={skuId} onOpen={(level) => setAction({ kind: 'receive', level })} />}
      {action && <StockDialog skuId={skuId} action={action.kind} level={action.level} onClose={() => setAction(undefined)} onDone={() => { setAction(undefined); refresh(); }} />}
      <h2>On hand over time</h2>
      <LoadState loaded={ledger} what="the ledger">
        {(data) => {
          const warehouses = [...new Set(data.movements.map((m) => m.warehouse_id))].sort();
          const shown = chartWarehouse ?? warehouses[0];
          const series = shown ? onHandSeries(data.movements, shown) : { x: [], y: [] };
          return (
            <>
              {warehouses.length > 1 && (
                <label>
                  Warehouse{' '}
                  <select value={shown} onChange={(e) => setChartWarehouse(e.currentTarget.value)}>
                    {warehouses.map((w) => (
                      <option key={w}>{w}</option>
                    ))}
                  </select>
                </label>
              )}
              {series.x.length < 2 ? (
                <p class="empty">Not enough history to chart yet.</p>
              ) : (
                <TimeChart x={series.x} series={[{ label: `On hand in ${shown}`, values: series.y, color: '#1d4e89', stepped: true }]} summary={`On hand of ${skuId} in ${shown}: ${formatQuantity(series.y.at(-1))} now.`} />
              )}
              <Forecast skuId={skuId} warehouseId={shown} />
              <h2>Ledger</h2>
              <Table
                caption={`Ledger of ${skuId}, newest first`}
                rows={data.movements}
                rowKey={(m) => m.movement_id}
                empty="No movements yet."
                columns={[
                  { label: 'When', cell: (m) => formatInstant(m.created_at) },
                  { label: 'Warehouse', cell: (m) => m.warehouse_id },
                  { label: 'Type', cell: (m) => humanize(m.type) },
                  { label: 'On hand', numeric: true, cell: (m) => formatDelta(m.deltas.on_hand) },
                  { label: 'Available', numeric: true, cell: (m) => formatDelta(m.deltas.available) },
                  { label: 'Reason', cell: (m) => (m.reason ? humanize(m.reason) : '') },
                  { label: 'Actor', cell: (m) => m.actor },
                  { label: 'Reference', cell: (m) => m.reference ?? m.note ?? '' },
                ]}
              />
            </>
          );
        }}
      </LoadState>
      <OpenPurchaseOrders skuId={skuId} />
    </Page>
  );
};

/** A SKU stocked nowhere yet: its first receipt picks the warehouse (the level is created by it). */
const FirstReceipt = ({ skuId, onOpen }: { skuId: string; onOpen: (level: Level) => void }) => {
  const warehouses = useWarehouses();
  const [warehouseId, setWarehouseId] = useState('');
  return (
    <form class="inline-form" onSubmit={(e) => { e.preventDefault(); const w = warehouseId || warehouses[0]?.warehouse_id; if (w) onOpen(emptyLevel(skuId, w)); }}>
      <label>
        Receive into{' '}
        <select value={warehouseId} onChange={(e) => setWarehouseId(e.currentTarget.value)}>
          {warehouses.map((w) => (
            <option key={w.warehouse_id} value={w.warehouse_id}>{w.name}</option>
          ))}
        </select>
      </label>{' '}
      <button type="submit">Receive stock</button>
    </form>
  );
};

const emptyLevel = (skuId: string, warehouseId: string): Level => ({
  sku_id: skuId, warehouse_id: warehouseId, on_hand: 0, reserved: 0, available: 0, incoming: 0, reorder_point: 0, safety_stock: 0, version: 0, updated_at: null, last_movement_id: null,
});

const INPUTS = ['quantity', 'reason', 'note', 'reference', 'to_warehouse_id', 'expected_version'];

/**
 * One stock action as a dialog. It sends the level's version as `expected_version` (a count, receipt or
 * adjustment made against numbers that changed meanwhile is refused: the dialog shows the new numbers) and one
 * Idempotency-Key per submit attempt of this dialog, so a double click or a retry after a lost answer applies once.
 */
export const StockDialog = ({ skuId, action, level, onClose, onDone }: { skuId: string; action: Action; level: Level; onClose: () => void; onDone: () => void }) => {
  const [quantity, setQuantity] = useState('');
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [to, setTo] = useState('');
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [local, setLocal] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [current, setCurrent] = useState<Level>(level);
  const key = useRef(newIdempotencyKey());
  const warehouses = useWarehouses();
  const others = useMemo(() => warehouses.filter((w) => w.warehouse_id !== level.warehouse_id), [warehouses]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const errors: Record<string, string> = {};
    const parsed = parseQuantity(quantity, { min: action === 'adjust' ? -1_000_000_000 : action === 'count' ? 0 : 1 });
    if ('error' in parsed) errors.quantity = parsed.error;
    else if (action === 'adjust' && parsed.value === 0) errors.quantity = 'must not be zero for an adjustment';
    if (action === 'transfer' && !to && others.length > 0) errors.to_warehouse_id = 'choose where the stock goes';
    setLocal(errors);
    if (Object.keys(errors).length > 0 || 'error' in parsed) return;
    setBusy(true);
    setProblem(undefined);
    const base = { sku_id: skuId, warehouse_id: level.warehouse_id, quantity: parsed.value, ...(note ? { note } : {}) };
    const expected = current.version > 0 ? { expected_version: current.version } : {};
    try {
      if (action === 'transfer') {
        await must(api.POST('/api/inventory/transfer', { params: { header: once(key.current) }, body: { sku_id: skuId, from_warehouse_id: level.warehouse_id, to_warehouse_id: to || (others[0]?.warehouse_id ?? ''), quantity: parsed.value, ...(note ? { note } : {}) } }));
      } else if (action === 'adjust') {
        // The reason is the API's to require: an adjustment without one is refused next to the field.
        await must(api.POST('/api/inventory/update', { params: { header: once(key.current) }, body: { ...base, ...expected, transaction_type: 'adjustment', reason: reason as (typeof ADJUSTMENT_REASONS)[number] } }));
      } else {
        await must(api.POST('/api/inventory/update', { params: { header: once(key.current) }, body: { ...base, ...expected, transaction_type: action === 'receive' ? 'restock' : 'count' } }));
      }
      onDone();
    } catch (error) {
      const found = asProblem(error);
      setProblem(found);
      const fresh = found.code === 'VERSION_CONFLICT' ? (found.details.current as Level | undefined) : undefined;
      if (fresh) setCurrent(fresh);
      // A refused submit is over: the next one is a new request with its own key.
      key.current = newIdempotencyKey();
    } finally {
      setBusy(false);
    }
  };

  const fields = { ...fieldMessages(problem, INPUTS), ...local };
  const title = `${humanize(action)} ${skuId} in ${level.warehouse_id}`;
  const quantityLabel = action === 'count' ? 'Counted on hand' : action === 'adjust' ? 'Change (negative to remove)' : 'Quantity';
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p class="muted">
          Now: on hand {formatQuantity(current.on_hand)}, available {formatQuantity(current.available)}, version {current.version}
        </p>
        {problem?.code === 'VERSION_CONFLICT' && (
          <div class="problem" role="alert">
            <strong>Someone changed this level meanwhile.</strong> It now has on hand {formatQuantity(current.on_hand)} and available {formatQuantity(current.available)} (version {current.version}). Nothing was written: check the numbers and submit again.
          </div>
        )}
        {problem && problem.code !== 'VERSION_CONFLICT' && <ProblemBanner problem={problem} extra={formMessages(problem, INPUTS)} />}
        <Field label={quantityLabel} error={fields.quantity}>
          {(props) => <input {...props} name="quantity" inputMode="numeric" autoFocus value={quantity} onInput={(e) => setQuantity(e.currentTarget.value)} />}
        </Field>
        {action === 'adjust' && (
          <Field label="Reason" error={fields.reason}>
            {(props) => (
              <select {...props} name="reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
                <option value="">Choose a reason…</option>
                {ADJUSTMENT_REASONS.map((r) => (
                  <option key={r} value={r}>{humanize(r)}</option>
                ))}
              </select>
            )}
          </Field>
        )}
        {action === 'transfer' && (
          <Field label="To warehouse" error={fields.to_warehouse_id}>
            {(props) => (
              <select {...props} name="to_warehouse_id" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
                <option value="">Choose…</option>
                {others.map((w) => (
                  <option key={w.warehouse_id} value={w.warehouse_id}>{w.name}</option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field label="Note (optional)" error={fields.note}>
          {(props) => <input {...props} name="note" value={note} maxLength={500} onInput={(e) => setNote(e.currentTarget.value)} />}
        </Field>
        <DialogActions onClose={onClose} submit={humanize(action)} busy={busy} />
      </form>
    </Dialog>
  );
};

type ForecastAnswer = paths['/api/reports/demand-forecast']['get']['responses'][200]['content']['application/json'];

const Forecast = ({ skuId, warehouseId }: { skuId: string; warehouseId: string | undefined }) => {
  const forecast = useLoad<ForecastAnswer | undefined>(
    () => (warehouseId && can('reports:read') ? must(api.GET('/api/reports/demand-forecast', { params: { query: { sku_id: skuId, warehouse_id: warehouseId, horizon_days: 28 } } })) : Promise.resolve(undefined)),
    [skuId, warehouseId],
  );
  if (!warehouseId || !can('reports:read')) return null;
  if (forecast.problem) return <ProblemBanner problem={forecast.problem} />;
  const data = forecast.data;
  if (!data) return <p class="muted">Loading the forecast…</p>;
  if (data.daily.length === 0) return <p class="empty">No forecast yet: {data.reason}</p>;
  const x = data.daily.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000);
  return (
    <>
      <h2>Forecast, next {data.horizon_days} days</h2>
      <TimeChart
        x={x}
        series={[
          { label: 'Forecast', values: data.daily.map((d) => d.forecast), color: '#1d4e89' },
          { label: `Lower (${Math.round(data.interval * 100)}%)`, values: data.daily.map((d) => d.lower), color: '#7a8ca3', dash: [4, 4] },
          { label: `Upper (${Math.round(data.interval * 100)}%)`, values: data.daily.map((d) => d.upper), color: '#7a8ca3', dash: [4, 4] },
        ]}
        summary={`Forecast demand for ${skuId} in ${warehouseId}: ${data.total.forecast.toFixed(0)} units over ${data.horizon_days} days (between ${data.total.lower.toFixed(0)} and ${data.total.upper.toFixed(0)}), method ${data.method}.`}
      />
    </>
  );
};

const OpenPurchaseOrders = ({ skuId }: { skuId: string }) => {
  const orders = useLoad(
    () => (can('purchasing:read') ? must(api.GET('/api/purchase-orders', { params: { query: { limit: 100 } } })) : Promise.resolve({ purchase_orders: [], next_cursor: null })),
    [skuId],
  );
  if (!can('purchasing:read')) return null;
  const open = (orders.data?.purchase_orders ?? []).filter((po) => (po.status === 'submitted' || po.status === 'partially_received' || po.status === 'draft') && po.lines.some((l) => l.sku_id === skuId));
  return (
    <>
      <h2>Open purchase orders</h2>
      {orders.problem ? (
        <ProblemBanner problem={orders.problem} />
      ) : (
        <Table
          caption={`Open purchase orders of ${skuId}`}
          rows={open}
          rowKey={(po) => po.purchase_order_id}
          empty="No open purchase orders for this SKU."
          columns={[
            { label: 'Purchase order', cell: (po) => po.purchase_order_id },
            { label: 'Status', cell: (po) => humanize(po.status) },
            { label: 'Warehouse', cell: (po) => po.warehouse_id },
            { label: 'Open', numeric: true, cell: (po) => formatQuantity(po.lines.filter((l) => l.sku_id === skuId).reduce((s, l) => s + l.open, 0)) },
          ]}
        />
      )}
    </>
  );
};

export { ApiProblem };
