-- Heat's own stack lock, taken for the conversion as heat-engine takes it.
INSERT INTO stack_lock (stack_id, engine_id) VALUES (?, ?)
