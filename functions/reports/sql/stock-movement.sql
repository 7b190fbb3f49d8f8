-- Stock movement: per period and movement type, for one tenant and a window.
-- Parameters (all bound, never spliced in):
--   $tenant_id     the one tenant (Athena's injected projection refuses a query without it)
--   $from, $to     the window, ISO instants in UTC, half-open: from <= created_at < to
--   $grain         'day' | 'week' | 'month' (weeks start on Monday in DuckDB and Trino alike)
--   $sku_id, $warehouse_id, $type   optional filters: NULL means all
-- `$tenant_id = ` is the first parameter the text names, and the only use of it:
-- through Athena the `$name`s become positional `?` in the order they appear
-- (functions/platform/lake.ts, toPositional), and the first `?` is the tenant's
-- (the convention of the local Athena stand-in, bin/local/athena.ts).
-- Units are on_hand units: in = the positive on_hand deltas, out = the negative
-- ones (as a positive number), net = their sum. Reservation rows (allocation,
-- release) and incoming-only rows (purchase_ordered, purchase_cancelled) count as
-- movements with no units.
-- Delivery to the lake is at least once: a republished event can store a row
-- twice, so rows are deduped on movement_id first (copies are identical; MIN
-- picks the one value, in both engines).
WITH window_movements AS (
  SELECT movement_id, created_at, type, delta_on_hand
  FROM movements
  WHERE tenant_id = $tenant_id
    AND dt BETWEEN CAST(CAST($from AS TIMESTAMP) AS DATE) AND CAST(CAST($to AS TIMESTAMP) AS DATE)
    AND created_at >= CAST($from AS TIMESTAMP)
    AND created_at < CAST($to AS TIMESTAMP)
    AND ($sku_id IS NULL OR sku_id = $sku_id)
    AND ($warehouse_id IS NULL OR warehouse_id = $warehouse_id)
    AND ($type IS NULL OR type = $type)
),
unique_movements AS (
  SELECT movement_id, MIN(created_at) AS created_at, MIN(type) AS type, MIN(delta_on_hand) AS delta_on_hand
  FROM window_movements
  GROUP BY movement_id
)
SELECT
  CAST(date_trunc($grain, created_at) AS DATE) AS period,
  type,
  SUM(CASE WHEN delta_on_hand > 0 THEN delta_on_hand ELSE 0 END) AS units_in,
  SUM(CASE WHEN delta_on_hand < 0 THEN -delta_on_hand ELSE 0 END) AS units_out,
  SUM(delta_on_hand) AS net,
  COUNT(*) AS movements
FROM unique_movements
GROUP BY 1, 2
ORDER BY period, type
