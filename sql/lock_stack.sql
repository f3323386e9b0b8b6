-- Heat's own stack lock, taken for the conversion as heat-engine takes it, one row per stack.
INSERT INTO stack_lock (stack_id, engine_id) VALUES {each: (:stack_id, :engine_id)}
