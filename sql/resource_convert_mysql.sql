-- resource_convert.sql for MySQL and MariaDB, which update through a join with a derived
-- table (they have no UPDATE ... FROM).
UPDATE resource
JOIN ({union: SELECT :id AS id, :template_id AS template_id, :requires AS requires, :needed_by AS needed_by}) AS v
  ON resource.id = v.id
SET resource.current_template_id = v.template_id,
    resource.requires = v.requires,
    resource.needed_by = v.needed_by
