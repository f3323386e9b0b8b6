-- Where every resource row is: its id and its stack, nothing else. One pass over the
-- table (PostgreSQL and SQLite: a sequential scan; MySQL: its stack_id index alone), so
-- that a read-only run can then read each batch's resources by primary key.
SELECT id, stack_id
FROM resource
