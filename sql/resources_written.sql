-- Resource rows by primary key with what a conversion writes, for verify (the id list is
-- filled in by the loader).
SELECT id, uuid, name, stack_id, action, status, status_reason, nova_instance, attr_data_id,
       requires, needed_by, current_template_id
FROM resource
WHERE id IN ({each: :id})
