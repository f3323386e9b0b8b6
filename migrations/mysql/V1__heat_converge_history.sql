-- heat-converge's own tables in Heat's database. Every name starts with heat_converge_
-- so none can clash with Heat's (refinery's history table is heat_converge_schema_history).

-- One row per run of heat-converge migrate.
CREATE TABLE heat_converge_run (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    started_at VARCHAR(32) NOT NULL,
    ended_at VARCHAR(32),
    tool_version VARCHAR(32) NOT NULL,
    host VARCHAR(255) NOT NULL,
    options TEXT NOT NULL,
    stacks_converted INTEGER,
    trees_converted INTEGER,
    trees_skipped INTEGER,
    trees_remaining INTEGER
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

-- One row per stack a run converted or left alone, with the reason.
CREATE TABLE heat_converge_stack (
    run_id VARCHAR(36) NOT NULL,
    stack_id VARCHAR(36) NOT NULL,
    root_stack_id VARCHAR(36) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    reason TEXT,
    resources_converted INTEGER NOT NULL,
    resources_deleted INTEGER NOT NULL,
    templates_deleted INTEGER NOT NULL,
    PRIMARY KEY (run_id, stack_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
