-- Whether the server is a Galera node, and its limits on one transaction's write-set (0:
-- none); a server without Galera has none of these variables (no rows). SHOW is what
-- MariaDB and MySQL 8 both answer (their variables tables differ).
SHOW GLOBAL VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_max_ws_rows', 'wsrep_max_ws_size')
