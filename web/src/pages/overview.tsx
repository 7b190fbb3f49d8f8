import { api, must } from '../api/client';
import { loadOrdersWaiting, unitsToShip } from '../api/orders';
import { lastDays, settled } from '../api/reports';
import { daysIn } from '../dates';
import type { paths } from '../api/schema';
import { TimeChart } from '../components/chart';
import { Link, LoadState, Page, ProblemBanner, Table, useLoad } from '../components/ui';
import { formatDays, formatInstant, formatMoney, formatQuantity, humanize } from '../format';
import { can } from '../session';

type Movement = paths['/api/reports/stock-movement']['get']['responses'][200]['content']['application/json'];
type Valuation = paths['/api/reports/valuation']['get']['responses'][200]['content']['application/json'];

/**
 * Units in and out per period of a movement report, as chart series (x: epoch seconds of each period's first day).
 * Given `periods` (every day of the window), those are the x values, a period without movement at zero.
 */
export const movementSeries = (report: Movement, periods?: readonly string[]) => {
  const days = periods ? [...periods] : [...new Set(report.rows.map((row) => row.period))].sort();
  const byDay = (pick: (row: Movement['rows'][number]) => number) =>
    days.map((day) => report.rows.filter((row) => row.period === day).reduce((sum, row) => sum + pick(row), 0));
  return { x: days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000), unitsIn: byDay((r) => r.units_in), unitsOut: byDay((r) => r.units_out) };
};

export const OverviewPage = () => {
  const overview = useLoad(() => must(api.GET('/api/reports/stock-overview', {})), []);
  const alerts = useLoad(() => must(api.GET('/api/alerts', { params: { query: { status: 'open', limit: 100 } } })), []);
  const month = lastDays(30);
  const movement = useLoad(() => settled<Movement>(api.GET('/api/reports/stock-movement', { params: { query: { ...month, group_by: 'day' } } })), []);
  const valuation = useLoad(
    () => (can('costs:read') ? settled<Valuation>(api.GET('/api/reports/valuation', { params: { query: { as_of: new Date().toISOString() } } })) : Promise.resolve(undefined)),
    [],
  );
  const waiting = useLoad(() => (can('orders:read') ? loadOrdersWaiting() : Promise.resolve(undefined)), []);
  const bySeverity = (severity: string) => alerts.data?.alerts.filter((a) => a.severity === severity).length ?? 0;
  return (
    <Page title="Overview">
      <LoadState loaded={overview} what="the overview">
        {(data) => {
          const values = new Map<string, string>();
          for (const line of valuation.data?.lines ?? []) {
            if (line.value === undefined || line.currency === null) continue;
            const key = `${line.warehouse_id}|${line.currency}`;
            values.set(key, (Number(values.get(key) ?? 0) + Number(line.value)).toFixed(2));
          }
          const valueOf = (warehouseId: string) =>
            [...values].filter(([key]) => key.startsWith(`${warehouseId}|`)).map(([key, value]) => formatMoney(value, key.split('|')[1])).join(', ') || '—';
          return (
            <>
              <div class="cards">
                <Card label="Units on hand" value={formatQuantity(data.warehouses.reduce((s, w) => s + w.on_hand, 0))} />
                <Card label="Stock-outs" value={formatQuantity(data.stock_outs.count)} tone={data.stock_outs.count > 0 ? 'bad' : undefined} href="/inventory?status=stock_out" />
                <Card label="Below reorder point" value={formatQuantity(data.below_reorder_point.count)} tone={data.below_reorder_point.count > 0 ? 'warn' : undefined} href="/inventory?status=below_reorder_point" />
                <Card label="Open alerts" value={alerts.data ? `${bySeverity('critical')} critical · ${bySeverity('high')} high · ${bySeverity('normal')} normal` : '…'} href="/alerts" />
                {can('orders:read') && (
                  <Card
                    label="Orders waiting to ship"
                    value={waiting.problem ? 'not available' : waiting.data ? `${formatQuantity(waiting.data.orders.length)}${waiting.data.more ? '+' : ''}` : '…'}
                    href="/orders?status=allocated"
                  />
                )}
              </div>
              <h2>Warehouses</h2>
              <Table
                caption="Stock per warehouse"
                rows={data.warehouses}
                rowKey={(w) => w.warehouse_id}
                empty="No warehouses yet."
                columns={[
                  { label: 'Warehouse', cell: (w) => w.name ?? w.warehouse_id },
                  { label: 'On hand', numeric: true, cell: (w) => formatQuantity(w.on_hand) },
                  { label: 'Reserved', numeric: true, cell: (w) => formatQuantity(w.reserved) },
                  { label: 'Available', numeric: true, cell: (w) => formatQuantity(w.available) },
                  { label: 'Incoming', numeric: true, cell: (w) => formatQuantity(w.incoming) },
                  ...(can('costs:read') ? [{ label: 'Value', numeric: true, cell: (w: (typeof data.warehouses)[number]) => valueOf(w.warehouse_id) }] : []),
                  { label: 'Stock-outs', numeric: true, cell: (w) => formatQuantity(w.stock_outs) },
                  { label: 'Below reorder point', numeric: true, cell: (w) => formatQuantity(w.below_reorder_point) },
                  { label: 'Days of cover', numeric: true, cell: (w) => formatDays(w.days_of_cover) },
                ]}
              />
              {can('orders:read') && (
                <>
                  <h2>Orders waiting longest</h2>
                  {waiting.problem ? (
                    <ProblemBanner problem={waiting.problem} />
                  ) : (
                    <Table
                      caption="Orders waiting to ship, oldest first"
                      rows={waiting.data?.orders.slice(0, 5) ?? []}
                      rowKey={(o) => o.order_id}
                      empty={waiting.data ? 'No order is waiting to ship.' : 'Loading orders…'}
                      columns={[
                        { label: 'Order', cell: (o) => <Link href={`/orders?order_id=${encodeURIComponent(o.order_id)}`}>{o.order_id}</Link> },
                        { label: 'Status', cell: (o) => humanize(o.status) },
                        { label: 'Units to ship', numeric: true, cell: (o) => formatQuantity(unitsToShip(o)) },
                        { label: 'Waiting since', cell: (o) => formatInstant(o.created_at) },
                      ]}
                    />
                  )}
                </>
              )}
              <h2>Below reorder point</h2>
              <Table
                caption="Levels below their reorder point"
                rows={data.below_reorder_point.levels.slice(0, 10)}
                rowKey={(l) => `${l.sku_id}|${l.warehouse_id}`}
                empty="Nothing is below its reorder point."
                columns={[
                  { label: 'SKU', cell: (l) => <Link href={`/skus/${encodeURIComponent(l.sku_id)}`}>{l.sku_id}</Link> },
                  { label: 'Warehouse', cell: (l) => l.warehouse_id },
                  { label: 'Available', numeric: true, cell: (l) => formatQuantity(l.available) },
                  { label: 'Reorder point', numeric: true, cell: (l) => formatQuantity(l.reorder_point) },
                  { label: 'Days of cover', numeric: true, cell: (l) => formatDays(l.days_of_cover) },
                ]}
              />
            </>
          );
        }}
      </LoadState>
      <h2>Movement, last 30 days</h2>
      {movement.problem ? (
        <ProblemBanner problem={movement.problem} />
      ) : movement.data ? (
        movement.data.rows.length === 0 ? (
          <p class="empty">No stock moved in the last 30 days.</p>
        ) : (
          <MovementChart report={movement.data} days={daysIn(month)} />
        )
      ) : (
        <p class="muted">Loading movement…</p>
      )}
    </Page>
  );
};

const MovementChart = ({ report, days }: { report: Movement; days: readonly string[] }) => {
  const series = movementSeries(report, days);
  const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return (
    <TimeChart
      x={series.x}
      series={[
        { label: 'Units in', values: series.unitsIn, color: '#1f6f43' },
        { label: 'Units out', values: series.unitsOut, color: '#9c2f2f' },
      ]}
      summary={`Over the last 30 days ${formatQuantity(total(series.unitsIn))} units came in and ${formatQuantity(total(series.unitsOut))} went out.`}
    />
  );
};

const Card = ({ label, value, tone, href }: { label: string; value: string; tone?: 'bad' | 'warn' | undefined; href?: string }) => (
  <div class={`card${tone ? ` ${tone}` : ''}`}>
    <div class="card-label">{label}</div>
    <div class="card-value">{href ? <Link href={href}>{value}</Link> : value}</div>
  </div>
);

export { humanize };
