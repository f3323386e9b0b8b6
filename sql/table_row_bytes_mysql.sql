-- What the server says a row of each table weighs (InnoDB's estimate: data length over
-- rows), for an estimate of a transaction's write-set.
SELECT table_name AS name, avg_row_length AS row_bytes
FROM information_schema.tables
WHERE table_schema = DATABASE()
