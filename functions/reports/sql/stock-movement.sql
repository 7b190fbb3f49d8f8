-- Stock movement: per period and movement type, for one tenant and a window,
-- with the window's opening and closing on_hand and the lake's newest movement.
-- Parameters (all bound, never spliced in):
--   $tenant_id     the one tenant (Athena's injected projection refuses a query without it)
--   $from, $to     the window, 'YYYY-MM-DD HH:MM:SS.mmm' in UTC (a form both Trino and
--                  DuckDB cast to TIMESTAMP), half-open: from <= created_at < to
--   $grain         'day' | 'week' | 'month' (weeks start on Monday in DuckDB and Trino alike)
--   $sku_id, $warehouse_id, $type   optional filters: NULL means all
-- `$tenant_id = ` is the first parameter the text names, and the only use of it:
-- through Athena the `$name`s become positional `?` in the order they appear
-- (functions/platform/lake.ts, toPositional), and the first `?` is the tenant's.
-- Every later read of the lake goes through tenant_movements, so none can lose it.
-- Units are on_hand units: in = the positive on_hand deltas, out = the negative
-- ones (as a positive number), net = their sum. Reservation rows (allocation,
-- release) and incoming-only rows (purchase_ordered, purchase_cancelled) count as
-- movements with no units. The lake is written at least once (Firehose may repeat
-- a record), so each movement_id counts once.
-- Athena takes ? parameters only in WHERE clauses, so the grain is chosen by a WHERE over
-- its three names and each period is a date_trunc of a constant unit.
-- One result: rows of kind 'period', then one row of kind 'summary'.
WITH tenant_movements AS (
  SELECT movement_id, created_at, dt, sku_id, warehouse_id, type, delta_on_hand
  FROM movements
  WHERE tenant_id = $tenant_id
),
history AS (
  SELECT movement_id, MIN(created_at) AS created_at, MIN(type) AS type, MIN(delta_on_hand) AS delta_on_hand
  FROM tenant_movements
  WHERE dt <= CAST(CAST($to AS TIMESTAMP) AS DATE)
    AND created_at < CAST($to AS TIMESTAMP)
    AND ($sku_id IS NULL OR sku_id = $sku_id)
    AND ($warehouse_id IS NULL OR warehouse_id = $warehouse_id)
  GROUP BY movement_id
),
in_window AS (
  SELECT created_at, type, delta_on_hand
  FROM history
  WHERE created_at >= CAST($from AS TIMESTAMP)
    AND ($type IS NULL OR type = $type)
),
opening AS (
  SELECT COALESCE(SUM(delta_on_hand), 0) AS opening_on_hand
  FROM history
  WHERE created_at < CAST($from AS TIMESTAMP)
),
closing AS (
  SELECT COALESCE(SUM(delta_on_hand), 0) AS closing_on_hand FROM history
),
grains AS (
  SELECT unit FROM (VALUES ('day'), ('week'), ('month')) AS g (unit) WHERE unit = $grain
),
newest AS (
  SELECT MAX(created_at) AS data_as_of FROM tenant_movements
)
SELECT
  'period' AS row_kind,
  CAST(CASE unit WHEN 'day' THEN date_trunc('day', created_at) WHEN 'week' THEN date_trunc('week', created_at) ELSE date_trunc('month', created_at) END AS DATE) AS period,
  type,
  SUM(CASE WHEN delta_on_hand > 0 THEN delta_on_hand ELSE 0 END) AS units_in,
  SUM(CASE WHEN delta_on_hand < 0 THEN -delta_on_hand ELSE 0 END) AS units_out,
  SUM(delta_on_hand) AS net,
  COUNT(*) AS movements,
  CAST(NULL AS BIGINT) AS opening_on_hand,
  CAST(NULL AS BIGINT) AS closing_on_hand,
  CAST(NULL AS TIMESTAMP) AS data_as_of
FROM in_window CROSS JOIN grains
GROUP BY 2, 3
UNION ALL
SELECT 'summary', NULL, NULL, NULL, NULL, NULL, NULL, opening_on_hand, closing_on_hand, data_as_of
FROM opening CROSS JOIN closing CROSS JOIN newest
ORDER BY 1, 2, 3
