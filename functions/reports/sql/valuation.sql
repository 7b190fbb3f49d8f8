-- Valuation: the ledger rows that move value, up to as_of, in ledger order, for the
-- engine in functions/reports/valuation.ts (FIFO or weighted average), for one tenant.
-- Parameters (all bound): $tenant_id first (see stock-movement.sql for the convention);
--   $as_of     'YYYY-MM-DD HH:MM:SS.mmm' UTC; rows at it count
--   $since     the same form: only rows after it (the end of the close's checkpoint the engine
--              resumes from; '1969-12-31 23:59:59.999' without one, so every row counts)
--   $sku_id    optional: NULL means all. There is no warehouse filter here: a transfer_in
--              is valued at the cost of its source's layers, so every warehouse is read
--              and the engine filters its answer.
-- Only rows with an on_hand delta move value, and each is returned: merging consecutive
-- consumptions would skip the pool states between them, and the engine's average for units
-- that come in without a cost (and a shortfall's cost) is read from those states.
-- One result: rows of kind 'row' in ledger order per level, then one 'summary'.
WITH tenant_movements AS (
  SELECT movement_id, created_at, dt, sku_id, warehouse_id, type, delta_on_hand, unit_cost, currency, correlation_id
  FROM movements
  WHERE tenant_id = $tenant_id
),
ledger AS (
  SELECT movement_id, MIN(created_at) AS created_at, MIN(sku_id) AS sku_id, MIN(warehouse_id) AS warehouse_id,
         MIN(type) AS type, MIN(delta_on_hand) AS delta_on_hand, MIN(unit_cost) AS unit_cost,
         MIN(currency) AS currency, MIN(correlation_id) AS correlation_id
  FROM tenant_movements
  WHERE dt <= CAST(CAST($as_of AS TIMESTAMP) AS DATE)
    AND dt >= CAST(CAST($since AS TIMESTAMP) AS DATE)
    AND created_at <= CAST($as_of AS TIMESTAMP)
    AND created_at > CAST($since AS TIMESTAMP)
    AND delta_on_hand <> 0
    AND ($sku_id IS NULL OR sku_id = $sku_id)
  GROUP BY movement_id
)
SELECT 'row' AS row_kind, movement_id, created_at, sku_id, warehouse_id, type, delta_on_hand AS on_hand,
       unit_cost, currency, correlation_id, CAST(NULL AS TIMESTAMP) AS data_as_of
FROM ledger
UNION ALL
SELECT 'summary', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, MAX(created_at)
FROM tenant_movements
WHERE dt >= CAST(CAST($since AS TIMESTAMP) AS DATE)
ORDER BY 1, 4, 5, 2
