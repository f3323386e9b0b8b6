-- The resources of a batch of stacks (the id list is filled in by the loader).
SELECT id, uuid, name, stack_id, action, status, nova_instance, attr_data_id
FROM resource
WHERE stack_id IN ({each: :id})
