-- The live stacks of one name (`--stack NAME`, `graph NAME`), in the order of their ids;
-- columns as in stack_by_id.sql. Heat indexes stack.name (ix_stack_name).
SELECT id, name, tenant, owner_id, raw_template_id, prev_raw_template_id, action, status,
       CASE WHEN convergence THEN 1 ELSE 0 END AS convergence,
       CASE WHEN backup THEN 1 ELSE 0 END AS backup,
       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END AS deleted
FROM stack
WHERE name = ? AND deleted_at IS NULL
ORDER BY id
