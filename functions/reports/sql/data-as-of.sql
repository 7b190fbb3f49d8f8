-- The newest movement the lake holds for one tenant in a window: a report's data_as_of.
-- Parameters (bound): $tenant_id first (the injected projection's tenant), $from and $to
-- as in stock-movement.sql, so only the window's partitions are read. NULL when none.
SELECT MAX(created_at) AS data_as_of
FROM movements
WHERE tenant_id = $tenant_id
  AND dt BETWEEN CAST(CAST($from AS TIMESTAMP) AS DATE) AND CAST(CAST($to AS TIMESTAMP) AS DATE)
  AND created_at >= CAST($from AS TIMESTAMP)
  AND created_at < CAST($to AS TIMESTAMP)
