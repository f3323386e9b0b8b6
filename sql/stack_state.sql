-- Read again under the lock, inside the conversion's transaction.
SELECT id,
       status,
       CASE WHEN convergence THEN 1 ELSE 0 END AS convergence,
       raw_template_id,
       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END AS deleted
FROM stack
WHERE id IN ({each: :id})
