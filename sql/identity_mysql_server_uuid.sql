-- The server's own id (MySQL 5.6+; MariaDB has no such variable and refuses this) and
-- the schema this session uses.
SELECT @@server_uuid AS server_uuid, DATABASE() AS db
