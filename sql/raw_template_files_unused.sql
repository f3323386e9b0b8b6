-- A files row goes with its template only when no other template still uses it.
SELECT raw_template_files.id AS id
FROM raw_template_files
WHERE raw_template_files.id IN ({each: :id})
  AND NOT EXISTS (SELECT 1 FROM raw_template WHERE raw_template.files_id = raw_template_files.id)
