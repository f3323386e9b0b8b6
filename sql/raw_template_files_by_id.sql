SELECT files
FROM raw_template_files
WHERE id = ?
