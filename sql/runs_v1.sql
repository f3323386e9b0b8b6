-- As runs.sql, for a record made before V3 (no stopped recorded).
SELECT id, started_at, ended_at, tool_version, host, options,
       stacks_converted, trees_converted, trees_skipped, trees_remaining, NULL AS stopped
FROM heat_converge_run
ORDER BY started_at DESC, id DESC
