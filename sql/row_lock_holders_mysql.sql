-- Who may hold the rows heat-converge must change (MariaDB/MySQL): InnoDB tells which
-- transaction holds a given row only while someone waits for it, so these are the open
-- transactions of other sessions that hold row locks now. Needs the PROCESS privilege
-- (without it the list is empty). No query text: another session's SQL may hold data.
SELECT t.trx_mysql_thread_id AS thread,
       COALESCE(p.USER, '?') AS user,
       COALESCE(p.HOST, '?') AS host,
       DATE_FORMAT(t.trx_started, '%Y-%m-%d %H:%i:%s') AS since,
       t.trx_rows_locked AS rows_locked
FROM information_schema.INNODB_TRX t
LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
WHERE t.trx_mysql_thread_id <> CONNECTION_ID() AND t.trx_rows_locked > 0
ORDER BY t.trx_started
