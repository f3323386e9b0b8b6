-- Stacks as they are now, for verify: the columns of stack_by_id.sql, their traversal and
-- why each is in its state (the id list is filled in by the loader).
SELECT id, name, tenant, owner_id, raw_template_id, prev_raw_template_id, action, status,
       status_reason, current_traversal,
       CASE WHEN convergence THEN 1 ELSE 0 END AS convergence,
       CASE WHEN backup THEN 1 ELSE 0 END AS backup,
       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END AS deleted
FROM stack
WHERE id IN ({each: :id})
