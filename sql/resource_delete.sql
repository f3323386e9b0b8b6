
DELETE FROM resource WHERE id IN ({each: :id})
