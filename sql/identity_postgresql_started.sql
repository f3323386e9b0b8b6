-- The server, when pg_control_system() is refused: when its postmaster started and on
-- which port (both readable by every user; a restart changes the first), and the
-- database of this session. Not its address: 127.0.0.1 and localhost (::1) differ.
SELECT CAST(pg_postmaster_start_time() AS TEXT) AS started, current_setting('port') AS port,
       current_database() AS db
