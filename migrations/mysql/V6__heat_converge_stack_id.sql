-- heat_converge_stack is keyed by an auto-increment id, not by (run_id, stack_id): stack
-- ids are random UUIDs, so every batch of records landed all over the table (InnoDB
-- keeps a table's rows in its primary key's order; at 100,000 roots on SQLite that key
-- was a third of the time a run spent writing). An id that grows appends. Nothing needs
-- the old key to be unique: a run records each stack once, and the tool reads these rows
-- only whole or by run (history, verify). The rows there are numbered in key order.
--
-- Written to be applied again from any point (MySQL/MariaDB commit each statement by
-- itself): the key changes in one ALTER, which InnoDB applies whole or not at all
-- (atomic DDL), and only while the table has no id column. A table without a primary
-- key at any moment would be refused by a Galera cluster that requires one.
SET @heat_converge_v6 = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'heat_converge_stack'
       AND column_name = 'id') = 0,
    'ALTER TABLE heat_converge_stack DROP PRIMARY KEY, ADD COLUMN id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST',
    'DO 0');
PREPARE heat_converge_v6 FROM @heat_converge_v6;
EXECUTE heat_converge_v6;
DEALLOCATE PREPARE heat_converge_v6;
