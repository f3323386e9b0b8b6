UPDATE heat_converge_run
SET ended_at = :ended_at, stacks_converted = :stacks_converted, trees_converted = :trees_converted,
    trees_skipped = :trees_skipped, trees_remaining = :trees_remaining, stopped = :stopped
WHERE id = :id
