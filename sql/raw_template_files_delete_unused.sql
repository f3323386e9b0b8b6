-- A files row goes with its template only when no other template still uses it.
DELETE FROM raw_template_files
WHERE id = ? AND NOT EXISTS (SELECT 1 FROM raw_template WHERE files_id = ?)
