-- The audit of every row a conversion deletes, written in the tree's own transaction, and
-- the traversal each converted stack was given (for heat-converge verify).
--
-- Written to survive a cut-off on MySQL/MariaDB, where each statement commits by itself:
-- the column is added first (a leftover one is dropped by the next run while V4 is not
-- recorded), the table is created only if missing (a leftover one is empty: no run can
-- have written it before V4 was recorded).
ALTER TABLE heat_converge_stack ADD COLUMN traversal VARCHAR(36);

CREATE TABLE IF NOT EXISTS heat_converge_deleted (
    run_id VARCHAR(36) NOT NULL,
    root_stack_id VARCHAR(36) NOT NULL,
    stack_id VARCHAR(36) NOT NULL,
    -- resource, raw_template or raw_template_files
    kind VARCHAR(24) NOT NULL,
    row_id INTEGER NOT NULL,
    uuid VARCHAR(36),
    name VARCHAR(255),
    type VARCHAR(255),
    -- resource.nova_instance: the cloud resource the row pointed at
    physical_id VARCHAR(255),
    action VARCHAR(255),
    status VARCHAR(255),
    reason TEXT NOT NULL
);
