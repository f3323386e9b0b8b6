-- resource_convert.sql for MySQL and MariaDB, which have no UPDATE ... FROM: a CASE per
-- column (kept short: see apply.rs). Not a join with a derived table of the rows: a
-- MariaDB Galera node with wsrep_max_ws_rows set refuses that statement outright (error
-- 4165, "Galera replication not supported").
UPDATE resource
SET current_template_id = CASE id {cases: WHEN :id THEN :template_id} END,
    requires = CASE id {cases: WHEN :id THEN :requires} END,
    needed_by = CASE id {cases: WHEN :id THEN :needed_by} END
WHERE id IN ({each: :id})
