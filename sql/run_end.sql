UPDATE heat_converge_run
SET ended_at = ?, stacks_converted = ?, trees_converted = ?, trees_skipped = ?, trees_remaining = ?,
    stopped = ?
WHERE id = ?
