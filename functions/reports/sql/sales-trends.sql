-- Sales trends: units sold per period and SKU, and per level the stock and last sale
-- at the end of the window (for movers and dead stock), for one tenant.
-- Parameters (all bound): $tenant_id first (see stock-movement.sql for the convention);
--   $from, $to      the window, 'YYYY-MM-DD HH:MM:SS.mmm' UTC, half-open
--   $grain          'day' | 'week' | 'month'
--   $sku_id, $warehouse_id   optional filters: NULL means all
--   $closed_through  the first day the daily close has not rolled up (see stock-movement.sql)
--   $balance_day     the day before the earlier of $to's day and $closed_through: each level at
--                    the window's end is its level_balances of that day plus the raw rows after it
-- A sale is a ledger row of type sale or shipment (an order shipped); its units are
-- minus its on_hand delta. Returns are restocks and do not reduce sales.
-- Revenue is not here: orders carry no prices, the catalogue does (functions/reports/reports.ts).
-- One result: rows of kind 'sales' (period, sku_id, units), then rows of kind 'level'
-- (sku_id, warehouse_id, on_hand at the window's end, last sale before it), then one 'summary'.
WITH rolled_up AS (
  -- The window's closed days, except its partial edge days, from the close's rollup (see stock-movement.sql).
  SELECT dt, sku_id, warehouse_id, units_out, type
  FROM level_days
  WHERE tenant_id = $tenant_id
    AND dt < CAST($closed_through AS DATE)
    AND dt >= CAST(CAST($from AS TIMESTAMP) AS DATE)
    AND dt < CAST(CAST($to AS TIMESTAMP) AS DATE)
    AND NOT (dt = CAST(CAST($from AS TIMESTAMP) AS DATE) AND CAST(dt AS TIMESTAMP) < CAST($from AS TIMESTAMP))
    AND ($sku_id IS NULL OR sku_id = $sku_id)
    AND ($warehouse_id IS NULL OR warehouse_id = $warehouse_id)
),
tenant_movements AS (
  -- Every other day raw: from $closed_through on, and the edge days.
  SELECT movement_id, created_at, dt, sku_id, warehouse_id, type, delta_on_hand
  FROM movements
  WHERE tenant_id = $tenant_id
    AND (dt >= CAST($closed_through AS DATE)
      OR dt = CAST(CAST($to AS TIMESTAMP) AS DATE)
      OR (dt = CAST(CAST($from AS TIMESTAMP) AS DATE) AND CAST(dt AS TIMESTAMP) < CAST($from AS TIMESTAMP)))
),
history AS (
  SELECT movement_id, MIN(dt) AS dt, MIN(created_at) AS created_at, MIN(sku_id) AS sku_id, MIN(warehouse_id) AS warehouse_id,
         MIN(type) AS type, MIN(delta_on_hand) AS delta_on_hand
  FROM tenant_movements
  WHERE dt <= CAST(CAST($to AS TIMESTAMP) AS DATE)
    AND created_at < CAST($to AS TIMESTAMP)
    AND ($sku_id IS NULL OR sku_id = $sku_id)
    AND ($warehouse_id IS NULL OR warehouse_id = $warehouse_id)
  GROUP BY movement_id
),
grains AS (
  -- Athena takes ? parameters only in WHERE clauses: the grain is chosen here, not passed to date_trunc.
  SELECT unit FROM (VALUES ('day'), ('week'), ('month')) AS g (unit) WHERE unit = $grain
),
sold AS (
  -- A sale's units, each row at its instant (raw) or its day's start (rolled up: a closed day is whole, so in one period of every grain).
  SELECT created_at AS sold_at, sku_id, -delta_on_hand AS units
  FROM history
  WHERE created_at >= CAST($from AS TIMESTAMP) AND type IN ('sale', 'shipment') AND delta_on_hand < 0
  UNION ALL
  SELECT CAST(dt AS TIMESTAMP), sku_id, units_out
  FROM rolled_up
  WHERE CAST(dt AS TIMESTAMP) >= CAST($from AS TIMESTAMP) AND type IN ('sale', 'shipment') AND units_out > 0
),
sales AS (
  SELECT
    CAST(CASE unit WHEN 'day' THEN date_trunc('day', sold_at) WHEN 'week' THEN date_trunc('week', sold_at) ELSE date_trunc('month', sold_at) END AS DATE) AS period,
    sku_id,
    SUM(units) AS units
  FROM sold CROSS JOIN grains
  GROUP BY 1, 2
),
balance AS (
  -- Every level's on_hand and last sale at the end of $balance_day (the close's level_balances):
  -- all history before the raw days from the day after it.
  SELECT sku_id, warehouse_id, on_hand, last_sale_at
  FROM level_balances
  WHERE tenant_id = $tenant_id
    AND dt = CAST($balance_day AS DATE)
    AND ($sku_id IS NULL OR sku_id = $sku_id)
    AND ($warehouse_id IS NULL OR warehouse_id = $warehouse_id)
),
level_rows AS (
  SELECT sku_id, warehouse_id, delta_on_hand AS net,
         CASE WHEN type IN ('sale', 'shipment') AND delta_on_hand < 0 THEN created_at END AS last_sale_at
  FROM history
  WHERE dt > CAST($balance_day AS DATE)
  UNION ALL
  SELECT sku_id, warehouse_id, on_hand, last_sale_at
  FROM balance
),
levels AS (
  SELECT sku_id, warehouse_id, SUM(net) AS on_hand, MAX(last_sale_at) AS last_sale_at
  FROM level_rows
  GROUP BY 1, 2
),
newest AS (
  -- The newest raw row (days from $closed_through on); the report takes the later of it and closed.json's newest_closed_at.
  SELECT MAX(created_at) AS data_as_of FROM tenant_movements WHERE dt >= CAST($closed_through AS DATE)
)
SELECT 'sales' AS row_kind, period, sku_id, CAST(NULL AS VARCHAR) AS warehouse_id, units,
       CAST(NULL AS BIGINT) AS on_hand, CAST(NULL AS TIMESTAMP) AS last_sale_at, CAST(NULL AS TIMESTAMP) AS data_as_of
FROM sales
UNION ALL
SELECT 'level', NULL, sku_id, warehouse_id, NULL, on_hand, last_sale_at, NULL
FROM levels
UNION ALL
SELECT 'summary', NULL, NULL, NULL, NULL, NULL, NULL, data_as_of
FROM newest
ORDER BY 1, 2, 3, 4
