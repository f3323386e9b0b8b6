SELECT id, files
FROM raw_template_files
WHERE id IN ({each: :id})
