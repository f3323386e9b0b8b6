DELETE FROM resource_properties_data WHERE id IN ({ids})
