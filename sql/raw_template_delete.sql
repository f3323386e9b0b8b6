
DELETE FROM raw_template WHERE id IN ({each: :id})
