-- stack_convert.sql for MySQL and MariaDB: a CASE, not a join with a derived table, since
-- a derived table's text is in the connection's character set, and comparing Heat's
-- stack.id (often utf8mb3) with it would keep the server from its primary key.
UPDATE stack
SET convergence = :convergence,
    current_traversal = CASE id {cases: WHEN :id THEN :traversal} END,
    prev_raw_template_id = NULL
WHERE id IN ({each: :id})
