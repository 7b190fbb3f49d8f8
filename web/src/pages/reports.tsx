import { useState } from 'preact/hooks';
import { api, downloadCsv } from '../api/client';
import { lastDays, settled } from '../api/reports';
import type { paths } from '../api/schema';
import { TimeChart } from '../components/chart';
import { LoadState, Page, ProblemBanner, Table, asProblem, useLoad } from '../components/ui';
import type { ApiProblem } from '../forms';
import { formatMoney, formatQuantity, humanize } from '../format';
import { can } from '../session';
import { movementSeries } from './overview';

type Trends = paths['/api/reports/sales-trends']['get']['responses'][200]['content']['application/json'];
type Movement = paths['/api/reports/stock-movement']['get']['responses'][200]['content']['application/json'];
type Valuation = paths['/api/reports/valuation']['get']['responses'][200]['content']['application/json'];

/** The lake's reports as charts and tables, each downloadable as the API's own CSV. */
export const ReportsPage = () => {
  const [days, setDays] = useState(90);
  const range = lastDays(days);
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const trends = useLoad(() => settled<Trends>(api.GET('/api/reports/sales-trends', { params: { query: { ...range, granularity: 'week' } } })), [days]);
  const movement = useLoad(() => settled<Movement>(api.GET('/api/reports/stock-movement', { params: { query: { ...range, group_by: 'week' } } })), [days]);
  const valuation = useLoad(() => (can('costs:read') ? settled<Valuation>(api.GET('/api/reports/valuation', { params: { query: { as_of: new Date().toISOString() } } })) : Promise.resolve(undefined)), []);
  const csv = (path: string, query: Record<string, string>, name: string) => () => downloadCsv(path, query, name).catch((error: unknown) => setProblem(asProblem(error)));
  return (
    <Page title="Reports">
      <label>
        Period{' '}
        <select value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))}>
          <option value="30">Last 30 days</option>
          <option value="90">Last 90 days</option>
          <option value="365">Last year</option>
        </select>
      </label>
      <ProblemBanner problem={problem} />
      <h2>Sales trends</h2>
      <button type="button" onClick={csv('/api/reports/sales-trends', { ...range, granularity: 'week', list: 'periods' }, 'sales-trends.csv')}>Download CSV</button>
      <LoadState loaded={trends} what="sales trends">
        {(data) =>
          data.periods.length === 0 ? (
            <p class="empty">No sales in this period.</p>
          ) : (
            <>
              <TimeChart
                x={data.periods.map((p) => Date.parse(`${p.period}T00:00:00Z`) / 1000)}
                series={[
                  { label: 'Units sold', values: data.periods.map((p) => p.units), color: '#1d4e89' },
                  { label: 'Moving average', values: data.periods.map((p) => Number(p.moving_average_units)), color: '#b26b00', dash: [6, 4] },
                ]}
                summary={`${formatQuantity(data.periods.reduce((s, p) => s + p.units, 0))} units sold over ${data.periods.length} weeks.`}
              />
              <h3>Top movers</h3>
              <Table caption="Top movers" rows={data.top_movers} rowKey={(r) => r.sku_id} empty="None."
                columns={[{ label: 'SKU', cell: (r) => r.sku_id }, { label: 'Units', numeric: true, cell: (r) => formatQuantity(r.units) }, ...(can('costs:read') ? [{ label: 'Revenue', numeric: true, cell: (r: Trends['top_movers'][number]) => formatMoney(r.revenue ?? null, r.currency) }] : []), { label: 'On hand', numeric: true, cell: (r) => formatQuantity(r.on_hand) }]} />
              <h3>Dead stock</h3>
              <Table caption="Dead stock" rows={data.dead_stock} rowKey={(r) => `${r.sku_id}|${r.warehouse_id}`} empty="No dead stock."
                columns={[{ label: 'SKU', cell: (r) => r.sku_id }, { label: 'Warehouse', cell: (r) => r.warehouse_id }, { label: 'On hand', numeric: true, cell: (r) => formatQuantity(r.on_hand) }]} />
            </>
          )
        }
      </LoadState>
      <h2>Stock movement</h2>
      <button type="button" onClick={csv('/api/reports/stock-movement', { ...range, group_by: 'week' }, 'stock-movement.csv')}>Download CSV</button>
      <LoadState loaded={movement} what="stock movement">
        {(data) => {
          const s = movementSeries(data);
          return data.rows.length === 0 ? (
            <p class="empty">No movement in this period.</p>
          ) : (
            <>
              <TimeChart x={s.x} series={[{ label: 'Units in', values: s.unitsIn, color: '#1f6f43' }, { label: 'Units out', values: s.unitsOut, color: '#9c2f2f' }]} summary={`On hand went from ${formatQuantity(data.opening_on_hand)} to ${formatQuantity(data.closing_on_hand)}.`} />
              <Table caption="Movement by type" rows={data.rows} rowKey={(r) => `${r.period}|${r.type}`} empty="None."
                columns={[{ label: 'Week', cell: (r) => r.period }, { label: 'Type', cell: (r) => humanize(r.type) }, { label: 'In', numeric: true, cell: (r) => formatQuantity(r.units_in) }, { label: 'Out', numeric: true, cell: (r) => formatQuantity(r.units_out) }, { label: 'Net', numeric: true, cell: (r) => formatQuantity(r.net) }]} />
            </>
          );
        }}
      </LoadState>
      {can('costs:read') && (
        <>
          <h2>Valuation</h2>
          <button type="button" onClick={csv('/api/reports/valuation', { as_of: new Date().toISOString(), list: 'lines' }, 'valuation.csv')}>Download CSV</button>
          <LoadState loaded={valuation} what="valuation">
            {(data) =>
              data ? (
                <Table caption="Stock value by currency" rows={data.totals} rowKey={(t) => t.currency} empty="Nothing is valued yet."
                  columns={[{ label: 'Currency', cell: (t) => t.currency }, { label: 'Units', numeric: true, cell: (t) => formatQuantity(t.quantity) }, { label: 'Value', numeric: true, cell: (t) => formatMoney(t.value ?? null, t.currency) }]} />
              ) : null
            }
          </LoadState>
        </>
      )}
    </Page>
  );
};
