-- The stacks one run recorded, each tree's together, the converted trees first (history --run).
SELECT stack_id, root_stack_id, outcome, reason, resources_converted, resources_deleted,
       templates_deleted
FROM heat_converge_stack
WHERE run_id = :run_id
ORDER BY outcome, root_stack_id, stack_id
