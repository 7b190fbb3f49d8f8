import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, must } from '../api/client';
import type { paths } from '../api/schema';
import { Link, Page, ProblemBanner, asProblem } from '../components/ui';
import type { ApiProblem } from '../forms';
import { formatQuantity } from '../format';
import { currentPath, navigate } from '../router';

type LevelRow = paths['/api/inventory/levels']['get']['responses'][200]['content']['application/json']['levels'][number];
type Status = 'all' | 'stock_out' | 'below_reorder_point';

const ROW_HEIGHT = 36;
const OVERSCAN = 10;

/**
 * The SKU x warehouse grid. Pages of SKUs come from GET /api/inventory/levels and are appended as the reader asks
 * for more (or all); the table renders only the rows in view (a fixed row height), so 10,000 levels scroll as
 * smoothly as 100. Search and filters live in the URL, so a filtered grid can be linked and reloaded.
 */
export const InventoryPage = () => {
  const params = new URLSearchParams(currentPath.value.split('?')[1] ?? '');
  const [q, setQ] = useState(params.get('q') ?? '');
  const status = (params.get('status') as Status | null) ?? 'all';
  const warehouse = params.get('warehouse_id') ?? '';
  const warehouses = useWarehouses();
  const [rows, setRows] = useState<LevelRow[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [loading, setLoading] = useState(false);
  const query = useMemo(() => ({ q: params.get('q') ?? undefined, status, warehouse_id: warehouse || undefined }), [currentPath.value]);

  const load = async (cursor: string | undefined, replace: boolean, all = false): Promise<void> => {
    setLoading(true);
    setProblem(undefined);
    try {
      let page = await must(api.GET('/api/inventory/levels', { params: { query: { ...query, limit: 200, ...(cursor ? { cursor } : {}) } } }));
      let collected = page.levels;
      // A filtered page may come back short (or empty) with more to come: read on until there is a screenful, or everything.
      while (page.next_cursor && (all || collected.length < 100)) {
        page = await must(api.GET('/api/inventory/levels', { params: { query: { ...query, limit: 200, cursor: page.next_cursor } } }));
        collected = [...collected, ...page.levels];
      }
      setRows((old) => (replace ? collected : [...old, ...collected]));
      setNext(page.next_cursor);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load(undefined, true);
  }, [query]);

  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(currentPath.value.split('?')[1] ?? '');
    if (value) next.set(name, value);
    else next.delete(name);
    navigate(`/inventory${next.toString() ? `?${next.toString()}` : ''}`);
  };

  return (
    <Page title="Inventory">
      <form
        class="filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter('q', q.trim());
        }}
      >
        <label>
          Search SKU
          <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="SKU id or name" />
        </label>
        <label>
          Warehouse
          <select value={warehouse} onChange={(e) => setFilter('warehouse_id', e.currentTarget.value)}>
            <option value="">All warehouses</option>
            {warehouses.map((w) => (
              <option key={w.warehouse_id} value={w.warehouse_id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Show
          <select value={status} onChange={(e) => setFilter('status', e.currentTarget.value === 'all' ? '' : e.currentTarget.value)}>
            <option value="all">Every level</option>
            <option value="stock_out">Stock-outs</option>
            <option value="below_reorder_point">Below reorder point</option>
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <ProblemBanner problem={problem} />
      <p class="muted" role="status" aria-live="polite">
        {loading ? 'Loading levels…' : `${formatQuantity(rows.length)} level${rows.length === 1 ? '' : 's'}${next ? ' so far' : ''}`}
      </p>
      {!loading && rows.length === 0 && !problem ? <p class="empty">No levels match.</p> : <LevelGrid rows={rows} />}
      {next && (
        <div class="row-actions">
          <button type="button" disabled={loading} onClick={() => void load(next, false)}>
            Load more
          </button>
          <button type="button" disabled={loading} onClick={() => void load(next, false, true)}>
            Load all
          </button>
        </div>
      )}
    </Page>
  );
};

const COLUMNS = ['SKU', 'Name', 'Warehouse', 'On hand', 'Reserved', 'Available', 'Incoming', 'Reorder point', 'Safety stock'] as const;

/** The windowed grid: a scroll box of the full height, and only the rows in view (plus a margin) in the DOM. */
export const LevelGrid = ({ rows }: { rows: readonly LevelRow[] }) => {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
  const shown = rows.slice(first, last);
  return (
    <div class="grid-box" ref={box} onScroll={(e) => setTop(e.currentTarget.scrollTop)} tabIndex={0} aria-label="Stock levels" role="region">
      <table class="grid" aria-rowcount={rows.length + 1}>
        <thead>
          <tr aria-rowindex={1}>
            {COLUMNS.map((c, i) => (
              <th key={c} scope="col" class={i >= 3 ? 'num' : undefined}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {first > 0 && <tr style={{ height: `${first * ROW_HEIGHT}px` }} aria-hidden="true" />}
          {shown.map((level, i) => (
            <tr key={`${level.sku_id}|${level.warehouse_id}`} aria-rowindex={first + i + 2} class={level.available <= 0 ? 'stock-out' : level.available < level.reorder_point ? 'low' : undefined}>
              <td>
                <Link href={`/skus/${encodeURIComponent(level.sku_id)}`}>{level.sku_id}</Link>
              </td>
              <td>{level.sku_name}</td>
              <td>{level.warehouse_id}</td>
              <td class="num">{formatQuantity(level.on_hand)}</td>
              <td class="num">{formatQuantity(level.reserved)}</td>
              <td class="num">{formatQuantity(level.available)}</td>
              <td class="num">{formatQuantity(level.incoming)}</td>
              <td class="num">{formatQuantity(level.reorder_point)}</td>
              <td class="num">{formatQuantity(level.safety_stock)}</td>
            </tr>
          ))}
          {last < rows.length && <tr style={{ height: `${(rows.length - last) * ROW_HEIGHT}px` }} aria-hidden="true" />}
        </tbody>
      </table>
    </div>
  );
};

type Warehouse = paths['/api/warehouses']['get']['responses'][200]['content']['application/json']['warehouses'][number];

/** The tenant's warehouses (every page), for pickers; empty until loaded or if the role may not list them. */
export const useWarehouses = (): Warehouse[] => {
  const [all, setAll] = useState<Warehouse[]>([]);
  useEffect(() => {
    let current = true;
    void (async () => {
      const found: Warehouse[] = [];
      let cursor: string | undefined;
      try {
        do {
          const page = await must(api.GET('/api/warehouses', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
          found.push(...page.warehouses);
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
      } catch {
        // A role without catalog:read sees no picker entries; the pages say so where it matters.
      }
      if (current) setAll(found);
    })();
    return () => {
      current = false;
    };
  }, []);
  return all;
};
