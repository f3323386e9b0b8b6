-- The cluster's id, set by initdb and kept by every copy of its files (a replica has its
-- primary's), and the database of this session. pg_control_system() is granted to
-- PUBLIC by default (PostgreSQL 9.6 and later); a server may revoke it.
SELECT CAST(system_identifier AS TEXT) AS system_identifier, current_database() AS db
FROM pg_control_system()
