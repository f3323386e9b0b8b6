UPDATE resource SET current_template_id = ?, requires = ?, needed_by = ? WHERE id = ?
