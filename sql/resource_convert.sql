-- Each resource gets its stack's current template (the stack row, checked under the lock
-- to hold the planned one) and its own requires and needed_by.
UPDATE resource
SET current_template_id = (SELECT stack.raw_template_id FROM stack WHERE stack.id = resource.stack_id),
    requires = CASE id {cases: WHEN :id THEN :requires} END,
    needed_by = CASE id {cases: WHEN :id THEN :needed_by} END
WHERE id IN ({each: :id})
