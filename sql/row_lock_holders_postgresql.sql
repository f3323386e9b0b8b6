-- Who holds the rows heat-converge must change (PostgreSQL): a row locked or changed by
-- an open transaction carries that transaction's id in xmax; pg_stat_activity names its
-- session. {table} is one of heat-converge's own constants (stack, resource, raw_template).
SELECT t.id::text AS row_id,
       a.pid AS pid,
       a.usename AS usename,
       a.application_name AS application,
       COALESCE(host(a.client_addr), 'local socket') AS client,
       to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ') AS since
FROM {table} t
JOIN pg_stat_activity a ON a.backend_xid = t.xmax
WHERE t.id IN ({each: :id})
