-- Resource rows by primary key, the columns of resources_of_stacks.sql (the id list is
-- filled in by the loader).
SELECT id, uuid, name, stack_id, action, status, nova_instance, attr_data_id
FROM resource
WHERE id IN ({each: :id})
