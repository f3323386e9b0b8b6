-- As converted_stacks.sql, for a record made before V4 (no traversal recorded).
SELECT run_id, stack_id, root_stack_id, NULL AS traversal
FROM heat_converge_stack
WHERE outcome = 'converted'
