-- heat_converge_stack is keyed by an id given in the order its rows are written, not by
-- (run_id, stack_id): stack ids are random UUIDs, so every batch of records landed all
-- over that key's index, and each commit rewrote most of it (at 100,000 roots a third of
-- the time a run spent writing). An id that grows appends. Nothing needs the old key to
-- be unique: a run records each stack once, and the tool reads these rows only whole or
-- by run (history, verify). The versions are the same on every backend.
-- SQLite cannot change a table's primary key, so the table is made again with the id
-- and its rows copied, each keeping its rowid as its id (the order they were written
-- in). Applied with its history row in one transaction, like every migration here.
CREATE TABLE heat_converge_stack_v6 (
    id INTEGER PRIMARY KEY,
    run_id VARCHAR(36) NOT NULL,
    stack_id VARCHAR(36) NOT NULL,
    root_stack_id VARCHAR(36) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    reason TEXT,
    resources_converted INTEGER NOT NULL,
    resources_deleted INTEGER NOT NULL,
    templates_deleted INTEGER NOT NULL,
    traversal VARCHAR(36)
);

INSERT INTO heat_converge_stack_v6
    (id, run_id, stack_id, root_stack_id, outcome, reason, resources_converted,
     resources_deleted, templates_deleted, traversal)
SELECT rowid, run_id, stack_id, root_stack_id, outcome, reason, resources_converted,
       resources_deleted, templates_deleted, traversal
FROM heat_converge_stack;

DROP TABLE heat_converge_stack;

ALTER TABLE heat_converge_stack_v6 RENAME TO heat_converge_stack;
