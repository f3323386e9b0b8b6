-- Each resource gets its stack's current template (checked under the lock to be the one
-- planned) and its own requires and needed_by: many rows a statement, their values a list
-- joined to the table (a CASE per column is searched row by row: its cost grows with the
-- square of its length). The MySQL form is resource_convert_mysql.sql.
WITH v (id, template_id, requires, needed_by) AS (
  VALUES {each: (CAST(:id AS INTEGER), CAST(:template_id AS INTEGER), :requires, :needed_by)}
)
UPDATE resource
SET current_template_id = v.template_id, requires = v.requires, needed_by = v.needed_by
FROM v
WHERE resource.id = v.id
