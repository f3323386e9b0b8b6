-- What the server says a row of each table weighs (InnoDB's estimate: data length over
-- rows), for an estimate of a transaction's write-set; with the rows it is over (a table
-- of a few rows weighs a whole page a row by this measure).
SELECT table_name AS name, avg_row_length AS row_bytes, table_rows AS row_count
FROM information_schema.tables
WHERE table_schema = DATABASE()
