-- Stock movement: per period and movement type, for one tenant and a window,
-- with the window's opening and closing on_hand and the lake's newest movement.
-- Parameters (all bound, never spliced in):
--   $tenant_id     the one tenant (Athena's injected projection refuses a query without it)
--   $from, $to     the window, 'YYYY-MM-DD HH:MM:SS.mmm' in UTC (a form both Trino and
--                  DuckDB cast to TIMESTAMP), half-open: from <= created_at < to
--   $grain         'day' | 'week' | 'month' (weeks start on Monday in DuckDB and Trino alike)
--   $sku_id, $warehouse_id, $type   optional filters: NULL means all
--   $closed_through  the first day the close has not rolled up (below)
--   $balance_day     the day before the earlier of $from's day and $closed_through, 'YYYY-MM-DD':
--                    the close's level_balances at its end hold every row before the raw ones
-- `tenant_id = $tenant_id` follows each read of a lake table (level_days, level_balances, movements):
-- Athena's injected projection is per table. Through Athena the `$name`s become positional
-- `?` in the order they appear (functions/platform/lake.ts, toPositional), and runLakeQuery
-- binds every tenant predicate to the caller's tenant, the first `?` among them.
-- Closed days (issue 9, "Reports at scale"): every day before $closed_through ('YYYY-MM-DD',
-- from the close's closed.json; '1970-01-01' before any close) is rolled up in level_days (per
-- day, SKU, warehouse, type; each movement once) and read from there, except the window's
-- partial edge days (the day of $from when $from is not a midnight, the day of $to), which
-- are read raw like every day from $closed_through on. A day is read from exactly one of the
-- two, so the answer is the same whether or not the close has run, and the raw read is pruned
-- to the days the close has not reached. Opening on_hand is the level_balances of $balance_day
-- plus the raw rows before $from (every raw day is after $balance_day); closing adds the window.
-- Units are on_hand units: in = the positive on_hand deltas, out = the negative
-- ones (as a positive number), net = their sum. Reservation rows (allocation,
-- release) and incoming-only rows (purchase_ordered, purchase_cancelled) count as
-- movements with no units. The lake is written at least once (Firehose may repeat
-- a record), so each movement_id counts once.
-- Athena takes ? parameters only in WHERE clauses, so the grain is chosen by a WHERE over
-- its three names and each period is a date_trunc of a constant unit.
-- One result: rows of kind 'period', then one row of kind 'summary'.
WITH rolled_up AS (
  -- The window's closed days (not its partial edge days), from the rollup.
  SELECT dt, sku_id, warehouse_id, type, units_in, units_out, net, movements
  FROM level_days
  WHERE tenant_id = $tenant_id
    AND dt < CAST($closed_through AS DATE)
    AND dt >= CAST(CAST($from AS TIMESTAMP) AS DATE)
    AND dt < CAST(CAST($to AS TIMESTAMP) AS DATE)
    AND NOT (dt = CAST(CAST($from AS TIMESTAMP) AS DATE) AND CAST(dt AS TIMESTAMP) < CAST($from AS TIMESTAMP))
),
balance AS (
  -- Every level's on_hand at the end of $balance_day: all history before the raw rows (each
  -- raw day is on or after the day after it), so the opening needs no older row.
  SELECT on_hand
  FROM level_balances
  WHERE tenant_id = $tenant_id
    AND dt = CAST($balance_day AS DATE)
    AND ($sku_id IS NULL OR sku_id = $sku_id)
    AND ($warehouse_id IS NULL OR warehouse_id = $warehouse_id)
),
tenant_movements AS (
  SELECT movement_id, created_at, dt, sku_id, warehouse_id, type, delta_on_hand
  FROM movements
  WHERE tenant_id = $tenant_id
    AND (dt >= CAST($closed_through AS DATE)
      OR dt = CAST(CAST($to AS TIMESTAMP) AS DATE)
      OR (dt = CAST(CAST($from AS TIMESTAMP) AS DATE) AND CAST(dt AS TIMESTAMP) < CAST($from AS TIMESTAMP)))
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
rolled_up_history AS (
  SELECT CAST(dt AS TIMESTAMP) AS day_start, type, units_in, units_out, net, movements
  FROM rolled_up
  WHERE ($sku_id IS NULL OR sku_id = $sku_id)
    AND ($warehouse_id IS NULL OR warehouse_id = $warehouse_id)
),
in_window AS (
  SELECT created_at AS moved_at, type,
    CASE WHEN delta_on_hand > 0 THEN delta_on_hand ELSE 0 END AS units_in,
    CASE WHEN delta_on_hand < 0 THEN -delta_on_hand ELSE 0 END AS units_out,
    delta_on_hand AS net,
    CAST(1 AS BIGINT) AS movements
  FROM history
  WHERE created_at >= CAST($from AS TIMESTAMP)
    AND ($type IS NULL OR type = $type)
  UNION ALL
  SELECT day_start, type, units_in, units_out, net, movements
  FROM rolled_up_history
  WHERE day_start >= CAST($from AS TIMESTAMP)
    AND ($type IS NULL OR type = $type)
),
opening AS (
  SELECT
    (SELECT COALESCE(SUM(on_hand), 0) FROM balance)
    + (SELECT COALESCE(SUM(delta_on_hand), 0) FROM history WHERE created_at < CAST($from AS TIMESTAMP)) AS opening_on_hand
),
closing AS (
  SELECT
    (SELECT COALESCE(SUM(on_hand), 0) FROM balance)
    + (SELECT COALESCE(SUM(delta_on_hand), 0) FROM history)
    + (SELECT COALESCE(SUM(net), 0) FROM rolled_up_history) AS closing_on_hand
),
grains AS (
  SELECT unit FROM (VALUES ('day'), ('week'), ('month')) AS g (unit) WHERE unit = $grain
),
newest AS (
  -- The newest raw row (days from $closed_through on); the report takes the later of it and closed.json's newest_closed_at.
  SELECT MAX(created_at) AS data_as_of FROM tenant_movements WHERE dt >= CAST($closed_through AS DATE)
)
SELECT
  'period' AS row_kind,
  CAST(CASE unit WHEN 'day' THEN date_trunc('day', moved_at) WHEN 'week' THEN date_trunc('week', moved_at) ELSE date_trunc('month', moved_at) END AS DATE) AS period,
  type,
  SUM(units_in) AS units_in,
  SUM(units_out) AS units_out,
  SUM(net) AS net,
  SUM(movements) AS movements,
  CAST(NULL AS BIGINT) AS opening_on_hand,
  CAST(NULL AS BIGINT) AS closing_on_hand,
  CAST(NULL AS TIMESTAMP) AS data_as_of
FROM in_window CROSS JOIN grains
GROUP BY 2, 3
UNION ALL
SELECT 'summary', NULL, NULL, NULL, NULL, NULL, NULL, opening_on_hand, closing_on_hand, data_as_of
FROM opening CROSS JOIN closing CROSS JOIN newest
ORDER BY 1, 2, 3
