-- Every run heat-converge recorded, newest first (history). stopped came with V3: a record
-- older than that is read with runs_v1.sql.
SELECT id, started_at, ended_at, tool_version, host, options,
       stacks_converted, trees_converted, trees_skipped, trees_remaining, stopped
FROM heat_converge_run
ORDER BY started_at DESC, id DESC
