SELECT id, template, environment, files, files_id
FROM raw_template
WHERE id IN ({each: :id})
