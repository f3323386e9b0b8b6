DELETE FROM resource WHERE id = ?
