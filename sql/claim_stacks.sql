-- The batch's stack rows, locked for the conversion's transaction without waiting: the
-- driver appends FOR UPDATE SKIP LOCKED where the server has it, so a row another session
-- holds is left out (its tree is left alone at once) instead of waited for. What the
-- conversion checks of each is read in the same statement, under that lock (as
-- stack_state.sql reads it where the server has no SKIP LOCKED).
SELECT id,
       status,
       CASE WHEN convergence THEN 1 ELSE 0 END AS convergence,
       raw_template_id,
       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END AS deleted
FROM stack
WHERE id IN ({each: :id})
