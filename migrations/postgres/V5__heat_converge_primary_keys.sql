-- Every table of heat-converge has a primary key (on MySQL/MariaDB a Galera cluster needs
-- one on every table; the versions are the same on every backend). heat_converge_run and
-- heat_converge_stack have had theirs since V1; heat_converge_deleted (V4) gets an
-- auto-increment id, its rows kept and numbered. Applied with its history row in one
-- transaction, like every migration here.
ALTER TABLE heat_converge_deleted ADD COLUMN id BIGSERIAL PRIMARY KEY;
