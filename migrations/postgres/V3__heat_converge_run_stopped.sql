-- Why a run stopped before its end (its output was closed, ...); NULL: it ran to the end.
-- trees_remaining counts what is still legacy in the whole database after the run.
ALTER TABLE heat_converge_run ADD COLUMN stopped TEXT;
