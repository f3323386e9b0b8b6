SELECT stack_id, engine_id FROM stack_lock
