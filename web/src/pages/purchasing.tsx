import { useState } from 'preact/hooks';
import { api, must, once } from '../api/client';
import type { paths } from '../api/schema';
import { Dialog, DialogActions, Field, Link, LoadState, Page, Pager, ProblemBanner, Table, asProblem, useLoad, usePager, useAction } from '../components/ui';
import { fieldMessages, formMessages, parseQuantity, type ApiProblem } from '../forms';
import { formatInstant, formatQuantity, humanize } from '../format';
import { can } from '../session';

type PurchaseOrder = paths['/api/purchase-orders']['get']['responses'][200]['content']['application/json']['purchase_orders'][number];
type Suggestion = paths['/api/replenishment/suggestions']['get']['responses'][200]['content']['application/json']['suggestions'][number];

const suggestionKey = (s: Pick<Suggestion, 'sku_id' | 'warehouse_id'>) => `${s.sku_id}|${s.warehouse_id}`;

/** Reorder suggestions (turned into draft purchase orders), purchase orders (submit, receive partially, cancel the rest) and suppliers. */
export const PurchasingPage = () => {
  const suggestions = useLoad(() => must(api.GET('/api/replenishment/suggestions', {})), []);
  const pager = usePager();
  const orders = useLoad(() => must(api.GET('/api/purchase-orders', { params: { query: { limit: 50, ...(pager.cursor ? { cursor: pager.cursor } : {}) } } })), [pager.cursor]);
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const { problem, run } = useAction();
  const [notice, setNotice] = useState<string | undefined>();
  const [receiving, setReceiving] = useState<PurchaseOrder | undefined>();
  const writer = can('purchasing:write');

  const draft = () =>
    run(async () => {
      const chosen = (suggestions.data?.suggestions ?? []).filter((s) => picked.has(suggestionKey(s)));
      const made = await must(api.POST('/api/replenishment/suggestions/purchase-orders', { params: { header: once() }, body: { suggestions: chosen.map((s) => ({ sku_id: s.sku_id, warehouse_id: s.warehouse_id, quantity: s.suggested_quantity })) } }));
      setNotice(
        `Drafted ${made.purchase_orders.length} purchase order${made.purchase_orders.length === 1 ? '' : 's'}` +
          (made.skipped.length ? `; skipped ${made.skipped.map((s) => `${s.sku_id} in ${s.warehouse_id} (${s.message})`).join('; ')}` : '.'),
      );
      setPicked(new Set());
      suggestions.reload();
      orders.reload();
    });
  const act = (po: PurchaseOrder, action: 'submit' | 'cancel') =>
    run(async () => {
      if (action === 'submit') await must(api.POST('/api/purchase-orders/{purchase_order_id}/submit', { params: { path: { purchase_order_id: po.purchase_order_id }, header: once() } }));
      else await must(api.POST('/api/purchase-orders/{purchase_order_id}/cancel', { params: { path: { purchase_order_id: po.purchase_order_id }, header: once() } }));
      orders.reload();
    });

  return (
    <Page title="Purchasing">
      <ProblemBanner problem={problem} />
      {notice && <p class="notice" role="status">{notice}</p>}
      <h2>Reorder suggestions</h2>
      <LoadState loaded={suggestions} what="suggestions">
        {(data) => (
          <>
            <Table
              caption="Reorder suggestions, most urgent first"
              rows={data.suggestions}
              rowKey={suggestionKey}
              empty="Nothing needs reordering."
              columns={[
                ...(writer
                  ? [{ label: 'Pick', cell: (s: Suggestion) => (
                      <input type="checkbox" aria-label={`Order ${s.sku_id} for ${s.warehouse_id}`} checked={picked.has(suggestionKey(s))} onChange={(e) => {
                        const next = new Set(picked);
                        if (e.currentTarget.checked) next.add(suggestionKey(s));
                        else next.delete(suggestionKey(s));
                        setPicked(next);
                      }} />
                    ) }]
                  : []),
                { label: 'SKU', cell: (s) => <Link href={`/skus/${encodeURIComponent(s.sku_id)}`}>{s.sku_id}</Link> },
                { label: 'Warehouse', cell: (s) => s.warehouse_id },
                { label: 'Severity', cell: (s) => (s.severity ? humanize(s.severity) : '') },
                { label: 'Available', numeric: true, cell: (s) => formatQuantity(s.available) },
                { label: 'Suggested', numeric: true, cell: (s) => formatQuantity(s.suggested_quantity) },
                { label: 'Supplier', cell: (s) => s.supplier_id ?? s.supplier_reason ?? '' },
                { label: 'Why', cell: (s) => s.basis },
              ]}
            />
            {writer && data.suggestions.length > 0 && (
              <button type="button" class="primary" disabled={picked.size === 0} onClick={() => void draft()}>
                Draft purchase orders ({picked.size})
              </button>
            )}
          </>
        )}
      </LoadState>
      <h2>Purchase orders</h2>
      <LoadState loaded={orders} what="purchase orders">
        {(data) => (
          <>
            <Table
              caption="Purchase orders"
              rows={data.purchase_orders}
              rowKey={(po) => po.purchase_order_id}
              empty="No purchase orders yet."
              columns={[
                { label: 'Purchase order', cell: (po) => po.purchase_order_id },
                { label: 'Status', cell: (po) => <span data-testid={`po-status-${po.purchase_order_id}`}>{humanize(po.status)}</span> },
                { label: 'Supplier', cell: (po) => po.supplier_id },
                { label: 'Warehouse', cell: (po) => po.warehouse_id },
                { label: 'Lines', cell: (po) => po.lines.map((l) => `${l.sku_id} ${formatQuantity(l.received)}/${formatQuantity(l.quantity)}`).join(', ') },
                { label: 'Created', cell: (po) => formatInstant(po.created_at) },
                ...(writer
                  ? [{ label: 'Actions', cell: (po: PurchaseOrder) => (
                      <div class="row-actions">
                        {po.status === 'draft' && <button type="button" onClick={() => void act(po, 'submit')} aria-label={`Submit ${po.purchase_order_id}`}>Submit</button>}
                        {(po.status === 'submitted' || po.status === 'partially_received') && <button type="button" onClick={() => setReceiving(po)} aria-label={`Receive ${po.purchase_order_id}`}>Receive</button>}
                        {(po.status === 'draft' || po.status === 'submitted' || po.status === 'partially_received') && <button type="button" onClick={() => void act(po, 'cancel')} aria-label={`Cancel the rest of ${po.purchase_order_id}`}>Cancel rest</button>}
                      </div>
                    ) }]
                  : []),
              ]}
            />
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </LoadState>
      {receiving && <ReceiveDialog po={receiving} onClose={() => setReceiving(undefined)} onDone={() => { setReceiving(undefined); orders.reload(); }} />}
      <Suppliers />
    </Page>
  );
};

/** Receiving a delivery against a purchase order: each open line's quantity, prefilled with what is still open. */
const ReceiveDialog = ({ po, onClose, onDone }: { po: PurchaseOrder; onClose: () => void; onDone: () => void }) => {
  const open = po.lines.filter((l) => l.open > 0);
  const [quantities, setQuantities] = useState<Record<string, string>>(Object.fromEntries(open.map((l) => [l.sku_id, String(l.open)])));
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [local, setLocal] = useState<Record<string, string>>({});
  const [key] = useState(() => once());
  const inputs = open.map((_, i) => `lines.${i}`);
  const submit = async (event: Event) => {
    event.preventDefault();
    const errors: Record<string, string> = {};
    const lines = open.flatMap((line, i) => {
      const parsed = parseQuantity(quantities[line.sku_id] ?? '', { min: 0 });
      if ('error' in parsed) {
        errors[`lines.${i}`] = parsed.error;
        return [];
      }
      return parsed.value > 0 ? [{ sku_id: line.sku_id, quantity: parsed.value }] : [];
    });
    if (Object.keys(errors).length === 0 && lines.length === 0) errors['lines.0'] = 'receive at least one unit';
    setLocal(errors);
    if (Object.keys(errors).length > 0) return;
    try {
      await must(api.POST('/api/purchase-orders/{purchase_order_id}/receive', { params: { path: { purchase_order_id: po.purchase_order_id }, header: key }, body: { lines } }));
      onDone();
    } catch (error) {
      setProblem(asProblem(error));
    }
  };
  const fields = { ...fieldMessages(problem, inputs), ...local };
  return (
    <Dialog title={`Receive ${po.purchase_order_id}`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <ProblemBanner problem={problem} extra={formMessages(problem, inputs)} />
        {open.map((line, i) => (
          <Field key={line.sku_id} label={`${line.sku_id} (open ${formatQuantity(line.open)})`} error={fields[`lines.${i}`]}>
            {(props) => <input {...props} inputMode="numeric" value={quantities[line.sku_id]} onInput={(e) => setQuantities({ ...quantities, [line.sku_id]: e.currentTarget.value })} />}
          </Field>
        ))}
        <DialogActions onClose={onClose} submit="Receive" />
      </form>
    </Dialog>
  );
};

const Suppliers = () => {
  const suppliers = useLoad(() => must(api.GET('/api/suppliers', { params: { query: { limit: 100 } } })), []);
  return (
    <>
      <h2>Suppliers</h2>
      <LoadState loaded={suppliers} what="suppliers">
        {(data) => (
          <Table
            caption="Suppliers"
            rows={data.suppliers}
            rowKey={(s) => s.supplier_id}
            empty="No suppliers yet."
            columns={[
              { label: 'Supplier', cell: (s) => s.name },
              { label: 'Id', cell: (s) => s.supplier_id },
              { label: 'Lead time', numeric: true, cell: (s) => `${s.lead_time_days} d` },
              { label: 'Currency', cell: (s) => s.currency },
              ...(can('suppliers:contact') ? [{ label: 'Contact', cell: (s: (typeof data.suppliers)[number]) => [s.contact?.name, s.contact?.email, s.contact?.phone].filter(Boolean).join(' · ') }] : []),
            ]}
          />
        )}
      </LoadState>
    </>
  );
};

export { fieldMessages };
