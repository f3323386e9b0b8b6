-- Heat's tables (of those named) on which the planner has no statistics: pg_stats, which
-- every user may read for the columns they may read, has no row of theirs (never
-- analyzed, or analyzed empty).
SELECT c.relname AS name
FROM pg_class c
WHERE c.relnamespace = to_regnamespace(current_schema())::oid
  AND c.relkind = 'r'
  AND c.relname IN ({each: :id})
  AND NOT EXISTS (SELECT 1 FROM pg_stats s
                  WHERE s.schemaname = current_schema() AND s.tablename = c.relname)
ORDER BY c.relname
