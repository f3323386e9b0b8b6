DELETE FROM resource WHERE id IN ({ids})
