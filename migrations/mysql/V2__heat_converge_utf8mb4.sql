-- Every text column of heat-converge's tables takes any Unicode value: V1 made them
-- `utf8` (utf8mb3, 3 bytes a character), which rejects an emoji. CONVERT TO changes every
-- text column of a table at once; options and reason stay TEXT (65,535 bytes, the bound
-- heat-converge cuts them to) instead of the MEDIUMTEXT CONVERT TO would choose.
--
-- Written to be applied again from any point: MySQL/MariaDB commit each statement by
-- itself, so a run killed here leaves some tables converted and V2 unrecorded, and the
-- next run converts them all again (converting a converted table changes nothing).
ALTER TABLE heat_converge_run
    CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    MODIFY options TEXT NOT NULL;

ALTER TABLE heat_converge_stack
    CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    MODIFY reason TEXT;

ALTER TABLE heat_converge_schema_history
    CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
