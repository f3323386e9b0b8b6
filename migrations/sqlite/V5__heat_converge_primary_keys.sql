-- Every table of heat-converge has a primary key (on MySQL/MariaDB a Galera cluster needs
-- one on every table; the versions are the same on every backend). heat_converge_run and
-- heat_converge_stack have had theirs since V1; heat_converge_deleted (V4) gets an id.
-- SQLite cannot add a primary key to a table, so the table is made again with it and its
-- rows copied, each keeping its rowid as its id (the order they were written in). Applied
-- with its history row in one transaction, like every migration here.
CREATE TABLE heat_converge_deleted_v5 (
    id INTEGER PRIMARY KEY,
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

INSERT INTO heat_converge_deleted_v5
    (id, run_id, root_stack_id, stack_id, kind, row_id, uuid, name, type, physical_id,
     action, status, reason)
SELECT rowid, run_id, root_stack_id, stack_id, kind, row_id, uuid, name, type, physical_id,
       action, status, reason
FROM heat_converge_deleted;

DROP TABLE heat_converge_deleted;

ALTER TABLE heat_converge_deleted_v5 RENAME TO heat_converge_deleted;
