-- Where the server says it runs (MariaDB has no @@server_uuid): its host name and port,
-- and the schema this session uses.
SELECT @@hostname AS hostname, @@port AS port, DATABASE() AS db
