-- Every live stack (deleted ones are gone for Heat), booleans as 0/1 on every backend.
SELECT id, name, tenant, owner_id, raw_template_id, prev_raw_template_id, action, status,
       CASE WHEN convergence THEN 1 ELSE 0 END,
       CASE WHEN backup THEN 1 ELSE 0 END,
       nested_depth
FROM stack
WHERE deleted_at IS NULL
