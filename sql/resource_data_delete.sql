
DELETE FROM resource_data WHERE resource_id IN ({each: :id})
