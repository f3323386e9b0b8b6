-- Each stack gets its own new traversal (the MySQL form is stack_convert_mysql.sql).
WITH v (id, traversal) AS (VALUES {each: (:id, :traversal)})
UPDATE stack
SET convergence = :convergence, current_traversal = v.traversal, prev_raw_template_id = NULL
FROM v
WHERE stack.id = v.id
