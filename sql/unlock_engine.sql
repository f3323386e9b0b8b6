-- Releases every lock the conversion took (its engine id is its own).
DELETE FROM stack_lock WHERE engine_id = :engine_id
