-- Every table of heat-converge has a primary key: a Galera cluster replicates a DELETE or
-- UPDATE row by row and needs one to find the row on the other nodes, and a cluster with
-- wsrep_mode=REQUIRED_PRIMARY_KEY (MariaDB 10.6+; MySQL's sql_require_primary_key,
-- Percona's pxc_strict_mode do alike) refuses a table without one. heat_converge_run and
-- heat_converge_stack have had theirs since V1; heat_converge_deleted (V4) gets an
-- auto-increment id, its rows kept (numbered in the order they were written).
--
-- Written to be applied again from any point (MySQL/MariaDB commit each statement by
-- itself) and to work from both states V4 can leave:
-- * the table made by V4, without id: the id column is added;
-- * no table at all: a server that requires primary keys refused V4's CREATE TABLE
--   (heat-converge goes on past that one refusal, see src/db/mysql/migrations.rs; and an
--   older heat-converge recorded V4 without noticing it), so the table is created here,
--   with its id.
CREATE TABLE IF NOT EXISTS heat_converge_deleted (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    run_id VARCHAR(36) NOT NULL,
    root_stack_id VARCHAR(36) NOT NULL,
    stack_id VARCHAR(36) NOT NULL,
    -- resource, raw_template or raw_template_files
    kind VARCHAR(24) NOT NULL,
    row_id INTEGER NOT NULL,
    uuid VARCHAR(36),
    name VARCHAR(255),
    type VARCHAR(255),
    -- resource.nova_instance: the cloud resource the row pointed at
    physical_id VARCHAR(255),
    action VARCHAR(255),
    status VARCHAR(255),
    reason TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_bin;

-- MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB has): the ALTER is chosen by a query.
SET @heat_converge_v5 = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'heat_converge_deleted'
       AND column_name = 'id') = 0,
    'ALTER TABLE heat_converge_deleted ADD COLUMN id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST',
    'DO 0');
PREPARE heat_converge_v5 FROM @heat_converge_v5;
EXECUTE heat_converge_v5;
DEALLOCATE PREPARE heat_converge_v5;
