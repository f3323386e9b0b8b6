-- How many rows of each kind each run deleted, as its audit records them (history).
SELECT run_id, kind, COUNT(*) AS n
FROM heat_converge_deleted
GROUP BY run_id, kind
