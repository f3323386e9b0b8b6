-- The files row a stored template uses, if any.
SELECT files_id
FROM raw_template
WHERE id = ?
