-- What each run recorded of the stacks it looked at, by outcome (history): a tree's own
-- row is its root's, so trees are the rows whose stack is their root.
SELECT run_id, outcome,
       COUNT(CASE WHEN stack_id = root_stack_id THEN 1 END) AS trees,
       COUNT(*) AS stacks
FROM heat_converge_stack
GROUP BY run_id, outcome
