-- heat_converge_stack is keyed by an id given in the order its rows are written, not by
-- (run_id, stack_id): stack ids are random UUIDs, so every batch of records landed all
-- over that key's index (at 100,000 roots on SQLite a third of the time a run spent
-- writing). An id that grows appends. Nothing needs the old key to be unique: a run
-- records each stack once, and the tool reads these rows only whole or by run (history,
-- verify). The rows there are numbered in the order they lie. Applied with its history
-- row in one transaction, like every migration here.
ALTER TABLE heat_converge_stack
    DROP CONSTRAINT heat_converge_stack_pkey,
    ADD COLUMN id BIGSERIAL PRIMARY KEY;
