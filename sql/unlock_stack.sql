-- Releases one engine's lock on one stack (a stale lock taken over).
DELETE FROM stack_lock WHERE stack_id = :stack_id AND engine_id = :engine_id
