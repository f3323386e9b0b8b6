-- Every stack heat-converge converted, with the traversal it was given.
SELECT run_id, stack_id, root_stack_id, traversal
FROM heat_converge_stack
WHERE outcome = 'converted'
