-- The batch's stack rows, locked for the conversion's transaction without waiting: the
-- driver appends FOR UPDATE SKIP LOCKED where the server has it, so a row another session
-- holds is left out (its tree is left alone at once) instead of waited for.
SELECT id FROM stack WHERE id IN ({each: :id})
