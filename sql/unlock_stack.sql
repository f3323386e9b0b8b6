DELETE FROM stack_lock WHERE stack_id = ? AND engine_id = ?
