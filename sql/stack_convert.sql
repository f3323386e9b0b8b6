-- Each stack gets its own new traversal.
UPDATE stack
SET convergence = ?,
    current_traversal = CASE id {case} END,
    prev_raw_template_id = NULL
WHERE id IN ({ids})
