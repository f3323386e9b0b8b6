-- Each stack gets its own new traversal.
UPDATE stack
SET convergence = :convergence,
    current_traversal = CASE id {cases: WHEN :id THEN :traversal} END,
    prev_raw_template_id = NULL
WHERE id IN ({each: :id})
