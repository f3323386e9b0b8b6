-- What the conversion checks of each stack, read again inside its transaction: under the
-- row lock this same statement takes, where the server has FOR UPDATE SKIP LOCKED (the
-- driver appends it; a row another session holds is left out and its tree left alone at
-- once instead of waited for), else after Heat's stack_lock is taken.
SELECT id,
       status,
       CASE WHEN convergence THEN 1 ELSE 0 END AS convergence,
       raw_template_id,
       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END AS deleted
FROM stack
WHERE id IN ({each: :id})
