-- A stored template with its environment and files (inline or through files_id).
SELECT id, template, environment, files, files_id
FROM raw_template
WHERE id = ?
