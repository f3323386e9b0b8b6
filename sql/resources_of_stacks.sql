-- The resources of a batch of stacks (the id list is filled in by the loader).
SELECT id, name, stack_id, action, status, attr_data_id
FROM resource
WHERE stack_id IN ({ids})
