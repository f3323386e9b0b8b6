-- The rows one run deleted, as its audit records them (history --run).
SELECT root_stack_id, stack_id, kind, row_id, uuid, name, type, physical_id, action, status,
       reason
FROM heat_converge_deleted
WHERE run_id = :run_id
ORDER BY root_stack_id, stack_id, kind, row_id
