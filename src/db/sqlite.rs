//! SQLite, through rusqlite.

use super::url::DbUrl;
use super::{Connection, Param, Row};
use anyhow::{bail, Result};
use rusqlite::types::{ToSqlOutput, ValueRef};
use serde_json::Value;

pub struct Sqlite(rusqlite::Connection);

impl Sqlite {
    pub fn connect(url: &DbUrl) -> Result<Sqlite> {
        let path = url.sqlite_path();
        if !path.exists() {
            bail!("no such SQLite file: {}", path.display());
        }
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Heat's own schema declares ON DELETE CASCADE; SQLite applies it only when asked.
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
        conn.busy_timeout(super::DEFAULT_LOCK_WAIT)?;
        Ok(Sqlite(conn))
    }
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Param::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

impl Connection for Sqlite {
    fn reads_while_writing(&self) -> bool {
        false
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        super::log_statement(sql);
        let mut stmt = self.0.prepare_cached(sql)?;
        let width = stmt.column_count();
        let columns: std::sync::Arc<[String]> = stmt.column_names().map(String::from).collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(width);
            for i in 0..width {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::from(n),
                    ValueRef::Real(f) => Value::from(f),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Value::String(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            each(Row::new(columns.clone(), row))?;
        }
        Ok(())
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        super::log_statement(sql);
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn bound_lock_waits(&mut self, wait: std::time::Duration) -> Result<()> {
        // SQLite locks the whole file: another writer makes every statement wait at most
        // this long, then fail with SQLITE_BUSY ("database is locked").
        self.0.busy_timeout(wait)?;
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        // IMMEDIATE: take the write lock now, so a busy database fails before any change.
        Ok(self.0.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn begin_snapshot(&mut self) -> Result<()> {
        // DEFERRED: the first read takes a shared lock, held (one moment) until the end.
        Ok(self.0.execute_batch("BEGIN DEFERRED")?)
    }

    fn commit(&mut self) -> Result<()> {
        Ok(self.0.execute_batch("COMMIT")?)
    }

    fn rollback(&mut self) -> Result<()> {
        Ok(self.0.execute_batch("ROLLBACK")?)
    }
}

impl super::history::Migrations for Sqlite {
    fn migrate(&mut self) -> Result<Vec<String>> {
        super::history::recover_interrupted_setup(self)?;
        // Grouped: every migration and its history row in one transaction, all or nothing.
        let mut runner = super::history::sqlite_migrations::migrations::runner().set_grouped(true);
        runner.set_migration_table_name(super::history::SCHEMA_HISTORY_TABLE);
        let report = runner.run(&mut self.0)?;
        super::own_schema::check(self)?;
        Ok(super::history::applied(report))
    }
}

/// The run lock is `flock` on a file next to the database, `<file>.heat-converge-lock`:
/// SQLite has no sessions to hold a lock, and a lock inside SQLite (a write transaction)
/// would stop Heat's engines for the whole run. The kernel releases it when the process
/// ends, however it ends; the file stays (removing it could let two runs lock two
/// different files).
impl Sqlite {
    fn run_lock_file(&self) -> Result<(std::path::PathBuf, std::fs::File)> {
        let db = match self.0.path() {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => bail!("an SQLite database without a file has no run lock"),
        };
        let path = std::path::PathBuf::from(format!("{db}.heat-converge-lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open the run lock {}: {e}", path.display()))?;
        Ok((path, file))
    }
}

impl super::identity::Identify for Sqlite {
    fn identity(&mut self) -> Result<super::identity::Identity> {
        match self.0.path() {
            Some(p) if !p.is_empty() => super::identity::sqlite_file(std::path::Path::new(p)),
            _ => bail!("an SQLite database without a file has no identity"),
        }
    }
}

impl super::indexes::Indexes for Sqlite {
    fn indexed(&mut self, table: &str, column: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) AS n FROM pragma_index_list(?) l, pragma_index_info(l.name) i \
                   WHERE i.seqno = 0 AND i.name = ?";
        let n = super::count(
            self,
            sql,
            &[Param::Text(table.into()), Param::Text(column.into())],
        )?;
        Ok(n > 0)
    }

    fn drop_index(&mut self, _table: &str, name: &str) -> Result<()> {
        self.execute(&format!("DROP INDEX IF EXISTS {name}"), &[])?;
        Ok(())
    }
}

impl super::RunLock for Sqlite {
    fn try_lock_run(&mut self) -> Result<Option<super::RunLockHeld>> {
        let (path, file) = self.run_lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(super::RunLockHeld::file(file))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                bail!("cannot lock {}: {e}", path.display())
            }
        }
    }

    fn lock_run(&mut self) -> Result<super::RunLockHeld> {
        // Polled, not a blocking flock: a stop signal ends the wait.
        loop {
            if let Some(held) = self.try_lock_run()? {
                return Ok(held);
            }
            super::waiting_for_run_lock()?;
        }
    }

    fn run_lock_name(&mut self) -> Result<String> {
        let (path, _) = self.run_lock_file()?;
        Ok(format!(
            "{} (flock on {})",
            self.0.path().unwrap_or_default(),
            path.display()
        ))
    }
}
