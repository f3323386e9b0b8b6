-- One stack row, deleted or not, booleans as 0/1 on every backend.
SELECT id, name, tenant, owner_id, raw_template_id, prev_raw_template_id, action, status,
       CASE WHEN convergence THEN 1 ELSE 0 END AS convergence,
       CASE WHEN backup THEN 1 ELSE 0 END AS backup,
       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END AS deleted
FROM stack
WHERE id = ?
