DELETE FROM raw_template WHERE id = ?
