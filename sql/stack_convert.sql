UPDATE stack SET convergence = ?, current_traversal = ?, prev_raw_template_id = NULL WHERE id = ?
