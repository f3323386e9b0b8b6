-- The stored templates among these ids, each with the files row it uses (if any).
SELECT id, files_id
FROM raw_template
WHERE id IN ({each: :id})
