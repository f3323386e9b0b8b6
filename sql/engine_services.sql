-- Heat's engines as they registered themselves; a deleted row is an engine gone for good.
SELECT engine_id, host, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END
FROM service
