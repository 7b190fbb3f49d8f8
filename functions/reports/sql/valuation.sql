-- Valuation: the ledger rows that move value, up to as_of, in ledger order, for the
-- engine in functions/reports/valuation.ts (FIFO or weighted average), for one tenant.
-- Parameters (all bound): $tenant_id first (see stock-movement.sql for the convention);
--   $as_of     'YYYY-MM-DD HH:MM:SS.mmm' UTC; rows at it count
--   $sku_id    optional: NULL means all. There is no warehouse filter here: a transfer_in
--              is valued at the cost of its source's layers, so every warehouse is read
--              and the engine filters its answer.
-- Only rows with an on_hand delta move value. To keep the result small, each run of
-- consecutive consumptions of one level (negative rows that are not transfers: sales,
-- shipments, negative adjustments and counts) is merged into one row: FIFO consumes
-- them from the same oldest layers either way, and a weighted average takes the same
-- share of its pool (to within a micro-unit of rounding per merged row). Receipts,
-- other positive rows and both rows of a transfer are kept one by one.
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
    AND created_at <= CAST($as_of AS TIMESTAMP)
    AND delta_on_hand <> 0
    AND ($sku_id IS NULL OR sku_id = $sku_id)
  GROUP BY movement_id
),
classified AS (
  SELECT *, CASE WHEN delta_on_hand < 0 AND type <> 'transfer_out' THEN 0 ELSE 1 END AS kept
  FROM ledger
),
runs AS (
  SELECT *, SUM(kept) OVER (PARTITION BY sku_id, warehouse_id ORDER BY movement_id ROWS UNBOUNDED PRECEDING) AS run
  FROM classified
)
SELECT 'row' AS row_kind, MIN(movement_id) AS movement_id, MIN(created_at) AS created_at, sku_id, warehouse_id,
       CASE WHEN kept = 1 THEN MIN(type) ELSE 'sale' END AS type, SUM(delta_on_hand) AS on_hand,
       MIN(unit_cost) AS unit_cost, MIN(currency) AS currency, MIN(correlation_id) AS correlation_id,
       CAST(NULL AS TIMESTAMP) AS data_as_of
FROM runs
GROUP BY sku_id, warehouse_id, run, kept
UNION ALL
SELECT 'summary', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, MAX(created_at)
FROM tenant_movements
ORDER BY 1, 4, 5, 2
