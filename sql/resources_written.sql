-- A stack's resources with what a conversion writes, for verify.
SELECT id, uuid, name, stack_id, action, status, status_reason, nova_instance, attr_data_id,
       requires, needed_by, current_template_id
FROM resource
WHERE stack_id = ?
