
INSERT INTO heat_converge_deleted
    (run_id, root_stack_id, stack_id, kind, row_id, uuid, name, type, physical_id, action, status, reason)
VALUES {each: (:run_id, :root_stack_id, :stack_id, :kind, :row_id, :uuid, :name, :type, :physical_id, :action, :status, :reason)}
