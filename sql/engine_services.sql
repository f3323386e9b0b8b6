-- Heat's engines as they registered themselves; a deleted row is an engine gone for good.
-- The heartbeat (updated_at, else created_at) is read as text on every backend.
SELECT engine_id, host,
       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END AS deleted,
       CAST(COALESCE(updated_at, created_at) AS CHAR(32)) AS heartbeat,
       report_interval
FROM service
