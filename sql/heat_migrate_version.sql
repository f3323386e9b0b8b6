-- Heat's schema version up to 2023.1 (sqlalchemy-migrate): the version of Heat's
-- repository (the parameter is its repository_id). A database db_sync moved on to
-- alembic keeps this table too; alembic_version is read first.
SELECT version FROM migrate_version WHERE repository_id = ?
