
INSERT INTO heat_converge_stack
    (run_id, stack_id, root_stack_id, outcome, reason, resources_converted, resources_deleted, templates_deleted, traversal)
VALUES {each: (:run_id, :stack_id, :root_stack_id, :outcome, :reason, :resources_converted, :resources_deleted, :templates_deleted, :traversal)}
