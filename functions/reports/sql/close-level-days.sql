-- The daily close (issue 9, "Reports at scale"): the level_days rollup of one tenant's
-- movements over whole days, per day, SKU, warehouse and movement type, each movement_id
-- counted once (the lake is written at least once). Run by the close, not by a report:
-- locally bin/local/lake.ts LocalLake.closeDays, one day at a time; in AWS a close job.
-- Parameters (all bound):
--   $tenant_id               the one tenant
--   $first_day, $last_day    the days to close, 'YYYY-MM-DD', both included
-- Columns: dt, then functions/events/lake-columns.ts LEVEL_DAY_COLUMNS in order.
-- Units as stock-movement.sql counts them: in = positive on_hand deltas, out = negative
-- ones as a positive number, net = their sum, movements = rows (unit-less ones included);
-- last_sale_at = the newest sale or shipment row with a negative on_hand delta.
WITH deduped AS (
  SELECT movement_id, MIN(dt) AS dt, MIN(created_at) AS created_at, MIN(sku_id) AS sku_id, MIN(warehouse_id) AS warehouse_id,
    MIN(type) AS type, MIN(delta_on_hand) AS delta_on_hand
  FROM movements
  WHERE tenant_id = $tenant_id
    AND dt >= CAST($first_day AS DATE)
    AND dt <= CAST($last_day AS DATE)
  GROUP BY movement_id
)
SELECT
  dt,
  sku_id,
  warehouse_id,
  type,
  CAST(SUM(CASE WHEN delta_on_hand > 0 THEN delta_on_hand ELSE 0 END) AS BIGINT) AS units_in,
  CAST(SUM(CASE WHEN delta_on_hand < 0 THEN -delta_on_hand ELSE 0 END) AS BIGINT) AS units_out,
  CAST(SUM(delta_on_hand) AS BIGINT) AS net,
  CAST(COUNT(*) AS BIGINT) AS movements,
  MAX(CASE WHEN type IN ('sale', 'shipment') AND delta_on_hand < 0 THEN created_at END) AS last_sale_at
FROM deduped
GROUP BY dt, sku_id, warehouse_id, type
ORDER BY dt, sku_id, warehouse_id, type
