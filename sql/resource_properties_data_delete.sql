
DELETE FROM resource_properties_data WHERE id IN ({each: :id})
