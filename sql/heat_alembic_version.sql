-- Heat's schema revision since 2023.2 (alembic): one row, the head revision db_sync
-- reached. Fails when the table is not there (Heat 2023.1 and older).
SELECT version_num FROM alembic_version
